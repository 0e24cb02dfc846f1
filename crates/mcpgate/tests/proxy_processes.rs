//! `mcpgate proxy` as a real process: SIGTERM under load stops accepting connections,
//! finishes the calls in flight, writes every audit row, and exits 0.
//! `production_shape`: the whole production shape (two APIs, three proxies, nginx,
//! a Redis Cluster) from `scripts/production-shape.sh`.

#[path = "proxy_processes/production_shape.rs"]
mod production_shape;
#[path = "proxy_processes/replica_crash.rs"]
mod replica_crash;
#[path = "proxy_processes/shape.rs"]
mod shape;

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use mcpgate_auth::{GrantClaims, GrantSigningKey, SecretKey, ServerScope};
use mcpgate_demo::DemoSettings;
use mcpgate_store::accounts::{self, NewApiKey, NewSignup};
use mcpgate_store::grants::{self, NewGrant};
use mcpgate_store::servers::{self, DiscoveredServer, DiscoveredTool, NewServer};
use mcpgate_store::{policies, GrantId, ServerId};
use mcpgate_testkit::{fresh_database, fresh_redis};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_calls_and_loses_no_audit_row() {
    let db = fresh_database().await;
    let redis = fresh_redis().await;
    // Every call takes 400 ms upstream, so some are always in flight.
    let demo = mcpgate_demo::spawn(DemoSettings {
        latency: Duration::from_millis(400),
        ..DemoSettings::default()
    })
    .await;
    let signing_key = GrantSigningKey::generate();
    let secret_key = SecretKey::generate();
    let (tenant, _, _) = accounts::sign_up(
        &db.pool,
        &NewSignup {
            tenant_name: "Acme".into(),
            email: "owner@acme.test".into(),
            password_hash: "not-a-real-hash".into(),
            first_key: NewApiKey {
                name: "first".into(),
                prefix: "abcdefgh".into(),
                hash: vec![0; 32],
            },
        },
    )
    .await
    .unwrap();
    let tenant = tenant.id;
    let server = ServerId::new();
    let tool = DiscoveredTool {
        name: "k8s_get_nodes".into(),
        definition: json!({"name":"k8s_get_nodes","inputSchema":{"type":"object"}}),
        category: "read".into(),
        risk: "low".into(),
        evidence: json!([]),
        fingerprint: "fingerprint".into(),
        confidence: None,
    };
    servers::create_server(
        &db.pool,
        tenant,
        &NewServer {
            id: server,
            name: "k8s".into(),
            url: demo.url(),
            headers_sealed: None,
            header_names: vec![],
            discovered: DiscoveredServer {
                transport: "streamable_http".into(),
                server_info: None,
                protocol_version: None,
                instructions: None,
            },
        },
        &[tool],
    )
    .await
    .unwrap();
    policies::add_policy_version(
        &db.pool,
        tenant,
        server,
        r#"{"version":"1","default":"allow"}"#,
        "test",
        None,
    )
    .await
    .unwrap();
    let grant = GrantId::new();
    grants::create_grant(
        &db.pool,
        tenant,
        &NewGrant {
            id: grant,
            name: "agent".into(),
            server_ids: None,
            policy: None,
            expires_at: None,
        },
    )
    .await
    .unwrap();
    let token = signing_key.issue(&GrantClaims::new(
        grant.as_uuid(),
        tenant.as_uuid(),
        ServerScope::All,
        1,
        Utc::now(),
        None,
    ));

    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcpgate"))
        .arg("proxy")
        .env("MCPGATE_DATABASE_URL", &db.url)
        .env("MCPGATE_REDIS_URL", redis.url())
        .env("MCPGATE_PROXY_LISTEN", &listen)
        .env(
            "MCPGATE_GRANT_VERIFY_KEY",
            signing_key.verify_key().to_base64(),
        )
        .env("MCPGATE_SECRET_KEY", secret_key.to_base64())
        .env("MCPGATE_ALLOW_PRIVATE_UPSTREAMS", "true")
        .env("MCPGATE_PROXY_DRAIN_SECONDS", "10")
        .env("MCPGATE_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting mcpgate proxy");
    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the proxy did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("{base}/mcp/{server}/");
    let mcp = shape::Mcp {
        client: client.clone(),
        token,
    };
    let post = |session: Option<&str>, body: &serde_json::Value| mcp.post(&url, session, body);
    let initialize = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let response = post(None, &initialize).send().await.unwrap();
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let answered = Arc::new(AtomicUsize::new(0));
    let terminated = Arc::new(AtomicBool::new(false));
    let workers = (0..16u64).map(|worker| {
        let (answered, terminated, session, post) =
            (answered.clone(), terminated.clone(), session.clone(), &post);
        async move {
            let mut id = worker * 1_000_000;
            loop {
                id += 1;
                let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                    "params":{"name":"k8s_get_nodes","arguments":{}}});
                let sent = post(Some(&session), &body).send().await;
                let text = match sent {
                    Ok(response) => response.text().await,
                    Err(error) => Err(error),
                };
                match text {
                    Ok(text) if text.contains("k8s_get_nodes ok") => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(text) => panic!("unexpected answer: {text}"),
                    // Refused connections after SIGTERM: this worker is done.
                    Err(_) if terminated.load(Ordering::SeqCst) => return,
                    Err(error) => panic!("a call failed before SIGTERM: {error}"),
                }
            }
        }
    });
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let in_flight_before = answered.load(Ordering::SeqCst);
        terminated.store(true, Ordering::SeqCst);
        kill(pid, Signal::SIGTERM).unwrap();
        let signalled = Instant::now();
        // New connections are refused at once, while the calls in flight still finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let fresh = reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        assert!(
            fresh.is_err(),
            "a new connection was accepted while draining"
        );
        let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .expect("the proxy did not exit within the drain deadline")
            .unwrap();
        (status, signalled.elapsed(), in_flight_before)
    };
    let (_, (status, exited_after, before)) =
        tokio::join!(futures_util::future::join_all(workers), terminate);
    assert!(status.success(), "exit status {status}");
    let answered = answered.load(Ordering::SeqCst);
    assert!(
        answered > before,
        "calls in flight at SIGTERM were answered"
    );

    let rows = mcpgate_store::audit::query_audit(&db.pool, tenant, &Default::default(), 100_000)
        .await
        .unwrap();
    let calls = rows
        .iter()
        .filter(|row| row.event.method == "tools/call")
        .count();
    eprintln!(
        "SIGTERM: exited 0 after {exited_after:?}; {answered} calls answered \
         ({} after the signal), {calls} audit rows",
        answered - before
    );
    assert_eq!(
        calls, answered,
        "one audit row per answered call, none lost"
    );
}
