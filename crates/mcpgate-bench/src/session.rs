//! One MCP session over Streamable HTTP, as a client opens it.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

pub struct Session {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    next_id: AtomicU64,
}

impl Session {
    /// `initialize` + `notifications/initialized`.
    pub async fn open(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(token) = token {
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            );
        }
        let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "mcpgate-bench", "version": "1"}}});
        let response = client
            .post(url)
            .headers(headers.clone())
            .json(&initialize)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "initialize answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        let session_id = response
            .headers()
            .get("mcp-session-id")
            .context("no Mcp-Session-Id on the initialize answer")?
            .clone();
        response.bytes().await?;
        headers.insert("mcp-session-id", session_id);
        headers.insert(
            "mcp-protocol-version",
            HeaderValue::from_static("2025-06-18"),
        );
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        client
            .post(url)
            .headers(headers.clone())
            .json(&initialized)
            .send()
            .await?
            .bytes()
            .await?;
        Ok(Self {
            client,
            url: url.to_owned(),
            headers,
            next_id: AtomicU64::new(1),
        })
    }

    /// One `tools/call`; `Err` on a transport error, an HTTP error or an error result.
    pub async fn call(&self, tool: &str, arguments: &Value) -> anyhow::Result<()> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}});
        let response = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.bytes().await?;
        if !status.is_success() {
            bail!("HTTP {status}");
        }
        // Both JSON and SSE answers carry the result text; a refusal says isError.
        let text = String::from_utf8_lossy(&text);
        if text.contains("\"isError\":true") || text.contains("\"error\":{") {
            bail!("error result");
        }
        Ok(())
    }

    /// Opens the server-initiated SSE stream (GET) and keeps it.
    pub async fn open_stream(&self) -> anyhow::Result<reqwest::Response> {
        let mut headers = self.headers.clone();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.remove(CONTENT_TYPE);
        let response = self.client.get(&self.url).headers(headers).send().await?;
        if !response.status().is_success() {
            bail!("GET stream answered {}", response.status());
        }
        Ok(response)
    }
}
