use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{demo, register, seed_policy, sign_up};

#[tokio::test]
async fn the_seed_policy_round_trips_as_versions_with_rollback() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let base = format!("/api/v1/servers/{}/policy", server["id"].as_str().unwrap());

    let (status, body) = tenant.get(&base).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no policy yet: {body}");

    let (status, v1) = tenant.put(&base, seed_policy()).await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["document"], seed_policy());
    assert!(v1["author"].as_str().unwrap().starts_with("api-key:"));

    let allow_all = json!({"version": "1", "default": "allow"});
    let (status, v2) = tenant.put(&base, allow_all.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v2["version"], 2);
    let (_, active) = tenant.get(&base).await;
    assert_eq!(active["document"], allow_all);

    let (status, v3) = tenant
        .post(&format!("{base}/rollback"), json!({"version": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v3}");
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["note"], "rollback to version 1");
    let (_, active) = tenant.get(&base).await;
    assert_eq!(active["document"], seed_policy());

    let (_, versions) = tenant.get(&format!("{base}/versions")).await;
    let numbers: Vec<i64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![3, 2, 1]);
    let (status, v2_again) = tenant.get(&format!("{base}/versions/2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v2_again["document"], allow_all);
}

#[tokio::test]
async fn an_invalid_policy_is_refused_with_every_error_and_its_path() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let base = format!("/api/v1/servers/{}/policy", server["id"].as_str().unwrap());

    let bad = json!({"version": "1", "default": "maybe",
        "tools": {"k8s_run_pod": {"limits": [{"counter": "c", "window": "fortnight", "max": 0, "scope": "grant"}]},
                  "delete_file": {"actoin": "deny"}}});
    let (status, body) = tenant.put(&base, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "policy_invalid");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for expected in [
        "/default",
        "/tools/k8s_run_pod/limits/0/window",
        "/tools/k8s_run_pod/limits/0/max",
        "/tools/delete_file/actoin",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    // Nothing was stored.
    let (_, versions) = tenant.get(&format!("{base}/versions")).await;
    assert_eq!(versions["versions"], json!([]));

    let response = app
        .client
        .put(app.api_url(&base))
        .bearer_auth(&tenant.key)
        .header("content-type", "application/json")
        .body("{\"version\": \"1\", \"default\": \"deny\", \"default\": \"allow\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate keys are ambiguous"
    );
}

#[tokio::test]
async fn simulation_counts_limits_and_uses_the_catalogue() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let base = format!("/api/v1/servers/{}/policy", server["id"].as_str().unwrap());
    tenant.put(&base, seed_policy()).await;

    let calls: Vec<Value> = (0..11)
        .map(|_| json!({"tool": "k8s_run_pod", "arguments": {"image": "nginx"}}))
        .collect();
    let (status, body) = tenant
        .post(&format!("{base}/simulate"), json!({"calls": calls}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decisions = body["decisions"].as_array().unwrap();
    assert!(
        decisions[..10].iter().all(|d| d["outcome"] == "allow"),
        "{body}"
    );
    assert_eq!(decisions[10]["outcome"], "deny");
    assert_eq!(decisions[10]["rule"], "/tools/k8s_run_pod/limits/0");

    // A draft selecting by classification sees the stored classification.
    let draft = json!({"version": "1", "default": "allow",
        "classes": [{"match": {"category": "execute"}, "action": "deny", "reason": "no exec"}]});
    let (status, body) = tenant
        .post(&format!("{base}/simulate"), json!({"policy": draft, "calls": [{"tool": "k8s_run_pod"}, {"tool": "k8s_get_namespaces"}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decisions"][0]["outcome"], "deny");
    assert_eq!(body["decisions"][0]["reason"], "no exec");
    assert_eq!(body["decisions"][1]["outcome"], "allow");
}

#[tokio::test]
async fn the_recommended_policy_is_valid_and_limits_k8s_run_pod() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let base = format!("/api/v1/servers/{}/policy", server["id"].as_str().unwrap());
    let (status, recommended) = tenant.get(&format!("{base}/recommended")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recommended["default"], "deny");
    let limits = &recommended["tools"]["k8s_run_pod"]["limits"][0];
    assert_eq!(limits["max"], 10);
    assert_eq!(limits["window"], "minute");
    let (status, body) = tenant.put(&base, recommended).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the recommendation is accepted as is: {body}"
    );
}
