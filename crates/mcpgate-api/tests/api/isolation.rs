//! Tenant B calls every route with tenant A's ids: always 404, never A's rows.

use chrono::{TimeDelta, Utc};
use mcpgate_store::approvals::{create_approval, NewApproval};
use mcpgate_store::ApprovalId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{demo, register, seed_policy, send, sign_up};

#[tokio::test]
async fn another_tenants_ids_are_not_found_on_every_route_and_lists_stay_apart() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let a = sign_up(&app).await;
    let b = sign_up(&app).await;

    let server = register(&a, "k8s", &upstream.url()).await;
    let s = server["id"].as_str().unwrap().to_owned();
    a.put(&format!("/api/v1/servers/{s}/policy"), seed_policy())
        .await;
    let (_, grant) = a
        .post("/api/v1/grants", json!({"name": "ci", "servers": [s]}))
        .await;
    let g = grant["id"].as_str().unwrap().to_owned();
    let (_, key) = a.post("/api/v1/api-keys", json!({"name": "second"})).await;
    let k = key["id"].as_str().unwrap().to_owned();
    let approval = ApprovalId::new();
    create_approval(
        &app.db.pool,
        a.tenant_id.parse().unwrap(),
        &NewApproval {
            id: approval,
            server_id: s.parse().unwrap(),
            grant_id: None,
            tool: "k8s_delete_ns".into(),
            arguments: json!({}),
            rule: None,
            reason: None,
            expires_at: Utc::now() + TimeDelta::minutes(5),
        },
    )
    .await
    .unwrap();

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/servers/{s}"), None),
        (
            Method::PATCH,
            format!("/api/v1/servers/{s}"),
            Some(json!({"name": "mine"})),
        ),
        (Method::DELETE, format!("/api/v1/servers/{s}"), None),
        (
            Method::POST,
            format!("/api/v1/servers/{s}/sync"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/servers/{s}/tools"), None),
        (
            Method::POST,
            format!("/api/v1/servers/{s}/tools/k8s_run_pod/approve"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/servers/{s}/policy"), None),
        (
            Method::PUT,
            format!("/api/v1/servers/{s}/policy"),
            Some(json!({"version": "1", "default": "allow"})),
        ),
        (
            Method::GET,
            format!("/api/v1/servers/{s}/policy/versions"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/servers/{s}/policy/versions/1"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/servers/{s}/policy/rollback"),
            Some(json!({"version": 1})),
        ),
        (
            Method::POST,
            format!("/api/v1/servers/{s}/policy/simulate"),
            Some(json!({"calls": [{"tool": "k8s_run_pod"}]})),
        ),
        (
            Method::GET,
            format!("/api/v1/servers/{s}/policy/recommended"),
            None,
        ),
        (Method::GET, format!("/api/v1/grants/{g}"), None),
        (
            Method::PATCH,
            format!("/api/v1/grants/{g}"),
            Some(json!({"rotate": true})),
        ),
        (Method::DELETE, format!("/api/v1/grants/{g}"), None),
        (Method::DELETE, format!("/api/v1/api-keys/{k}"), None),
        (Method::GET, format!("/api/v1/approvals/{approval}"), None),
        (
            Method::POST,
            format!("/api/v1/approvals/{approval}/approve"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/approvals/{approval}/deny"),
            Some(json!({})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = send(&app, method.clone(), &path, Some(&b.key), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} → {answer}");
        assert_eq!(answer["error"]["code"], "not_found");
    }
    // B may not scope its own grant to A's server either.
    let (status, _) = b
        .post("/api/v1/grants", json!({"name": "steal", "servers": [s]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    for (path, field) in [
        ("/api/v1/servers", "servers"),
        ("/api/v1/grants", "grants"),
        ("/api/v1/approvals", "approvals"),
        ("/api/v1/audit", "events"),
    ] {
        let (status, body) = b.get(path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body[field], json!([]), "{path} shows nothing of A's");
    }
    let (_, keys) = b.get("/api/v1/api-keys").await;
    assert_eq!(
        keys["api_keys"].as_array().unwrap().len(),
        1,
        "only B's own key"
    );

    // And A's data is intact after B's attempts.
    let (status, body) = a.get(&format!("/api/v1/servers/{s}/policy")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["version"], 1);
    let (_, grant) = a.get(&format!("/api/v1/grants/{g}")).await;
    assert!(grant["revoked_at"].is_null());
}
