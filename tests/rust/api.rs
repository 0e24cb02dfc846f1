//! The control plane's REST API as a tenant uses it: sign up, register a server, put
//! a policy, create and revoke grants, read the audit log.

use std::time::Duration;

use mcpgate_testkit::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A signed-up tenant, calling the API with its first API key; typed helpers over
/// the test kit's REST client.
#[derive(Debug)]
pub struct Tenant<'a>(pub mcpgate_testkit::rest::Tenant<'a>);

/// A registered upstream server.
#[derive(Debug, Clone)]
pub struct Server {
    /// Its id.
    pub id: String,
    /// Where agents reach it through the proxy, as the API tells them.
    pub proxy_url: String,
    /// The tool names discovery found.
    pub tools: Vec<String>,
}

/// A grant and its token (shown once, at creation).
#[derive(Debug, Clone)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// The bearer token for the proxy.
    pub token: String,
}

/// Signs up a tenant with an email no other test uses.
pub async fn sign_up(app: &TestApp) -> Tenant<'_> {
    Tenant(mcpgate_testkit::rest::sign_up(app).await)
}

impl Tenant<'_> {
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.0.request(method, path, body).await
    }

    /// Registers an upstream (discovery runs now) with headers only the upstream sees.
    pub async fn register(&self, name: &str, url: &str, headers: Value) -> Server {
        let body = self.0.register(name, url, headers).await;
        let tools = body["tools"]
            .as_array()
            .expect("the discovered tools")
            .iter()
            .map(|tool| tool["name"].as_str().expect("a tool name").to_owned())
            .collect();
        Server {
            id: body["id"].as_str().expect("the server id").to_owned(),
            proxy_url: body["proxy_url"]
                .as_str()
                .expect("the server's proxy URL")
                .to_owned(),
            tools,
        }
    }

    /// Makes `document` the server's active policy.
    pub async fn put_policy(&self, server: &Server, document: Value) {
        let path = format!("/api/v1/servers/{}/policy", server.id);
        let (status, body) = self.request(Method::PUT, &path, Some(document)).await;
        assert!(status.is_success(), "putting the policy: {status} {body}");
    }

    /// A grant on `server` alone, without a policy of its own.
    pub async fn grant(&self, name: &str, server: &Server) -> Grant {
        let (status, body) = self
            .request(
                Method::POST,
                "/api/v1/grants",
                Some(json!({"name": name, "servers": [server.id]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "creating a grant: {body}");
        Grant {
            id: body["id"].as_str().expect("the grant id").to_owned(),
            token: body["token"].as_str().expect("the grant token").to_owned(),
        }
    }

    /// Revokes a grant.
    pub async fn revoke(&self, grant: &Grant) {
        let path = format!("/api/v1/grants/{}", grant.id);
        let (status, body) = self.request(Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::OK, "revoking the grant: {body}");
    }

    /// Held calls in `status` (`pending`, `approved`, ...), newest first.
    pub async fn approvals(&self, status: &str) -> Vec<Value> {
        let path = format!("/api/v1/approvals?status={status}");
        let (status, body) = self.request(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "listing approvals: {body}");
        body["approvals"]
            .as_array()
            .expect("an approval list")
            .clone()
    }

    /// Approves a held call: the proxy forwards it.
    pub async fn approve(&self, approval: &str) {
        let path = format!("/api/v1/approvals/{approval}/approve");
        let (status, body) = self.request(Method::POST, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::OK, "approving {approval}: {body}");
    }

    /// Audit events matching `query` (e.g. `grant=..&decision=shadow`), waiting up to
    /// five seconds for at least one: the proxy writes the log in batches.
    pub async fn audit_events(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/v1/audit?{query}");
        for _ in 0..50 {
            let (status, body) = self.request(Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "reading the audit log: {body}");
            let events = body["events"].as_array().cloned().unwrap_or_default();
            if !events.is_empty() {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Vec::new()
    }
}
