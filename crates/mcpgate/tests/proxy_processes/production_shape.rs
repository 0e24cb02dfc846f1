//! The production shape on one machine (issue 17, item 2): `scripts/production-shape.sh`
//! runs two API and three proxy processes behind nginx (round robin, no stickiness) on
//! one Postgres and a Redis Cluster, and the official Python SDK's journey goes
//! through it: a session whose calls nginx spreads over the proxies, an exact limit,
//! a policy change seen by every proxy within a second, a held call approved on the
//! other API replica, and a proxy SIGKILLed under load.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_store::TenantId;
use mcpgate_testkit::fresh_database;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::replica_crash::kill_a_proxy_under_load;
use super::shape::{rest, tool_calls_seen, Mcp, Shape};

/// Every read allowed, a limit of 10 an hour on `k8s_get_namespaces`, deletions held.
fn policy(audit: &str, cluster_info: &str) -> Value {
    json!({"version": "1", "default": "deny",
        "tools": {
            "k8s_get_nodes": {},
            "k8s_cluster_info": {"action": cluster_info},
            "k8s_get_namespaces": {"limits": [
                {"counter": "namespaces", "window": "hour", "max": 10, "scope": "grant"}]},
            "k8s_delete_ns": {"action": "require_approval"}},
        "settings": {"audit": audit}})
}

struct Tenant {
    client: reqwest::Client,
    api: String,
    key: String,
    id: TenantId,
}

impl Tenant {
    async fn sign_up(client: &reqwest::Client, api: String) -> Self {
        let (status, body) = rest(
            client,
            Method::POST,
            format!("{api}/api/v1/signup"),
            None,
            Some(
                json!({"email": "owner@shape.test", "password": "correct horse battery",
                "tenant_name": "Shape"}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "signing up: {body}");
        Self {
            client: client.clone(),
            key: body["api_key"]["key_secret"]
                .as_str()
                .expect("a key")
                .to_owned(),
            id: body["tenant"]["id"]
                .as_str()
                .expect("an id")
                .parse()
                .expect("a tenant id"),
            api,
        }
    }

    /// `method path` on the API replica at `api` (nginx's URL or one replica's).
    async fn on(
        &self,
        api: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        rest(
            &self.client,
            method,
            format!("{api}{path}"),
            Some(&self.key),
            body,
        )
        .await
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.on(&self.api, method, path, body).await
    }

    /// Registers the demo server under `name` with `policy`; its id.
    async fn server(&self, name: &str, url: &str, policy: Value) -> String {
        let (status, body) = self
            .send(
                Method::POST,
                "/api/v1/servers",
                Some(json!({"name": name, "url": url})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "registering {name}: {body}");
        let id = body["id"].as_str().expect("a server id").to_owned();
        let path = format!("/api/v1/servers/{id}/policy");
        let (status, body) = self.send(Method::PUT, &path, Some(policy)).await;
        assert!(status.is_success(), "the policy of {name}: {status} {body}");
        id
    }
}

/// Seconds left in the current UTC hour (the limit's window).
fn seconds_left_in_hour() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    3600 - now % 3600
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apis_and_three_proxies_behind_nginx_keep_every_promise() {
    let db = fresh_database().await;
    let shape = Shape::start(&db.url, Duration::from_millis(20));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let proxies = shape.proxies();
    let lb = shape.value("PROXY_URL").to_owned();
    let tenant = Tenant::sign_up(&client, shape.value("API_URL").to_owned()).await;
    let demo = shape.value("DEMO_URL").to_owned();
    let queued = tenant.server("k8s", &demo, policy("queued", "allow")).await;
    let strict = tenant
        .server("k8s-strict", &demo, policy("strict", "allow"))
        .await;
    let (status, body) = tenant
        .send(
            Method::POST,
            "/api/v1/grants",
            Some(json!({"name": "agent", "servers": [queued, strict]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "creating the grant: {body}");
    let token = body["token"].as_str().expect("a token").to_owned();
    let mcp = Mcp {
        client: client.clone(),
        token: token.clone(),
    };
    let queued_lb = format!("{lb}/mcp/{queued}/");
    let strict_lb = format!("{lb}/mcp/{strict}/");

    // 1. One SDK session through nginx: its calls land on several proxies.
    let before: Vec<u64> =
        futures_util::future::join_all(proxies.iter().map(|proxy| tool_calls_seen(&client, proxy)))
            .await;
    let mut agent = Driver::start(Sdk::Python2, &queued_lb, &token).await;
    let tools = agent.list_tools().await;
    assert!(tools.contains(&"k8s_get_nodes".to_owned()), "{tools:?}");
    let results = agent.call_times("k8s_get_nodes", json!({}), 30).await;
    assert_eq!(results.len(), 30);
    assert!(
        results
            .iter()
            .all(|result| !result.is_error() && result.text().contains("ok")),
        "every call of the session ran: {:?}",
        results.iter().map(|result| &result.0).collect::<Vec<_>>()
    );
    let after: Vec<u64> =
        futures_util::future::join_all(proxies.iter().map(|proxy| tool_calls_seen(&client, proxy)))
            .await;
    let per_proxy: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    eprintln!("one SDK session's 30 calls, per proxy: {per_proxy:?}");
    assert_eq!(
        per_proxy.iter().sum::<u64>(),
        30,
        "every call went through a proxy"
    );
    assert!(
        per_proxy.iter().filter(|calls| **calls > 0).count() >= 2,
        "nginx spread the session over the proxies: {per_proxy:?}"
    );

    // 2. A held call, approved through API replica 2, completes in the SDK session.
    let approver = async {
        let deadline = Instant::now() + Duration::from_secs(15);
        let pending = loop {
            let (status, body) = tenant
                .send(Method::GET, "/api/v1/approvals?status=pending", None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let pending = body["approvals"].as_array().cloned().unwrap_or_default();
            if !pending.is_empty() || Instant::now() > deadline {
                break pending;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(pending.len(), 1, "{pending:?}");
        let id = pending[0]["id"]
            .as_str()
            .expect("an approval id")
            .to_owned();
        let path = format!("/api/v1/approvals/{id}/approve");
        let (status, body) = tenant
            .on(&shape.api(2), Method::POST, &path, Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::OK, "approving on API 2: {body}");
        Instant::now()
    };
    let (held, approved_at) = tokio::join!(agent.call("k8s_delete_ns", json!({})), approver);
    let after_approval = approved_at.elapsed();
    assert!(!held.is_error(), "the approved call ran: {:?}", held.0);
    assert!(held.text().contains("k8s_delete_ns ok"), "{:?}", held.0);
    eprintln!("held call: answered {after_approval:?} after the approval on API replica 2");
    let (status, _) = agent.finish().await;
    assert!(status.success(), "the SDK session ended cleanly");

    // 3. An exact limit: 10 of 40 concurrent calls through nginx, over every proxy.
    if seconds_left_in_hour() < 20 {
        tokio::time::sleep(Duration::from_secs(seconds_left_in_hour() + 1)).await;
    }
    let session = mcp.initialize(&queued_lb).await;
    let calls = (0..40).map(|i| {
        let (mcp, session, url) = (&mcp, &session, &queued_lb);
        async move {
            mcp.call(url, session, &format!("limit-{i}"), "k8s_get_namespaces")
                .await
                .unwrap()
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    assert!(
        answers.iter().all(|answer| answer.status == 200),
        "every call answered 200"
    );
    let admitted = answers.iter().filter(|answer| answer.ran()).count();
    let limited = answers
        .iter()
        .filter(|answer| answer.message["result"]["structuredContent"]["kind"] == "rate_limit")
        .count();
    let replicas: HashSet<&str> = answers
        .iter()
        .filter_map(|a| a.upstream.as_deref())
        .collect();
    eprintln!(
        "limit 10: {admitted} admitted, {limited} limited of 40, answered by {} proxies",
        replicas.len()
    );
    assert_eq!(
        replicas.len(),
        3,
        "the 40 calls went to all three proxies: {replicas:?}"
    );
    let others: Vec<&Value> = answers
        .iter()
        .filter(|answer| {
            !answer.ran() && answer.message["result"]["structuredContent"]["kind"] != "rate_limit"
        })
        .map(|answer| &answer.message)
        .take(3)
        .collect();
    assert_eq!(
        (admitted, limited),
        (10, 30),
        "exactly the limit is admitted; other answers: {others:?}"
    );

    // 4. A policy change through API replica 1, seen by every proxy within a second.
    let direct: Vec<String> = proxies
        .iter()
        .map(|proxy| format!("{proxy}/mcp/{queued}/"))
        .collect();
    let sessions: Vec<String> =
        futures_util::future::join_all(direct.iter().map(|url| mcp.initialize(url))).await;
    for ((proxy, url), session) in proxies.iter().zip(&direct).zip(&sessions) {
        let answer = mcp
            .call(url, session, "before", "k8s_cluster_info")
            .await
            .unwrap();
        assert!(
            answer.ran(),
            "{proxy} allows k8s_cluster_info before the change: {}",
            answer.message
        );
    }
    let path = format!("/api/v1/servers/{queued}/policy");
    let sent = Instant::now();
    let (status, body) = tenant
        .on(
            &shape.api(1),
            Method::PUT,
            &path,
            Some(policy("queued", "deny")),
        )
        .await;
    assert!(
        status.is_success(),
        "changing the policy on API 1: {status} {body}"
    );
    let changed = Instant::now();
    // Every proxy polled at once, each until it refuses or a second has passed.
    let mcp_ref = &mcp;
    let seen = futures_util::future::join_all(direct.iter().zip(&sessions).map(
        |(url, session)| async move {
            while changed.elapsed() < Duration::from_secs(1) {
                let answer = mcp_ref
                    .call(url, session, "after", "k8s_cluster_info")
                    .await
                    .unwrap();
                let text = answer.message["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap_or_default();
                if text.starts_with("[POLICY DENIED]") {
                    return Some(changed.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None
        },
    ))
    .await;
    eprintln!(
        "policy change through API 1 (the PUT took {:?}): enforced by proxy 1, 2, 3 \
         after {seen:?} from its answer",
        changed - sent
    );
    assert!(
        seen.iter().all(Option::is_some),
        "every proxy refuses k8s_cluster_info within 1 s of the change: {seen:?}"
    );

    // 5. Proxy 2 SIGKILLed under load.
    kill_a_proxy_under_load(&shape, &mcp, &db.pool, tenant.id, [&queued_lb, &strict_lb]).await;
}
