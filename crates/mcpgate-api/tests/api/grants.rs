use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{demo, register, sign_up};

#[tokio::test]
async fn a_grant_token_is_shown_once_verifies_and_names_its_scope() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let server_id = server["id"].as_str().unwrap();

    let (status, grant) = tenant
        .post("/api/v1/grants", json!({"name": "ci-runner", "servers": [server_id], "expires_at": "2099-01-01T00:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    let token = grant["token"].as_str().unwrap();
    let claims = app
        .grant_signing_key
        .verify_key()
        .verify(token, chrono::Utc::now())
        .expect("a token the proxy accepts");
    assert_eq!(claims.grant_id.to_string(), grant["id"].as_str().unwrap());
    assert_eq!(claims.tenant_id.to_string(), tenant.tenant_id);
    assert!(claims.servers.allows(server_id.parse().unwrap()));
    assert_eq!(claims.version, 1);
    assert!(claims.expires_at.is_some());

    let (_, listed) = tenant.get("/api/v1/grants").await;
    assert_eq!(listed["grants"][0]["name"], "ci-runner");
    assert!(listed["grants"][0].get("token").is_none());
    assert!(listed["grants"][0]["last_used_at"].is_null());
}

#[tokio::test]
async fn rotation_issues_a_new_version_and_revocation_is_published() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    let (_, grant) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "support-agent", "servers": "*"}),
        )
        .await;
    let id = grant["id"].as_str().unwrap();

    let (status, rotated) = tenant
        .patch(&format!("/api/v1/grants/{id}"), json!({"rotate": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["token_version"], 2);
    let claims = app
        .grant_signing_key
        .verify_key()
        .verify(rotated["token"].as_str().unwrap(), chrono::Utc::now())
        .unwrap();
    assert_eq!(claims.version, 2);

    let mut changes = Box::pin(
        mcpgate_store::changes::subscribe(&app.redis_conn)
            .await
            .unwrap(),
    );
    let (status, revoked) = tenant.delete(&format!("/api/v1/grants/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let change = tokio::time::timeout(std::time::Duration::from_secs(2), changes.next())
        .await
        .expect("a change message within a second or two")
        .unwrap();
    assert_eq!(
        change,
        mcpgate_store::changes::Change::Grant {
            tenant: tenant.tenant_id.parse().unwrap(),
            grant: id.parse().unwrap()
        }
    );

    let (status, body) = tenant
        .patch(&format!("/api/v1/grants/{id}"), json!({"rotate": true}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "grant_revoked");
}

#[tokio::test]
async fn grants_refuse_unknown_servers_past_expiry_and_invalid_policies() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    let unknown = uuid::Uuid::now_v7();
    let (status, body) = tenant
        .post("/api/v1/grants", json!({"name": "x", "servers": [unknown]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["path"], "/servers/0");

    let (status, body) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "x", "servers": "*", "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["path"], "/expires_at");

    let (status, body) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "x", "servers": "*", "policy": {"version": "1", "default": "nope"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["path"], "/policy/default");

    let (status, body) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "x", "servers": "everything"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "tight", "servers": "*", "policy": {"version": "1", "default": "deny"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap();
    let (status, body) = tenant
        .patch(
            &format!("/api/v1/grants/{id}"),
            json!({"policy": null, "expires_at": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["policy"].is_null());
    assert!(body.get("token").is_none(), "no token without rotation");
}
