//! The REST API as a tenant calls it, for tests: sign up, then send requests with
//! the tenant's API key and read the status and JSON body.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::TestApp;

/// A signed-up tenant, calling the API with its first API key.
#[derive(Debug)]
pub struct Tenant<'a> {
    /// The app it lives in.
    pub app: &'a TestApp,
    /// Its API key.
    pub key: String,
    /// Its id.
    pub tenant_id: String,
}

/// Signs up a tenant with an email no other test uses.
pub async fn sign_up(app: &TestApp) -> Tenant<'_> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let email = format!(
        "owner-{}-{}-{}@example.com",
        std::process::id(),
        uuid::Uuid::new_v4().simple(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    );
    let (status, body) = send(
        app,
        Method::POST,
        "/api/v1/signup",
        None,
        Some(json!({"email": email, "password": "correct horse battery", "tenant_name": "Acme"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "signing up: {body}");
    Tenant {
        app,
        key: body["api_key"]["key_secret"]
            .as_str()
            .expect("the API key")
            .to_owned(),
        tenant_id: body["tenant"]["id"]
            .as_str()
            .expect("the tenant id")
            .to_owned(),
    }
}

/// Sends a request to the API; the status and the JSON body (`Null` when empty).
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
    let text = response.text().await.expect("the API's body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {status}: {text}"))
    };
    (status, body)
}

impl Tenant<'_> {
    /// `method path` with this tenant's key.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        send(self.app, method, path, Some(&self.key), body).await
    }
    /// `GET path`.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }
    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(body)).await
    }
    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(body)).await
    }
    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(body)).await
    }
    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, None).await
    }

    /// Registers an upstream (discovery runs now); the created server as JSON.
    pub async fn register(&self, name: &str, url: &str, headers: Value) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/servers",
                json!({"name": name, "url": url, "headers": headers}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "registering {url}: {body}");
        body
    }
}
