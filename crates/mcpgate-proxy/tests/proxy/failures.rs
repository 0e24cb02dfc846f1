//! Sabotage: Redis killed mid-load and restarted, an upstream that hangs, and the
//! audit log unwritable under a strict-audit policy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpgate_demo::DemoSettings;
use mcpgate_local::{LocalRedis, RedisOptions};
use mcpgate_store::changes::CHANGES_CHANNEL;
use serde_json::json;

use crate::helpers::{add_server, denial_text, spawn, Options};

const ROOMY_LIMIT: &str = r#"{"version":"1","default":"allow","tools":{"k8s_run_pod":{"limits":[{"counter":"c","window":"minute","max":100000}]}}}"#;

#[tokio::test]
async fn with_redis_killed_mid_load_calls_fail_closed_fast_and_recover_after_a_restart() {
    let mut proxy = spawn(Options {
        policy: Some(ROOMY_LIMIT.into()),
        ..Options::default()
    })
    .await;
    let proxy_ref = &proxy;
    let session = proxy.initialize().await;
    let port: u16 = proxy
        .redis
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let refused: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let admitted: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let load = (0..6u64).map(|worker| {
        let (stop, refused, admitted, session) = (
            stop.clone(),
            refused.clone(),
            admitted.clone(),
            session.clone(),
        );
        async move {
            let mut id = worker * 100_000;
            while !stop.load(Ordering::Relaxed) {
                id += 1;
                let started = Instant::now();
                let (_, response) = proxy_ref
                    .call(&session, id, "k8s_run_pod", json!({"image":"nginx"}))
                    .await;
                let took = started.elapsed();
                if response["result"]["structuredContent"]["kind"] == "limiter_unavailable" {
                    refused.lock().unwrap().push((Instant::now(), took));
                } else if response["result"]["isError"] != true {
                    admitted.lock().unwrap().push(Instant::now());
                }
            }
        }
    });
    let scenario = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let killed = Instant::now();
        proxy_ref_kill(&proxy_ref.redis_conn, port).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let restarted = Instant::now();
        let redis = LocalRedis::start(RedisOptions {
            port,
            data_dir: None,
            startup_timeout: Duration::from_secs(10),
        })
        .await
        .expect("restarting Redis on the same port");
        // Admitted again, and the change stream listening again, without a proxy restart.
        let deadline = restarted + Duration::from_secs(15);
        let subscribed = loop {
            let mut connection = proxy_ref.redis_conn.connection();
            let listeners: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(CHANGES_CHANNEL)
                .arg("{\"kind\":\"ping\"}")
                .query_async(&mut connection)
                .await;
            if matches!(listeners, Ok(n) if n >= 1) {
                break restarted.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "the change stream never resubscribed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let recovered = loop {
            if let Some(at) = admitted.lock().unwrap().iter().find(|at| **at > restarted) {
                break *at - restarted;
            }
            assert!(Instant::now() < deadline, "calls were never admitted again");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        (killed, restarted, recovered, subscribed, redis)
    };
    let (_, (killed, restarted, recovered, subscribed, redis)) =
        tokio::join!(futures_util::future::join_all(load), scenario);

    let refused = std::mem::take(&mut *refused.lock().unwrap());
    let during: Vec<Duration> = refused
        .iter()
        .filter(|(at, _)| *at > killed + Duration::from_millis(200) && *at < restarted)
        .map(|(_, took)| *took)
        .collect();
    assert!(
        during.len() > 10,
        "only {} refusals while Redis was down",
        during.len()
    );
    let mut sorted = during.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let p95 = sorted[sorted.len() * 95 / 100];
    let slowest = sorted[sorted.len() - 1];
    eprintln!(
        "Redis down: {} fail-closed answers, median {median:?}, p95 {p95:?}, slowest {slowest:?}; \
         restarted: calls admitted after {recovered:?}, change stream back after {subscribed:?}",
        during.len()
    );
    // p95 rather than the maximum: the whole suite shares two cores, and one scheduling
    // hiccup says nothing about the limiter (which answers without touching Redis).
    assert!(p95 < Duration::from_millis(100), "p95 of refusals {p95:?}");
    assert!(recovered < Duration::from_secs(5), "{recovered:?}");
    proxy.shut_down().await;
    redis.kill().await;
}

/// Kills the test's Redis by asking it to shut down without saving (as abrupt as a crash
/// for the proxy: every connection drops at once).
async fn proxy_ref_kill(redis: &mcpgate_store::Redis, port: u16) {
    let mut connection = redis.connection();
    let _: Result<(), _> = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .query_async(&mut connection)
        .await;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("Redis did not stop");
}

#[tokio::test]
async fn a_hanging_upstream_times_out_clearly_without_holding_up_other_servers() {
    let proxy = spawn(Options {
        policy: Some(ROOMY_LIMIT.into()),
        demo: DemoSettings {
            hang_tools: vec!["k8s_run_pod".into()],
            ..DemoSettings::default()
        },
        settings: |s| s.upstream_response_timeout = Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let healthy = mcpgate_demo::spawn(DemoSettings {
        require_header: Some((
            crate::helpers::UPSTREAM_HEADER.0.into(),
            crate::helpers::UPSTREAM_HEADER.1.into(),
        )),
        ..DemoSettings::default()
    })
    .await;
    let (other_server, other_token) =
        add_server(&proxy, &healthy, r#"{"version":"1","default":"allow"}"#).await;
    let session = proxy.initialize().await;
    let other_url = format!("http://{}/mcp/{}/", proxy.addr, other_server);
    let other_init = proxy
        .client
        .post(&other_url)
        .bearer_auth(&other_token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(crate::helpers::initialize_body())
        .send()
        .await
        .unwrap();
    let other_session = other_init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let started = Instant::now();
    let hanging = proxy.call(&session, 1, "k8s_run_pod", json!({"image":"nginx"}));
    let others = async {
        let mut slowest = Duration::ZERO;
        for id in 0..5 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let began = Instant::now();
            let response = proxy
                .client
                .post(&other_url)
                .bearer_auth(&other_token)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-session-id", &other_session)
                .header("mcp-protocol-version", "2025-06-18")
                .body(
                    json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                    "params":{"name":"k8s_get_nodes","arguments":{}}})
                    .to_string(),
                )
                .send()
                .await
                .unwrap();
            let text = response.text().await.unwrap();
            assert!(text.contains("k8s_get_nodes ok"), "{text}");
            slowest = slowest.max(began.elapsed());
        }
        slowest
    };
    let ((status, response), slowest_other) = tokio::join!(hanging, others);
    let waited = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(
        response["error"]["code"],
        mcpgate_proxy::UPSTREAM_UNAVAILABLE
    );
    let message = response["error"]["message"].as_str().unwrap();
    assert!(message.contains("did not answer within 2s"), "{message}");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert!(
        slowest_other < Duration::from_millis(500),
        "{slowest_other:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut redis = proxy.redis_conn.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    for key in keys {
        let count: i64 = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(count, 0, "{key} was not released");
    }
}

#[tokio::test]
async fn strict_audit_writes_the_row_before_the_call_and_refuses_when_it_cannot() {
    let policy = r#"{"version":"1","default":"allow","settings":{"audit":"strict"}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        // Queued rows would take an hour: only a strict write can be seen at once.
        settings: |s| s.audit_flush_interval = Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (_, response) = proxy.call(&session, 1, "k8s_get_nodes", json!({})).await;
    assert!(response["result"]["isError"] != true, "{response}");
    let rows =
        mcpgate_store::audit::query_audit(&proxy.db.pool, proxy.tenant, &Default::default(), 10)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "the row was written before the answer");
    assert_eq!(rows[0].event.decision, "allow");

    // Sabotage: the audit table cannot be written.
    sqlx::query("ALTER TABLE audit_events RENAME TO audit_events_away")
        .execute(&proxy.db.pool)
        .await
        .unwrap();
    let before = proxy.demo.recorded().lock().unwrap().len();
    let (_, response) = proxy.call(&session, 2, "k8s_get_nodes", json!({})).await;
    assert!(denial_text(&response).starts_with("[POLICY DENIED] the audit log cannot be written"));
    assert_eq!(
        response["result"]["structuredContent"]["kind"],
        "audit_unavailable"
    );
    assert_eq!(
        proxy.demo.recorded().lock().unwrap().len(),
        before,
        "nothing went upstream"
    );
    sqlx::query("ALTER TABLE audit_events_away RENAME TO audit_events")
        .execute(&proxy.db.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn strict_audit_holds_inside_a_batch_and_nothing_runs_when_a_row_cannot_be_written() {
    let policy = r#"{"version":"1","default":"allow","settings":{"audit":"strict"}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        settings: |s| s.audit_flush_interval = Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"k8s_get_nodes","arguments":{}}},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"k8s_get_namespaces","arguments":{}}}
    ]);
    let response = proxy.post(Some(&session), batch.to_string()).await;
    assert_eq!(response.status(), 200);
    let rows =
        mcpgate_store::audit::query_audit(&proxy.db.pool, proxy.tenant, &Default::default(), 10)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "both rows were written before the batch ran");

    sqlx::query("ALTER TABLE audit_events RENAME TO audit_events_away")
        .execute(&proxy.db.pool)
        .await
        .unwrap();
    let before = proxy.demo.recorded().lock().unwrap().len();
    let response = proxy.post(Some(&session), batch.to_string()).await;
    let answers: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(
        answers[0]["result"]["structuredContent"]["kind"], "audit_unavailable",
        "{answers:?}"
    );
    assert!(answers[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not run"));
    assert_eq!(
        proxy.demo.recorded().lock().unwrap().len(),
        before,
        "nothing went upstream"
    );
    sqlx::query("ALTER TABLE audit_events_away RENAME TO audit_events")
        .execute(&proxy.db.pool)
        .await
        .unwrap();
}
