//! The proxy's client for relayed requests: hyper's pooled client (HTTP/1.1, and HTTP/2
//! over TLS when the upstream offers it) under the same address policy as
//! [`crate::upstream_client`] — names checked by the resolver, every new connection's
//! peer checked before a byte of HTTP is written — and the hop header on every request.
//!
//! The relay sends one request per proxied message, so the general-purpose client's
//! layers (URL re-parsing, redirect bookkeeping, default-header merging, a boxed
//! connector cloned per request) were a measurable share of the proxy's CPU per call
//! (docs/benchmarks.md); this client does only what the relay needs. Plain-HTTP
//! upstreams go through a thinner pool still ([`plain`]); HTTPS ones (TLS, and HTTP/2
//! when offered) through hyper_util's pooled client. Discovery and the OAuth flows keep
//! `reqwest` ([`crate::upstream_client`]).

mod plain;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::uri::Scheme;
use http::{Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::connect::{ConnectGuard, HOP_HEADER};
use crate::resolve::{resolve_checked, system_lookup, Lookup};
use crate::AddressPolicy;
use plain::{PlainError, PlainPool};

type Connector = hyper_rustls::HttpsConnector<ConnectGuard<HttpConnector<CheckedNames>>>;

/// The relay's upstream client; cheap to clone (clones share its pools).
#[derive(Clone)]
pub struct RelayClient {
    /// `https://` upstreams.
    client: Client<Connector, Full<Bytes>>,
    /// `http://` upstreams.
    plain: Arc<PlainPool>,
    hop: HeaderValue,
    /// What [`RelayClient::with_own_pool`] builds other pools from.
    connector: Connector,
    lookup: Lookup,
    policy: AddressPolicy,
    settings: RelayClientSettings,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient").finish_non_exhaustive()
    }
}

/// How the relay's connections are made and kept.
#[derive(Debug, Clone, Copy)]
pub struct RelayClientSettings {
    /// Time to establish a TCP connection.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
}

/// The relay could not get a response.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RelayError(Failure);

#[derive(Debug, thiserror::Error)]
enum Failure {
    // Transparent both: an error chain names each cause once.
    #[error(transparent)]
    Pooled(#[from] hyper_util::client::legacy::Error),
    #[error(transparent)]
    Plain(#[from] PlainError),
}

impl RelayError {
    /// Whether connecting timed out.
    pub fn is_timeout(&self) -> bool {
        let pooled = match &self.0 {
            Failure::Plain(plain) => return plain.is_timeout(),
            Failure::Pooled(pooled) => pooled,
        };
        let mut source = std::error::Error::source(pooled);
        while let Some(cause) = source {
            if cause
                .downcast_ref::<io::Error>()
                .is_some_and(|error| error.kind() == io::ErrorKind::TimedOut)
            {
                return true;
            }
            source = cause.source();
        }
        false
    }
}

impl RelayClient {
    /// A client that reaches only what `policy` allows, marking requests `Mcp-Gate-Hop: hop`.
    pub fn new(policy: AddressPolicy, hop: &'static str, settings: RelayClientSettings) -> Self {
        Self::with_lookup(policy, system_lookup(), hop, settings)
    }

    pub(crate) fn with_lookup(
        policy: AddressPolicy,
        lookup: Lookup,
        hop: &'static str,
        settings: RelayClientSettings,
    ) -> Self {
        let mut http = HttpConnector::new_with_resolver(CheckedNames {
            lookup: Arc::clone(&lookup),
            policy: policy.clone(),
        });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        let guarded = ConnectGuard::new(http, policy.clone());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config())
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(guarded);
        Self {
            client: pooled(connector.clone(), settings),
            plain: Arc::new(PlainPool::new(
                Arc::clone(&lookup),
                policy.clone(),
                settings,
            )),
            hop: HeaderValue::from_static(hop),
            connector,
            lookup,
            policy,
            settings,
        }
    }

    /// The same client with a pool of its own: the connections it opens are driven by
    /// tasks of the runtime that opens them, so a runtime using only its own pool never
    /// wakes another thread for an upstream's answer.
    pub fn with_own_pool(&self) -> Self {
        Self {
            client: pooled(self.connector.clone(), self.settings),
            plain: Arc::new(PlainPool::new(
                Arc::clone(&self.lookup),
                self.policy.clone(),
                self.settings,
            )),
            ..self.clone()
        }
    }

    /// Sends one request; `headers` are sent as given, plus the hop header.
    pub async fn send(
        &self,
        method: Method,
        uri: Uri,
        mut headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response<Incoming>, RelayError> {
        headers.insert(HeaderName::from_static(HOP_HEADER), self.hop.clone());
        let mut request = Request::new(Full::new(body.unwrap_or_default()));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        if request.uri().scheme() == Some(&Scheme::HTTP) {
            return self
                .plain
                .send(request)
                .await
                .map_err(|e| RelayError(e.into()));
        }
        self.client
            .request(request)
            .await
            .map_err(|e| RelayError(e.into()))
    }
}

fn pooled(connector: Connector, settings: RelayClientSettings) -> Client<Connector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(settings.pool_idle_timeout)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
}

/// TLS as the rest of mcpgate's upstream clients: rustls (ring) with the Mozilla roots.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// hyper's resolver, with the address policy: a name that is refused, or that resolves
/// to any refused address, fails before a connection is tried.
#[derive(Clone)]
pub(crate) struct CheckedNames {
    lookup: Lookup,
    policy: AddressPolicy,
}

impl tower::Service<Name> for CheckedNames {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let (lookup, policy) = (Arc::clone(&self.lookup), self.policy.clone());
        Box::pin(async move {
            let addresses = resolve_checked(&lookup, &policy, name.as_str())
                .await?
                .map_err(io::Error::other)?;
            // The connector sets the URL's port.
            let addresses: Vec<SocketAddr> = addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            Ok(addresses.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn settings() -> RelayClientSettings {
        RelayClientSettings {
            connect_timeout: Duration::from_secs(2),
            pool_idle_timeout: Duration::from_secs(10),
        }
    }

    fn error_text(error: &RelayError) -> String {
        crate::error_chain(error)
    }

    /// Both pools' failures read as one chain, each cause once.
    #[tokio::test]
    async fn a_failed_upstream_names_each_cause_once_over_http_and_https() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let client = RelayClient::new(AddressPolicy::new(true), "test", settings());
        for scheme in ["http", "https"] {
            let uri: Uri = format!("{scheme}://{address}/mcp").parse().unwrap();
            let error = client
                .send(Method::POST, uri, HeaderMap::new(), None)
                .await
                .expect_err("nothing listens there");
            let text = error_text(&error);
            let causes: Vec<&str> = text.split(": ").collect();
            assert!(causes.len() > 1, "{scheme}: the cause is named: {text}");
            assert!(
                causes.windows(2).all(|pair| pair[0] != pair[1]),
                "{scheme}: a cause repeated: {text}"
            );
            assert!(!error.is_timeout(), "{scheme}: refused, not timed out");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_before_connecting() {
        let lookup: Lookup =
            Arc::new(|_| Box::pin(async { Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]) }));
        let client =
            RelayClient::with_lookup(AddressPolicy::new(false), lookup, "test", settings());
        let uri: Uri = "http://rebinding.example:8080/mcp".parse().unwrap();
        let error = client
            .send(Method::POST, uri, HeaderMap::new(), None)
            .await
            .expect_err("loopback must be refused");
        let text = error_text(&error);
        assert!(text.contains("rebinding.example (127.0.0.1)"), "{text}");
    }

    #[tokio::test]
    async fn a_loopback_literal_is_refused_at_connect_time_and_an_allowed_one_answers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/mcp",
            axum::routing::post(|headers: HeaderMap| async move {
                headers
                    .get(HOP_HEADER)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let uri: Uri = format!("http://{address}/mcp").parse().unwrap();

        let strict = RelayClient::new(AddressPolicy::new(false), "test", settings());
        let error = strict
            .send(Method::POST, uri.clone(), HeaderMap::new(), None)
            .await
            .expect_err("a private peer must be refused");
        assert!(
            error_text(&error).contains("127.0.0.1"),
            "{}",
            error_text(&error)
        );

        let open = RelayClient::new(AddressPolicy::new(true), "hop-1", settings());
        let response = open
            .send(
                Method::POST,
                uri,
                HeaderMap::new(),
                Some(Bytes::from_static(b"{}")),
            )
            .await
            .expect("an allowed upstream answers");
        assert_eq!(response.status(), 200);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"hop-1", "the hop header reaches the upstream");
    }
}
