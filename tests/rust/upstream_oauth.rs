//! An OAuth-protected upstream through mcpgate, with real parts only: `node-oidc-provider`
//! as the authorization server (login and consent driven over HTTP), an MCP server on the
//! Python SDK 2.x `MCPServer` that checks each token's signature against the server's JWKS,
//! its issuer, audience and expiry, two proxy replicas, and the Python SDK 2.x client as
//! the agent.
//!
//! The journey: registered without credentials, the server answers 401 with Protected
//! Resource Metadata, so it is stored as needing Connect; Connect finds the authorization
//! server, registers mcpgate dynamically, and sends the person there with PKCE and a
//! resource; the callback stores the tokens and syncs the tools. An agent calls a tool.
//! Once the access token has expired, both replicas get a call at the same moment: the
//! authorization server sees one refresh, and both calls succeed. After the grant is
//! revoked at the authorization server and the token expires again, the refresh is
//! refused, the server turns "needs reconnect", and the agent's call is answered with an
//! error that names the server.

#[path = "upstream_oauth/resilience.rs"]
mod resilience;

use std::time::Duration;

use chrono::{DateTime, Utc};
use mcpgate_e2e::api::{sign_up, Server};
use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_e2e::oauth_upstream::{AuthorizationServer, AuthorizationStats, ProtectedServer};
use mcpgate_testkit::{spawn_app_with, TestAppOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[path = "upstream_oauth/per_grant.rs"]
mod per_grant;

/// Long enough for connect, sync and two agents' first calls before the refresh is due
/// (two thirds in, about 27 s, with room for a loaded machine), short enough that the
/// test waits for expiry twice in under two minutes.
const ACCESS_TOKEN_SECONDS: u64 = 40;

fn options() -> TestAppOptions {
    TestAppOptions {
        allow_private_upstreams: true,
        ..TestAppOptions::default()
    }
}

/// Waits until the access token the connection holds has expired.
async fn until_expired(connection: &Value) {
    let expires: DateTime<Utc> = connection["access_expires_at"]
        .as_str()
        .expect("a connected server's token expiry")
        .parse()
        .expect("an RFC 3339 time");
    let left = (expires - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oauth_upstream_is_connected_called_refreshed_once_by_racing_replicas_and_asks_for_reconnect_when_revoked(
) {
    let app = spawn_app_with(options()).await;
    let replica = app.spawn_proxy_replica(options()).await;
    let authorization = AuthorizationServer::start(ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let tenant = sign_up(&app).await;

    // Without credentials, the upstream's 401 and its metadata make it an OAuth server.
    let (status, registered) = tenant
        .0
        .post(
            "/api/v1/servers",
            json!({"name": "notes", "url": upstream.url()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(registered["tools"], json!([]), "no tools before connecting");
    let id = registered["id"].as_str().expect("a server id").to_owned();
    let oauth_path = format!("/api/v1/servers/{id}/oauth");
    let (status, connection) = tenant.0.get(&oauth_path).await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(connection["status"], "needs_connect");
    assert_eq!(connection["resource"], upstream.url());

    // Connect: the authorization URL carries PKCE S256, the resource and a state.
    let (status, started) = tenant
        .0
        .post(&format!("{oauth_path}/connect"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let authorization_url =
        reqwest::Url::parse(started["authorization_url"].as_str().expect("a URL")).unwrap();
    let query: std::collections::HashMap<String, String> =
        authorization_url.query_pairs().into_owned().collect();
    assert!(authorization_url
        .as_str()
        .starts_with(&authorization.issuer()));
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["resource"], upstream.url());
    assert_eq!(query["redirect_uri"], started["redirect_uri"]);
    assert!(query["state"].len() > 40, "an unguessable state");

    // The person signs in and consents; the browser comes back to mcpgate's public URL,
    // which the test's "load balancer" maps to the API's address.
    let back = authorization
        .consent(authorization_url.as_str(), "ada")
        .await;
    let redirect_uri = started["redirect_uri"].as_str().expect("the redirect URI");
    assert!(back.starts_with(&format!("{redirect_uri}?")), "{back}");
    let back = reqwest::Url::parse(&back).unwrap();
    let callback = app.api_url(&format!("{}?{}", back.path(), back.query().unwrap()));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(&callback).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        answer.headers()["location"],
        format!("/servers/{id}?connected=1").as_str()
    );
    // The state is single use.
    let replayed = browser.get(&callback).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

    let (_, connection) = tenant.0.get(&oauth_path).await;
    assert_eq!(connection["status"], "connected", "{connection}");
    assert_eq!(connection["client_registration"], "dynamic");
    assert_eq!(connection["issuer"], authorization.issuer());
    assert_eq!(
        authorization.stats().await,
        AuthorizationStats {
            code_grants: 1,
            refresh_grants: 0,
            refused_refreshes: 0,
            registrations: 1
        }
    );

    // Listed and classified with the token.
    let (status, tools) = tenant.0.get(&format!("/api/v1/servers/{id}/tools")).await;
    assert_eq!(status, StatusCode::OK);
    let tools = tools["tools"].as_array().expect("a tool list").clone();
    let category = |name: &str| {
        tools
            .iter()
            .find(|tool| tool["name"] == name)
            .map(|tool| tool["category"].clone())
    };
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert_eq!(category("read_notes"), Some(json!("read")));
    assert_eq!(category("delete_note"), Some(json!("destructive")));

    let server = Server {
        id: id.clone(),
        proxy_url: registered["proxy_url"].as_str().unwrap().to_owned(),
        tools: vec!["read_notes".into(), "delete_note".into()],
    };
    tenant
        .put_policy(&server, json!({"version": "1", "default": "allow"}))
        .await;
    let grant = tenant.grant("agent", &server).await;

    // An agent calls a tool through the first proxy with the first access token.
    let mut first = Driver::start(Sdk::Python2, &server.proxy_url, &grant.token).await;
    let called = first.call("read_notes", json!({"topic": "gateways"})).await;
    assert_eq!(called.text(), "notes about gateways", "{:?}", called.0);
    // A second agent on the other replica, connected while the token is fresh.
    let second_url = replica.url(&format!("/mcp/{id}/"));
    let mut second = Driver::start(Sdk::Python2, &second_url, &grant.token).await;
    let listed = second.list_tools().await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(authorization.stats().await.refresh_grants, 0);

    // Expired: both replicas get a call at once; one refresh between them.
    until_expired(&connection).await;
    let (on_first, on_second) = tokio::join!(
        first.call("read_notes", json!({"topic": "replica one"})),
        second.call("read_notes", json!({"topic": "replica two"})),
    );
    assert_eq!(
        on_first.text(),
        "notes about replica one",
        "{:?}",
        on_first.0
    );
    assert_eq!(
        on_second.text(),
        "notes about replica two",
        "{:?}",
        on_second.0
    );
    assert_eq!(
        authorization.stats().await.refresh_grants,
        1,
        "the authorization server saw exactly one refresh"
    );
    let (_, refreshed) = tenant.0.get(&oauth_path).await;
    assert_eq!(refreshed["status"], "connected");
    assert!(refreshed["refreshed_at"].is_string(), "{refreshed}");
    assert_ne!(
        refreshed["access_expires_at"],
        connection["access_expires_at"]
    );

    // Revoked at the authorization server: the next refresh is refused.
    assert!(authorization.revoke_everything().await >= 1);
    until_expired(&refreshed).await;
    let refused = first.call("read_notes", json!({"topic": "after"})).await;
    let error = refused.error().expect("a JSON-RPC error, not a result");
    let message = error["message"].as_str().expect("an error message");
    assert!(
        message.contains("\"notes\"") && message.contains("needs reconnecting"),
        "{message}"
    );
    assert!(message.contains("invalid_grant"), "{message}");
    let (_, broken) = tenant.0.get(&oauth_path).await;
    assert_eq!(broken["status"], "needs_reconnect", "{broken}");
    assert!(broken["status_reason"]
        .as_str()
        .is_some_and(|reason| reason.contains("invalid_grant")));
    let stats = authorization.stats().await;
    assert_eq!(
        (stats.refresh_grants, stats.refused_refreshes),
        (1, 1),
        "{stats:?}"
    );

    // Every step is in the audit log, never a token.
    let events = tenant.audit_events(&format!("server={id}&limit=200")).await;
    let count = |method: &str| events.iter().filter(|e| e["method"] == method).count();
    assert_eq!(count("upstream_oauth/connect_started"), 1, "{events:?}");
    assert_eq!(count("upstream_oauth/connected"), 1);
    assert_eq!(count("upstream_oauth/refreshed"), 1);
    assert_eq!(count("upstream_oauth/refresh_failed"), 1);
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("eyJ"), "no JWT in the audit log");
    drop(first);
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_foreign_iss_or_a_replayed_state_is_refused_and_an_unconnected_server_is_named_to_the_agent(
) {
    let app = spawn_app_with(options()).await;
    let authorization = AuthorizationServer::start(ACCESS_TOKEN_SECONDS).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let tenant = sign_up(&app).await;
    let (status, registered) = tenant
        .0
        .post(
            "/api/v1/servers",
            json!({"name": "guarded", "url": upstream.url()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let id = registered["id"].as_str().expect("a server id").to_owned();
    let oauth_path = format!("/api/v1/servers/{id}/oauth");

    // mcpgate's Client ID Metadata Document names the exact callback.
    let document: Value = app
        .client
        .get(app.api_url("/api/v1/upstream-oauth/client-metadata.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, started) = tenant
        .0
        .post(&format!("{oauth_path}/connect"), json!({}))
        .await;
    let redirect_uri = started["redirect_uri"].as_str().expect("a redirect URI");
    assert_eq!(document["redirect_uris"], json!([redirect_uri]));
    assert!(document["client_id"]
        .as_str()
        .is_some_and(|id| id.ends_with("/api/v1/upstream-oauth/client-metadata.json")));

    // An agent calling the server before it is connected hears which server and why.
    let (status, _) = tenant
        .0
        .put(
            &format!("/api/v1/servers/{id}/policy"),
            json!({"version": "1", "default": "allow"}),
        )
        .await;
    assert!(status.is_success());
    let server = Server {
        id: id.clone(),
        proxy_url: registered["proxy_url"].as_str().unwrap().to_owned(),
        tools: Vec::new(),
    };
    let grant = tenant.grant("agent", &server).await;
    // (Over plain HTTP: an SDK client would stop at its handshake, which fails the same way.)
    // tools/list: a call to a tool never synced is refused before it could go upstream.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"});
    let answer = mcpgate_e2e::raw::post(
        &app.client,
        &server.proxy_url,
        &grant.token,
        None,
        call.to_string(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "a refusal keeps the session alive"
    );
    let refused: Value = answer.json().await.expect("a JSON-RPC answer");
    assert_eq!(refused["id"], 7);
    assert_eq!(refused["error"]["code"], -32010, "{refused}");
    let message = refused["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned();
    assert!(
        message.contains("\"guarded\"") && message.contains("not connected yet"),
        "{message}"
    );

    // The browser comes back with an iss that is not the authorization server's.
    let authorization_url = started["authorization_url"].as_str().unwrap();
    let back = authorization.consent(authorization_url, "eve").await;
    let back = reqwest::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert!(pairs
        .iter()
        .any(|(name, value)| name == "iss" && *value == authorization.issuer()));
    let forged: String = url_query(pairs.iter().map(|(name, value)| {
        let value = if name == "iss" {
            "http://127.0.0.1:1"
        } else {
            value
        };
        (name.as_str(), value)
    }));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let callback = |query: &str| app.api_url(&format!("{}?{query}", back.path()));
    let answer = browser.get(callback(&forged)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not the authorization server"),
        "{body}"
    );
    // That state is spent: the genuine response no longer connects anything.
    let genuine = browser
        .get(callback(back.query().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status(), StatusCode::BAD_REQUEST);
    let (_, connection) = tenant.0.get(&oauth_path).await;
    assert_eq!(connection["status"], "needs_connect", "{connection}");
    assert_eq!(
        authorization.stats().await.code_grants,
        0,
        "no code was traded"
    );

    // Another tenant cannot see or connect it.
    let other = sign_up(&app).await;
    assert_eq!(other.0.get(&oauth_path).await.0, StatusCode::NOT_FOUND);
    let (status, _) = other
        .0
        .post(&format!("{oauth_path}/connect"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = tenant.audit_events(&format!("server={id}&limit=200")).await;
    assert!(
        events
            .iter()
            .any(|e| e["method"] == "upstream_oauth/connect_failed"),
        "{events:?}"
    );
}

fn url_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}
