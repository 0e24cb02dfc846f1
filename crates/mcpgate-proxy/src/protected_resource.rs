//! Each proxy URL is an OAuth protected resource (RFC 9728, MCP 2026-07-28
//! `basic/authorization`): its metadata names the API as the authorization server, every
//! 401 on it points there (`WWW-Authenticate: Bearer resource_metadata="…"`), and an access
//! token issued for one proxy URL is refused on any other ([`Resources::is_resource_of`]).
//!
//! The resource of server `S` is `{public URL}/mcp/S`, without the trailing slash the
//! dashboard shows, so it is a prefix of both forms a client may connect to (the SDKs
//! accept metadata whose resource is a path prefix of the URL they were given). Its
//! metadata is at the path-insertion form, `{origin}/.well-known/oauth-protected-resource
//! {public path}/mcp/S`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower::Service;

/// Where the well-known metadata of every proxy URL lives.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The proxy URLs as protected resources, and who authorizes them.
#[derive(Debug, Clone)]
pub(crate) struct Resources {
    /// `MCPGATE_PUBLIC_PROXY_URL` without a trailing slash.
    public_url: String,
    /// `scheme://host[:port]` of it.
    origin: String,
    /// Its path, without a trailing slash (empty at the root).
    path: String,
    /// The authorization server's issuer (the API's public URL); `None`: no OAuth, the
    /// proxy answers as before.
    issuer: Option<String>,
}

impl Resources {
    pub(crate) fn new(public_url: &str, issuer: Option<&str>) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        let (origin, path) = match url::Url::parse(&public_url) {
            Ok(url) => (
                url.origin().ascii_serialization(),
                url.path().trim_end_matches('/').to_owned(),
            ),
            Err(_) => (public_url.clone(), String::new()),
        };
        Self {
            public_url,
            origin,
            path,
            issuer: issuer.map(str::to_owned),
        }
    }

    /// The resource identifier of a server's proxy URL.
    pub(crate) fn resource(&self, server_id: &str) -> String {
        format!("{}/mcp/{server_id}", self.public_url)
    }

    /// Whether `audience` (an access token's resource) is this server's proxy URL; a
    /// trailing slash is the same resource. No allocation: it runs per request.
    pub(crate) fn is_resource_of(&self, audience: &str, server_id: &str) -> bool {
        audience
            .strip_prefix(self.public_url.as_str())
            .and_then(|rest| rest.strip_prefix("/mcp/"))
            .map(|rest| rest.strip_suffix('/').unwrap_or(rest))
            .is_some_and(|id| id == server_id)
    }

    fn metadata_url(&self, server_id: &str) -> String {
        format!("{}{WELL_KNOWN}{}/mcp/{server_id}", self.origin, self.path)
    }
}

/// `GET /.well-known/oauth-protected-resource/{*path}`, answered only when OAuth is on.
pub(crate) fn router(resources: Resources) -> Router {
    Router::new()
        .route(&format!("{WELL_KNOWN}/{{*path}}"), get(metadata))
        .with_state(resources)
}

async fn metadata(State(resources): State<Resources>, Path(path): Path<String>) -> Response {
    let Some(issuer) = &resources.issuer else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // `{public path}/mcp/{server}`: only the server id matters (one uuid, nothing else).
    let server = path
        .trim_end_matches('/')
        .rsplit_once("mcp/")
        .map(|(_, id)| id)
        .filter(|id| uuid::Uuid::parse_str(id).is_ok());
    let Some(server) = server else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let body = json!({
        "resource": resources.resource(server),
        "authorization_servers": [issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": "mcpgate proxy",
    });
    ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(body)).into_response()
}

/// Adds `resource_metadata="…"` to every 401 of a proxy URL, before the parameters the
/// refusal already carries (RFC 9728 §5.1); the JSON body stays as it is. A plain tower
/// service around the whole router (it looks at `/mcp/{server}` paths only), with a
/// concrete future: `from_fn` would box the futures of the stack on every request.
#[derive(Debug, Clone)]
pub(crate) struct Challenge<S> {
    pub(crate) inner: S,
    pub(crate) resources: Arc<Resources>,
}

impl<S> Service<Request> for Challenge<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Challenged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let server = self
            .resources
            .issuer
            .is_some()
            .then(|| challenged_server(request.uri().path()).map(str::to_owned))
            .flatten();
        Challenged {
            answer: self.inner.call(request),
            server: server.map(|server| (server, Arc::clone(&self.resources))),
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`Challenge`]'s inner service, with the challenge added to a 401
    /// when `server` is set.
    pub(crate) struct Challenged<F> {
        #[pin]
        answer: F,
        // The server id as the path spells it: the metadata's resource must be a prefix
        // of the URL the client was given.
        server: Option<(String, Arc<Resources>)>,
    }
}

impl<F> Future for Challenged<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = ready!(this.answer.poll(cx));
        if let Some((server, resources)) = this.server.take() {
            if response.status() == StatusCode::UNAUTHORIZED {
                resources.add_challenge(&server, &mut response);
            }
        }
        Poll::Ready(Ok(response))
    }
}

/// The server of a proxy URL (`/mcp/{uuid}[/…]`), whose 401s get the challenge.
fn challenged_server(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/mcp/")?;
    let id = rest.split('/').next().unwrap_or(rest);
    uuid::Uuid::parse_str(id).is_ok().then_some(id)
}

impl Resources {
    fn add_challenge(&self, server: &str, response: &mut Response) {
        let headers = response.headers_mut();
        let existing = headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|params| format!(", {params}"))
            .unwrap_or_default();
        let value = format!(
            r#"Bearer resource_metadata="{}"{existing}"#,
            self.metadata_url(server)
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "0193a9e8-1111-7222-8333-944445555666";

    #[test]
    fn the_resource_and_its_metadata_url_follow_the_public_url() {
        let root = Resources::new(
            "https://proxy.example.com/",
            Some("https://api.example.com/"),
        );
        assert_eq!(
            root.resource(SERVER),
            format!("https://proxy.example.com/mcp/{SERVER}")
        );
        assert_eq!(
            root.metadata_url(SERVER),
            format!("https://proxy.example.com/.well-known/oauth-protected-resource/mcp/{SERVER}")
        );
        let prefixed = Resources::new("https://example.com/gate", None);
        assert_eq!(
            prefixed.metadata_url(SERVER),
            format!("https://example.com/.well-known/oauth-protected-resource/gate/mcp/{SERVER}")
        );
    }

    /// The challenge wraps the whole router: only a 401 of a proxy URL gets it, and only
    /// when OAuth is on; the refusal's own parameters stay after it.
    #[tokio::test]
    async fn only_a_proxy_urls_401_gets_the_challenge() {
        use tower::ServiceExt;
        let refuse = tower::service_fn(|request: Request| async move {
            let status = if request.uri().path().ends_with("/ok") {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            let mut response = status.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
            Ok::<_, Infallible>(response)
        });
        let answer = |issuer: Option<&str>, path: &str| {
            let service = Challenge {
                inner: refuse,
                resources: Arc::new(Resources::new("https://proxy.example.com", issuer)),
            };
            let request = Request::builder()
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap();
            async move {
                let response = service.oneshot(request).await.unwrap();
                response.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let issuer = Some("https://api.example.com");
        let plain = r#"Bearer error="invalid_token""#;
        let metadata =
            format!("https://proxy.example.com/.well-known/oauth-protected-resource/mcp/{SERVER}");
        assert_eq!(
            answer(issuer, &format!("/mcp/{SERVER}/")).await,
            format!(r#"Bearer resource_metadata="{metadata}", error="invalid_token""#)
        );
        assert_eq!(
            answer(issuer, &format!("/mcp/{SERVER}/sse")).await,
            format!(r#"Bearer resource_metadata="{metadata}", error="invalid_token""#)
        );
        let upper = SERVER.to_uppercase();
        assert!(
            answer(issuer, &format!("/mcp/{upper}/"))
                .await
                .contains(&format!("oauth-protected-resource/mcp/{upper}\"")),
            "the metadata URL keeps the server id as the client's URL spells it"
        );
        assert_eq!(answer(issuer, &format!("/mcp/{SERVER}/ok")).await, plain);
        assert_eq!(answer(issuer, "/mcp/not-a-server/").await, plain);
        assert_eq!(answer(issuer, "/metrics").await, plain);
        assert_eq!(answer(None, &format!("/mcp/{SERVER}/")).await, plain);
    }

    #[test]
    fn an_audience_is_only_the_resource_of_its_own_server() {
        let resources = Resources::new("https://proxy.example.com", None);
        let own = resources.resource(SERVER);
        assert!(resources.is_resource_of(&own, SERVER));
        assert!(resources.is_resource_of(&format!("{own}/"), SERVER));
        let other = "0193a9e8-1111-7222-8333-999999999999";
        assert!(!resources.is_resource_of(&own, other));
        assert!(!resources.is_resource_of(
            &format!("https://elsewhere.example.com/mcp/{SERVER}"),
            SERVER
        ));
        assert!(!resources.is_resource_of(&format!("{own}/extra"), SERVER));
    }
}
