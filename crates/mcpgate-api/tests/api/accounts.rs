use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{send, sign_up};

#[tokio::test]
async fn sign_up_returns_a_tenant_an_owner_and_an_api_key_that_works() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    assert!(tenant.key.starts_with("mcpg_"));
    let (status, body) = tenant.get("/api/v1/api-keys").await;
    assert_eq!(status, StatusCode::OK);
    let keys = body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].get("key_secret").is_none(),
        "the secret is shown once only"
    );
    assert!(tenant.key.contains(keys[0]["prefix"].as_str().unwrap()));
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = mcpgate_testkit::spawn_app().await;
    let body = json!({"email": "Ada@Example.com", "password": "correct horse battery", "tenant_name": "A"});
    let (status, _) = send(&app, Method::POST, "/api/v1/signup", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let again = json!({"email": "ada@example.com", "password": "correct horse battery", "tenant_name": "B"});
    let (status, body) = send(&app, Method::POST, "/api/v1/signup", None, Some(again)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "email_taken");
}

#[tokio::test]
async fn bad_sign_ups_get_clear_errors_naming_the_field() {
    let app = mcpgate_testkit::spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "correct horse battery", "tenant_name": "A"}),
            "/email",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "tenant_name": "A"}),
            "/password",
        ),
        (
            json!({"email": "a@example.com", "password": "correct horse battery", "tenant_name": "  "}),
            "/tenant_name",
        ),
    ];
    for (body, path) in cases {
        let (status, answer) = send(&app, Method::POST, "/api/v1/signup", None, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["details"][0]["path"], path, "{answer}");
    }
}

#[tokio::test]
async fn malformed_and_unknown_bodies_are_refused_with_json_errors() {
    let app = mcpgate_testkit::spawn_app().await;
    let response = app
        .client
        .post(app.api_url("/api/v1/signup"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    let unknown = json!({"email": "a@example.com", "password": "correct horse battery", "tenant_name": "A", "plan": "free"});
    let (status, body) = send(&app, Method::POST, "/api/v1/signup", None, Some(unknown)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("plan"),
        "{body}"
    );

    let huge = "x".repeat(2 * 1024 * 1024);
    let response = app
        .client
        .post(app.api_url("/api/v1/signup"))
        .header("content-type", "application/json")
        .body(format!("{{\"email\": \"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn requests_without_a_valid_key_are_401_with_www_authenticate() {
    let app = mcpgate_testkit::spawn_app().await;
    for key in [
        None,
        Some("mcpg_nope"),
        Some("mcpg_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
    ] {
        let mut request = app.client.get(app.api_url("/api/v1/servers"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn a_revoked_api_key_stops_working_and_a_new_one_works() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    let (status, created) = tenant.post("/api/v1/api-keys", json!({"name": "ci"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let second = created["key_secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap();

    let (status, _) = send(&app, Method::GET, "/api/v1/servers", Some(&second), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, revoked) = tenant.delete(&format!("/api/v1/api-keys/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = send(&app, Method::GET, "/api/v1/servers", Some(&second), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
