//! The flow over plain HTTP, for what an SDK will not do on purpose: a redirect URI it did
//! not register, a wrong PKCE verifier, a code used twice, an expired access token; and
//! the metadata, Client ID Metadata Documents and the tenant's switch for registrations.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mcpgate_auth::{GrantClaims, ServerScope};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::member::{browser, input_value, Member};
use super::{status_with, time_until_refused, world};

/// RFC 7636 Appendix B: a verifier and its S256 challenge.
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(super) const REDIRECT: &str = "http://127.0.0.1:33420/callback";

/// Registers a client (DCR) with one redirect URI: its client id.
pub(super) async fn register(app: &mcpgate_testkit::TestApp, name: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.api_url("/oauth/register"))
        .json(&json!({"client_name": name, "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "client_secret_post"}))
        .send()
        .await
        .expect("the registration endpoint answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "none", "{body}");
    body["client_id"].as_str().expect("a client id").to_owned()
}

pub(super) fn authorize_url(
    app: &mcpgate_testkit::TestApp,
    client_id: &str,
    redirect: &str,
    resource: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "st4te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", resource),
        ])
        .finish();
    app.api_url(&format!("/oauth/authorize?{query}"))
}

/// A query parameter of a URL.
pub(super) fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub(super) async fn token_request(
    app: &mcpgate_testkit::TestApp,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.api_url("/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

pub(super) async fn exchange(
    app: &mcpgate_testkit::TestApp,
    code: &str,
    client_id: &str,
    verifier: &str,
    redirect: &str,
) -> (StatusCode, Value) {
    token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("code_verifier", verifier),
            ("redirect_uri", redirect),
        ],
    )
    .await
}

/// The proxy URL as a resource: without the dashboard's trailing slash.
pub(super) fn resource(proxy_url: &str) -> String {
    proxy_url.trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn the_proxy_names_the_api_as_authorization_server_and_the_api_describes_itself() {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let prm_url = app.proxy_url(&format!(
        "/.well-known/oauth-protected-resource/mcp/{}",
        world.server.id
    ));
    let prm: Value = reqwest::get(&prm_url).await.unwrap().json().await.unwrap();
    assert_eq!(prm["resource"], resource(&world.server.proxy_url), "{prm}");
    let issuer = prm["authorization_servers"][0]
        .as_str()
        .expect("an authorization server")
        .to_owned();
    assert_eq!(
        issuer,
        format!("{}/", app.api_url("")),
        "the API's public URL"
    );
    let metadata: Value = reqwest::get(format!("{issuer}.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], issuer.as_str(), "{metadata}");
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(metadata["token_endpoint"], app.api_url("/oauth/token"));

    // A static grant token keeps working exactly as before, and a refused one keeps its body.
    let grant = world.member.tenant.grant("static", &world.server).await;
    assert_eq!(
        status_with(&world.server.proxy_url, &grant.token).await,
        StatusCode::OK
    );
    let refused = super::post(
        &reqwest::Client::new(),
        &world.server.proxy_url,
        "not-a-token",
        None,
        super::initialize_body(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{prm_url}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], -32600,
        "the JSON-RPC error body as before: {body}"
    );
}

#[tokio::test]
async fn a_redirect_uri_the_client_did_not_register_gets_a_page_and_no_redirect() {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let client = register(&app, "Careful Client").await;
    let url = authorize_url(
        &app,
        &client,
        "http://127.0.0.1:9/elsewhere",
        &resource(&world.server.proxy_url),
    );
    let answer = world.member.get(&url).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(
        answer.headers().get(LOCATION).is_none(),
        "no redirect to an unregistered URI"
    );
    let html = answer.text().await.unwrap();
    assert!(
        html.contains("is not one Careful Client registered"),
        "{html}"
    );
    // The same request with its registered URI reaches the consent page, naming the client.
    let good = world
        .member
        .get(&authorize_url(
            &app,
            &client,
            REDIRECT,
            &resource(&world.server.proxy_url),
        ))
        .await;
    assert_eq!(good.status(), StatusCode::OK);
    let html = good.text().await.unwrap();
    assert!(html.contains("Connect Careful Client to k8s?"), "{html}");
}

#[tokio::test]
async fn a_code_is_single_use_bound_to_its_verifier_and_redirect_uri_and_reuse_revokes_the_grant() {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let client = register(&app, "Flow Client").await;
    let url = authorize_url(&app, &client, REDIRECT, &resource(&world.server.proxy_url));
    let code = |callback: String| {
        assert_eq!(param(&callback, "state").as_deref(), Some("st4te"));
        assert_eq!(
            param(&callback, "iss"),
            Some(format!("{}/", app.api_url("")))
        );
        param(&callback, "code").expect("a code")
    };

    let wrong_verifier = VERIFIER.replace('d', "e");
    let (status, body) = exchange(
        &app,
        &code(world.member.allow(&url).await),
        &client,
        &wrong_verifier,
        REDIRECT,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );

    let (status, body) = exchange(
        &app,
        &code(world.member.allow(&url).await),
        &client,
        VERIFIER,
        "http://127.0.0.1:33420/other",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );

    let good = code(world.member.allow(&url).await);
    let (status, tokens) = exchange(&app, &good, &client, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        status_with(&world.server.proxy_url, &access).await,
        StatusCode::OK
    );

    let (status, body) = exchange(&app, &good, &client, VERIFIER, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
    let elapsed = time_until_refused(&world.server.proxy_url, &access).await;
    assert!(
        elapsed < Duration::from_secs(1),
        "the reused code's grant ended in {elapsed:?}"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refused_and_the_token_says_how_long_it_lasts() {
    let app = mcpgate_testkit::spawn_app_with(mcpgate_testkit::TestAppOptions {
        oauth_access_token_lifetime: Duration::from_secs(5),
        ..Default::default()
    })
    .await;
    let world = world(&app).await;
    let client = register(&app, "Short Client").await;
    let callback = world
        .member
        .allow(&authorize_url(
            &app,
            &client,
            REDIRECT,
            &resource(&world.server.proxy_url),
        ))
        .await;
    let (status, tokens) = exchange(
        &app,
        &param(&callback, "code").unwrap(),
        &client,
        VERIFIER,
        REDIRECT,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["expires_in"], 5, "{tokens}");

    // The same grant's token, expired longer ago than the proxy's clock leeway.
    let (_, grant) = world
        .member
        .tenant
        .0
        .request(reqwest::Method::GET, "/api/v1/grants", None)
        .await;
    let grant = grant["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "OAuth: Short Client")
        .cloned()
        .expect("the grant");
    let uuid = |value: &Value| value.as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    let long_ago =
        Utc::now() - chrono::TimeDelta::seconds(mcpgate_auth::GRANT_TOKEN_LEEWAY_SECONDS + 60);
    let claims = GrantClaims::new(
        uuid(&grant["id"]),
        uuid(&grant["tenant_id"]),
        ServerScope::Only(vec![uuid(&json!(world.server.id))]),
        1,
        long_ago,
        Some(long_ago + chrono::TimeDelta::seconds(5)),
    )
    .for_resource(resource(&world.server.proxy_url));
    let expired = app.grant_signing_key.issue(&claims);
    assert_eq!(
        status_with(&world.server.proxy_url, &expired).await,
        StatusCode::UNAUTHORIZED
    );

    // Refreshing gives a working token again.
    let (status, refreshed) = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(
        status_with(
            &world.server.proxy_url,
            refreshed["access_token"].as_str().unwrap()
        )
        .await,
        StatusCode::OK
    );
}

/// A Client ID Metadata Document served on loopback, counting its fetches.
struct DocumentServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DocumentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn document_server(name: &str) -> DocumentServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/oauth/client.json",
        listener.local_addr().unwrap()
    );
    let document =
        json!({"client_id": url, "client_name": name, "redirect_uris": [REDIRECT]}).to_string();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buffer = vec![0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{document}",
                document.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    DocumentServer { url, fetches, task }
}

#[tokio::test]
async fn a_client_metadata_document_names_the_client_and_is_fetched_once_then_cached() {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let document = document_server("Document Agent").await;
    let url = authorize_url(
        &app,
        &document.url,
        REDIRECT,
        &resource(&world.server.proxy_url),
    );
    let page = world.member.get(&url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Connect Document Agent to k8s?"), "{html}");
    assert_eq!(
        input_value(&html, "client_id").as_deref(),
        Some(document.url.as_str())
    );
    let callback = world.member.allow(&url).await;
    let (status, tokens) = exchange(
        &app,
        &param(&callback, "code").unwrap(),
        &document.url,
        VERIFIER,
        REDIRECT,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        document.fetches.load(Ordering::SeqCst),
        1,
        "fetched once, then cached"
    );
    // A redirect URI the document does not list is refused like a registration's.
    let wrong = world
        .member
        .get(&authorize_url(
            &app,
            &document.url,
            "http://127.0.0.1:9/x",
            &resource(&world.server.proxy_url),
        ))
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_tenant_that_turns_off_registration_refuses_registered_clients_and_a_stranger_sees_nothing(
) {
    let app = mcpgate_testkit::spawn_app().await;
    let world = world(&app).await;
    let client = register(&app, "Registered Client").await;
    let url = authorize_url(&app, &client, REDIRECT, &resource(&world.server.proxy_url));
    let (status, body) = world
        .member
        .tenant
        .0
        .request(
            reqwest::Method::PUT,
            "/api/v1/oauth/settings",
            Some(json!({"dynamic_client_registration": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dynamic_client_registration"], false);
    let refused = world.member.get(&url).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let location = refused.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));

    // Another tenant's member cannot consent for this server.
    let stranger = Member::sign_up(&app).await;
    let other_client = register(&app, "Other Client").await;
    let page = stranger
        .get(&authorize_url(
            &app,
            &other_client,
            REDIRECT,
            &resource(&world.server.proxy_url),
        ))
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);

    // Without a session, the browser is sent to log in and back.
    let anonymous = browser().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let login = anonymous.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        login.starts_with("/login?next=%2Foauth%2Fauthorize%3F"),
        "{login}"
    );
}
