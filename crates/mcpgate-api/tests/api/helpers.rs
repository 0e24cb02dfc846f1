//! Typed request helpers over a running app.

use mcpgate_demo::{DemoHandle, DemoSettings};
use mcpgate_testkit::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A signed-up tenant and the app it lives in.
pub struct Tenant<'a> {
    pub app: &'a TestApp,
    pub key: String,
    pub tenant_id: String,
}

/// Signs up a tenant with a unique email.
pub async fn sign_up(app: &TestApp) -> Tenant<'_> {
    let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, body) = send(
        app,
        Method::POST,
        "/api/v1/signup",
        None,
        Some(json!({"email": email, "password": "correct horse battery", "tenant_name": "Acme"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Tenant {
        app,
        key: body["api_key"]["key_secret"].as_str().unwrap().to_owned(),
        tenant_id: body["tenant"]["id"].as_str().unwrap().to_owned(),
    }
}

/// Sends a request and returns the status and the JSON body (`Null` when empty).
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.api_url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {status}: {text}"))
    };
    (status, body)
}

impl Tenant<'_> {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.app, Method::GET, path, Some(&self.key), None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.app, Method::POST, path, Some(&self.key), Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.app, Method::PATCH, path, Some(&self.key), Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.app, Method::PUT, path, Some(&self.key), Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        send(self.app, Method::DELETE, path, Some(&self.key), None).await
    }

    /// Registers `url` and returns the created server.
    pub async fn register(&self, name: &str, url: &str) -> Value {
        let (status, body) = self
            .post("/api/v1/servers", json!({"name": name, "url": url}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

/// The demo upstream serving the k8s-multicluster-mcp catalogue.
pub async fn demo() -> DemoHandle {
    mcpgate_demo::spawn(DemoSettings::default()).await
}

/// PolicyLayer's seed rule for `k8s_run_pod`.
pub fn seed_policy() -> Value {
    json!({"version": "1", "default": "deny",
        "tools": {"k8s_run_pod": {"limits": [
            {"counter": "k8s_run_pod_rate", "window": "minute", "max": 10, "scope": "grant"}]}}})
}
