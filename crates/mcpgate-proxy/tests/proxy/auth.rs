use std::time::{Duration, Instant};

use mcpgate_store::changes::{self, Change};
use mcpgate_store::grants::{self, NewGrant};
use mcpgate_store::GrantId;
use serde_json::json;

use crate::helpers::{initialize_body, mint, spawn, Options};

#[tokio::test]
async fn no_token_or_a_bad_one_is_401_with_www_authenticate() {
    let proxy = spawn(Options::default()).await;
    let response = proxy
        .client
        .post(proxy.url())
        .header("content-type", "application/json")
        .body(initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(body["error"]["code"].is_i64());

    let forged = mint(
        &mcpgate_auth::GrantSigningKey::generate(),
        proxy.tenant,
        proxy.grant,
        proxy.server,
    );
    let response = proxy
        .request_as(&forged, None, initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("signature"));
}

#[tokio::test]
async fn the_url_token_form_works_and_a_foreign_origin_is_refused() {
    let proxy = spawn(Options::default()).await;
    let url = format!(
        "http://{}/mcp/{}/t/{}/",
        proxy.addr, proxy.server, proxy.token
    );
    let response = proxy
        .client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("mcp-session-id"));

    let response = proxy
        .request(None, initialize_body())
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = proxy
        .request(None, initialize_body())
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a loopback proxy accepts loopback origins"
    );
}

#[tokio::test]
async fn a_server_outside_the_grant_is_403() {
    let proxy = spawn(Options::default()).await;
    let other_server = mcpgate_store::ServerId::new();
    let token = mint(&proxy.signing_key, proxy.tenant, proxy.grant, other_server);
    let response = proxy
        .client
        .post(format!("http://{}/mcp/{}/", proxy.addr, proxy.server))
        .bearer_auth(token)
        .body(initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_revoked_grant_is_refused_within_a_second() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let (status, _) = proxy.call(&session, 1, "k8s_run_pod", json!({})).await;
    assert_eq!(status, 200);

    grants::revoke_grant(&proxy.db.pool, proxy.tenant, proxy.grant)
        .await
        .unwrap();
    changes::publish(
        &proxy.redis_conn,
        &Change::Grant {
            tenant: proxy.tenant,
            grant: proxy.grant,
        },
    )
    .await
    .unwrap();
    let revoked_at = Instant::now();
    loop {
        let response = proxy
            .post(
                Some(&session),
                r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            )
            .await;
        if response.status() == 401 {
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(challenge.contains("revoked"), "{challenge}");
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(1),
            "still accepted after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn another_grants_session_id_is_not_found() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let other = GrantId::new();
    grants::create_grant(
        &proxy.db.pool,
        proxy.tenant,
        &NewGrant {
            id: other,
            name: "other agent".into(),
            server_ids: None,
            policy: None,
            expires_at: None,
        },
    )
    .await
    .unwrap();
    let other_token = mint(&proxy.signing_key, proxy.tenant, other, proxy.server);
    let response = proxy
        .request_as(
            &other_token,
            Some(&session),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The upstream's own id is no better.
    let recorded = proxy.demo.recorded();
    let upstream_session = recorded.lock().unwrap()[1]
        .header("mcp-session-id")
        .unwrap()
        .to_owned();
    let response = proxy
        .post(
            Some(&upstream_session),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .await;
    assert_eq!(response.status(), 404);
    // Its owner still gets through.
    let response = proxy
        .post(
            Some(&session),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
}
