//! Per-grant upstream connections (`connection_scope: grant`) with the same real parts:
//! `node-oidc-provider` in front of the Python SDK 2.x server, here with its `whoami`
//! tool, which answers the subject of the token each call came with.
//!
//! Two grants connect as two different upstream users, each through the URL the proxy
//! answers its first call with (MCP 2025-11-25 `URLElicitationRequiredError`, -32042):
//! the dashboard's connect page, which signs the member in (login with `?next=`), then
//! the provider's login and consent. Each agent's calls reach the upstream as its own
//! user, never as the other; a third grant is asked to connect, connects and calls; its
//! connection deleted, it is asked again; grant A revoked, its connection is gone; and
//! once the access tokens expire, the remaining grant's is refreshed on its own row.

use std::time::Duration;

use mcpgate_e2e::api::{Grant, Server, Tenant};
use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_e2e::oauth_upstream::{AuthorizationServer, ProtectedServer};
use mcpgate_testkit::{spawn_app_with, TestApp};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{options, until_expired, ACCESS_TOKEN_SECONDS};

const PASSWORD: &str = "correct horse battery";

/// A person with a dashboard account, in a browser that follows no redirects.
struct Person<'a> {
    app: &'a TestApp,
    email: String,
    http: reqwest::Client,
    /// `mcpgate_session=...` once signed in.
    session: Option<String>,
}

impl<'a> Person<'a> {
    /// Signs up a tenant through the REST API (not signed in to the dashboard yet).
    async fn sign_up(app: &'a TestApp) -> (Person<'a>, Tenant<'a>) {
        let email = format!("owner-{}@example.com", uuid::Uuid::now_v7().simple());
        let (status, body) = mcpgate_testkit::rest::send(
            app,
            reqwest::Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({"email": email, "password": PASSWORD, "tenant_name": "Acme"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "signing up: {body}");
        let tenant = Tenant(mcpgate_testkit::rest::Tenant {
            app,
            key: body["api_key"]["key_secret"].as_str().unwrap().to_owned(),
            tenant_id: body["tenant"]["id"].as_str().unwrap().to_owned(),
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let person = Person {
            app,
            email,
            http,
            session: None,
        };
        (person, tenant)
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        let request = self.http.get(url);
        let request = match &self.session {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        request.send().await.expect("the API answers")
    }

    /// Opens the connect URL an agent was given, signing in first when the page sends
    /// the browser to the login page, and continues to the authorization server; there
    /// signs in as `upstream_user` and consents, and follows the redirect back to
    /// mcpgate. Answers where mcpgate sends the browser then.
    async fn connect(
        &mut self,
        connect_url: &str,
        authorization: &AuthorizationServer,
        upstream_user: &str,
    ) -> String {
        let mut page = self.get(connect_url).await;
        if self.session.is_none() {
            assert_eq!(page.status(), StatusCode::SEE_OTHER, "not signed in yet");
            let login = location(&page);
            let path = reqwest::Url::parse(connect_url).unwrap().path().to_owned();
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            assert_eq!(login, format!("/login?next={next}"));
            self.sign_in(&login, &path).await;
            page = self.get(connect_url).await;
        }
        let status = page.status();
        let html = page.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "the connect page: {html}");
        assert!(
            html.contains("data-testid=\"grant-connect-form\""),
            "{html}"
        );
        let csrf = input_value(&html, "csrf").expect("the form's CSRF field");
        let started = self
            .http
            .post(connect_url)
            .header(COOKIE, self.session.as_deref().unwrap())
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        // A page that moves on by itself, not a 303: the dashboard's form-action
        // 'self' would make a browser refuse a form's redirect to the authorization server.
        assert_eq!(started.status(), StatusCode::OK, "starting the flow");
        let page = started.text().await.unwrap();
        let authorization_url = attribute_after(&page, "data-testid=\"oauth-continue\" href=\"");
        assert_eq!(
            attribute_after(&page, "<meta http-equiv=\"refresh\" content=\"0;url="),
            authorization_url,
            "the page moves on by itself to where it links"
        );
        assert!(
            authorization_url.starts_with(&authorization.issuer()),
            "{authorization_url}"
        );
        let back = authorization
            .consent(&authorization_url, upstream_user)
            .await;
        let back = reqwest::Url::parse(&back).unwrap();
        let callback = self
            .app
            .api_url(&format!("{}?{}", back.path(), back.query().unwrap()));
        let landed = self.http.get(&callback).send().await.unwrap();
        assert_eq!(landed.status(), StatusCode::SEE_OTHER, "the callback");
        location(&landed)
    }

    /// Logs in on the page at `login` (`/login?next=...`): the login sends the browser
    /// on to `next`.
    async fn sign_in(&mut self, login: &str, next: &str) {
        let page = self.http.get(self.app.api_url(login)).send().await.unwrap();
        let csrf_cookie = set_cookie(&page, "mcpgate_login_csrf").expect("the CSRF cookie");
        let html = page.text().await.unwrap();
        let csrf = input_value(&html, "csrf").expect("the login form's CSRF field");
        assert_eq!(input_value(&html, "next").as_deref(), Some(next), "{html}");
        let answer = self
            .http
            .post(self.app.api_url("/login"))
            .header(COOKIE, format!("mcpgate_login_csrf={csrf_cookie}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", &self.email),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "logging in");
        assert_eq!(location(&answer), next, "back to the connect page");
        let session = set_cookie(&answer, "mcpgate_session").expect("the session cookie");
        self.session = Some(format!("mcpgate_session={session}"));
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let (key, value) = value.split(';').next()?.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

/// The `value` of `<input ... name="{name}" value="...">` (askama escapes `/`).
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    let value = &rest[..rest.find('"')?];
    Some(
        value
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/")
            .replace("&amp;", "&"),
    )
}

/// `tools/call whoami` over plain HTTP (an SDK client could not start a session with a
/// grant that is not connected: its handshake gets the same error).
async fn raw_whoami(app: &TestApp, server: &Server, grant: &Grant) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    raw(app, server, grant, call).await
}

/// `tools/list` over plain HTTP: before any grant connected, no tool is synced yet,
/// and a call to one would be refused before it could go upstream.
async fn raw_list(app: &TestApp, server: &Server, grant: &Grant) -> Value {
    let list = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"});
    raw(app, server, grant, list).await
}

async fn raw(app: &TestApp, server: &Server, grant: &Grant, call: Value) -> Value {
    let answer = raw_response(app, server, grant, call).await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "a refusal keeps the session"
    );
    answer.json().await.expect("a JSON-RPC answer")
}

async fn raw_response(
    app: &TestApp,
    server: &Server,
    grant: &Grant,
    call: Value,
) -> reqwest::Response {
    mcpgate_e2e::raw::post(
        &app.client,
        &server.proxy_url,
        &grant.token,
        None,
        call.to_string(),
    )
    .send()
    .await
    .unwrap()
}

/// The connect URL of a -32042 answer, after checking its shape (MCP 2025-11-25).
fn connect_url_of(answer: &Value, app: &TestApp, server: &Server, grant: &Grant) -> String {
    assert_eq!(answer["id"], 9, "{answer}");
    assert_eq!(answer["error"]["code"], -32042, "{answer}");
    let message = answer["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("\"notes\"") && message.contains("not connected"),
        "{message}"
    );
    let elicitations = answer["error"]["data"]["elicitations"]
        .as_array()
        .expect("the elicitations");
    assert_eq!(elicitations.len(), 1, "{answer}");
    let elicitation = &elicitations[0];
    assert_eq!(elicitation["mode"], "url");
    assert!(elicitation["elicitationId"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    let url = elicitation["url"].as_str().expect("the URL").to_owned();
    assert_eq!(
        url,
        app.api_url(&format!(
            "/servers/{}/grant-connect/{}",
            server.id, grant.id
        ))
    );
    assert!(
        message.contains(&url),
        "the plain message names the URL too"
    );
    url
}

/// Registers `upstream` as a server whose OAuth connections are per grant.
async fn register_per_grant_server(tenant: &Tenant<'_>, upstream: &ProtectedServer) -> Server {
    let (status, registered) = tenant
        .0
        .post(
            "/api/v1/servers",
            json!({"name": "notes", "url": upstream.url(),
                   "oauth": {"connection_scope": "grant"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    Server {
        id: registered["id"].as_str().expect("a server id").to_owned(),
        proxy_url: registered["proxy_url"]
            .as_str()
            .expect("a proxy URL")
            .to_owned(),
        tools: Vec::new(),
    }
}

async fn grant_connections(tenant: &Tenant<'_>, server: &Server) -> Vec<Value> {
    let path = format!("/api/v1/servers/{}/oauth/grants", server.id);
    let (status, body) = tenant.0.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["connections"].as_array().expect("a list").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_grant_of_a_per_grant_server_calls_as_its_own_upstream_user_after_connecting_through_the_url_it_is_given(
) {
    let app = spawn_app_with(options()).await;
    let authorization = AuthorizationServer::start(ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start_reporting_subjects(&authorization.issuer()).await;
    let (mut person, tenant) = Person::sign_up(&app).await;

    let server = register_per_grant_server(&tenant, &upstream).await;
    let id = server.id.clone();
    let oauth_path = format!("/api/v1/servers/{id}/oauth");
    let (_, connection) = tenant.0.get(&oauth_path).await;
    assert_eq!(connection["connection_scope"], "grant", "{connection}");
    // No connection for the whole account on a per-grant server.
    let (status, refused) = tenant
        .0
        .post(&format!("{oauth_path}/connect"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "upstream_oauth_grant_scope");

    tenant
        .put_policy(&server, json!({"version": "1", "default": "allow"}))
        .await;
    let (ada, bob, cy) = (
        tenant.grant("agent-a", &server).await,
        tenant.grant("agent-b", &server).await,
        tenant.grant("agent-c", &server).await,
    );

    // A's first request: no connection of its own, so the URL to make one.
    let answer = raw_list(&app, &server, &ada).await;
    let url = connect_url_of(&answer, &app, &server, &ada);
    let landed = person.connect(&url, &authorization, "ada").await;
    assert_eq!(landed, format!("/servers/{id}?connected=1"));
    assert!(
        grant_connections(&tenant, &server).await.len() == 1,
        "A is connected"
    );
    let mut agent_a = Driver::start(Sdk::Python2, &server.proxy_url, &ada.token).await;
    assert_eq!(agent_a.call("whoami", json!({})).await.text(), "ada");

    // B is not connected by A's connection: it gets its own URL, and connects as bob.
    let answer = raw_whoami(&app, &server, &bob).await;
    let url = connect_url_of(&answer, &app, &server, &bob);
    person.connect(&url, &authorization, "bob").await;
    let mut agent_b = Driver::start(Sdk::Python2, &server.proxy_url, &bob.token).await;
    assert_eq!(agent_b.call("whoami", json!({})).await.text(), "bob");
    assert_eq!(agent_a.call("whoami", json!({})).await.text(), "ada");
    assert_eq!(authorization.stats().await.code_grants, 2);

    // C connects through its URL too; its next call works, as cy.
    let answer = raw_whoami(&app, &server, &cy).await;
    let url = connect_url_of(&answer, &app, &server, &cy);
    person.connect(&url, &authorization, "cy").await;
    let mut agent_c = Driver::start(Sdk::Python2, &server.proxy_url, &cy.token).await;
    assert_eq!(agent_c.call("whoami", json!({})).await.text(), "cy");
    drop(agent_c);

    let listed = grant_connections(&tenant, &server).await;
    let names: Vec<&str> = listed
        .iter()
        .map(|c| c["grant_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["agent-c", "agent-b", "agent-a"], "{listed:?}");
    let by = format!("user:{}", person.email);
    assert!(listed
        .iter()
        .all(|c| c["status"] == "connected" && c["connected_by"] == by.as_str()));

    // C's connection deleted: its next call asks again (once the proxy heard).
    let path = format!("/api/v1/servers/{id}/oauth/grants/{}", cy.id);
    let (status, body) = tenant.0.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let asked = loop {
        // Until the proxy has heard of the deletion it still sends C's old token
        // upstream, and this sessionless call gets the upstream's own 400.
        let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}}});
        let answer = raw_response(&app, &server, &cy, call).await;
        let answer = match answer.status() {
            StatusCode::OK => answer.json::<Value>().await.expect("a JSON-RPC answer"),
            _ => Value::Null,
        };
        if answer["error"]["code"] == -32042 || tokio::time::Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    connect_url_of(&asked, &app, &server, &cy);

    // A revoked: its connection goes with it; B still calls as bob.
    tenant.revoke(&ada).await;
    let left = grant_connections(&tenant, &server).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["grant_id"], bob.id.as_str());
    assert_eq!(agent_b.call("whoami", json!({})).await.text(), "bob");

    // Expired: B's token is refreshed on B's row (tokens last 40 s, so one of the
    // earlier calls may have refreshed already), and B still calls as bob.
    until_expired(&left[0]).await;
    assert_eq!(agent_b.call("whoami", json!({})).await.text(), "bob");
    assert!(authorization.stats().await.refresh_grants >= 1);
    let refreshed = grant_connections(&tenant, &server).await;
    assert!(refreshed[0]["refreshed_at"].is_string(), "{refreshed:?}");

    // Audited per grant, never with a token.
    let events = tenant.audit_events(&format!("server={id}&limit=200")).await;
    let of = |method: &str, grant: &Grant| {
        events
            .iter()
            .filter(|e| e["method"] == method && e["grant_id"] == grant.id.as_str())
            .count()
    };
    assert_eq!(of("upstream_oauth/connected", &ada), 1, "{events:?}");
    assert_eq!(of("upstream_oauth/connected", &bob), 1);
    assert_eq!(of("upstream_oauth/connected", &cy), 1);
    assert_eq!(of("upstream_oauth/disconnected", &cy), 1);
    assert!(of("upstream_oauth/refreshed", &bob) >= 1, "{events:?}");
    assert!(!serde_json::to_string(&events).unwrap().contains("eyJ"));
    drop(agent_a);
    drop(agent_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_renews_a_grants_own_token_ahead_of_its_expiry_without_any_call() {
    let app = spawn_app_with(mcpgate_testkit::TestAppOptions {
        upstream_oauth_refresh_margin: Duration::from_secs(300),
        ..options()
    })
    .await;
    let authorization = AuthorizationServer::start(ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start_reporting_subjects(&authorization.issuer()).await;
    let (mut person, tenant) = Person::sign_up(&app).await;
    let server = register_per_grant_server(&tenant, &upstream).await;
    tenant
        .put_policy(&server, json!({"version": "1", "default": "allow"}))
        .await;
    let ada = tenant.grant("agent-a", &server).await;
    let answer = raw_list(&app, &server, &ada).await;
    let url = connect_url_of(&answer, &app, &server, &ada);
    person.connect(&url, &authorization, "ada").await;
    let connected = grant_connections(&tenant, &server).await;
    assert_eq!(connected.len(), 1, "{connected:?}");
    assert!(connected[0]["refreshed_at"].is_null());

    // No call: the API's refresher renews it, half its 40 s lifetime ahead at the most.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let renewed = loop {
        let listed = grant_connections(&tenant, &server).await;
        if listed[0]["refreshed_at"].is_string() || tokio::time::Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(renewed[0]["refreshed_at"].is_string(), "{renewed:?}");
    assert_ne!(
        renewed[0]["access_expires_at"],
        connected[0]["access_expires_at"]
    );
    let events = tenant
        .audit_events(&format!("server={}&limit=200", server.id))
        .await;
    assert!(
        events
            .iter()
            .any(|e| e["method"] == "upstream_oauth/refreshed"
                && e["grant_id"] == ada.id.as_str()
                && e["actor"] == "mcpgate-api"),
        "{events:?}"
    );
    // The proxy heard: the agent calls with the renewed token, as ada.
    let mut agent = Driver::start(Sdk::Python2, &server.proxy_url, &ada.token).await;
    assert_eq!(agent.call("whoami", json!({})).await.text(), "ada");
    drop(agent);
}

/// The attribute value that follows `prefix` in `html`, its character references
/// (named or numeric, as the template engine writes them) resolved.
fn attribute_after(html: &str, prefix: &str) -> String {
    let rest = html
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("{prefix} in the page: {html}"));
    let mut escaped = rest.split('"').next().expect("the attribute's end");
    let mut value = String::new();
    while let Some(start) = escaped.find('&') {
        value.push_str(&escaped[..start]);
        let end = escaped[start..]
            .find(';')
            .expect("a character reference's end")
            + start;
        let reference = &escaped[start + 1..end];
        let character = match reference {
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            "lt" => '<',
            "gt" => '>',
            numeric => {
                let code = match numeric.strip_prefix("#x").or(numeric.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => numeric.trim_start_matches('#').parse(),
                }
                .unwrap_or_else(|_| panic!("a character reference: &{numeric};"));
                char::from_u32(code).expect("a character")
            }
        };
        value.push(character);
        escaped = &escaped[end + 1..];
    }
    value.push_str(escaped);
    value
}
