//! The official MCP SDKs (Python 2.x and 1.x, TypeScript) against the real product:
//! API and proxy in-process, the demo k8s server and `server-everything` upstream.
//! Everything a tenant does goes through the REST API; everything an agent does goes
//! through an SDK, so a proxy answer an SDK cannot take fails here.

use std::time::{Duration, Instant};

use mcpgate_demo::DemoSettings;
use mcpgate_e2e::api::{sign_up, Grant, Server, Tenant};
use mcpgate_e2e::drivers::{CallOutcome, Driver, Sdk};
use mcpgate_e2e::raw::{direct_call, initialize_body, post};
use mcpgate_e2e::window::ensure_room_in_minute;
use serde_json::{json, Value};

#[path = "sdk/legacy_sse.rs"]
mod legacy_sse;
#[path = "sdk/reference_server.rs"]
mod reference_server;

const DENIED: &str = "[POLICY DENIED] ";
const IMAGE_REASON: &str = "Images must come from registry.internal/.";
const DELETE_REASON: &str = "Agents may not delete namespaces; ask a human.";
const SCALE_REASON: &str = "Scaling is on trial: reported, not enforced.";
/// The demo's own credential: the proxy adds it, the agent never sees it.
const UPSTREAM_KEY: (&str, &str) = ("x-upstream-key", "upstream-secret");
const GOOD_POD: &str = r#"{"context":"prod","name":"job","image":"registry.internal/tools:1.2"}"#;

/// The seed policy's `k8s_run_pod` rate limit, plus an argument rule on it, a denied, a
/// hidden, a shadowed and a plainly allowed tool; everything else denied and hidden.
fn demo_policy() -> Value {
    json!({"version": "1", "default": "deny",
        "hide": ["k8s_pod_exec"],
        "tools": {
            "k8s_run_pod": {
                "require": [{"path": "args.image", "op": "prefix",
                             "value": "registry.internal/", "reason": IMAGE_REASON}],
                "limits": [{"counter": "k8s_run_pod_rate", "window": "minute",
                            "max": 10, "scope": "grant"}]},
            "k8s_get_namespaces": {},
            "k8s_delete_ns": {"action": "deny", "reason": DELETE_REASON},
            "k8s_scale_resource": {"action": "deny", "mode": "shadow", "reason": SCALE_REASON}}})
}

#[tokio::test]
async fn the_python_2x_sdk_is_governed_end_to_end() {
    governed_journey(Sdk::Python2).await;
}

#[tokio::test]
async fn the_python_1x_sdk_is_governed_end_to_end() {
    governed_journey(Sdk::Python1).await;
}

#[tokio::test]
async fn the_typescript_sdk_is_governed_end_to_end() {
    governed_journey(Sdk::TypeScript).await;
}

/// One agent's session through the proxy to the demo k8s server: listing, allowed,
/// denied, hidden, argument-checked, rate-limited and shadowed calls, each answered
/// so the SDK keeps its session, then revocation.
async fn governed_journey(sdk: Sdk) {
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings {
        require_header: Some((UPSTREAM_KEY.0.into(), UPSTREAM_KEY.1.into())),
        ..DemoSettings::default()
    })
    .await;
    let tenant = sign_up(&app).await;
    let headers = json!({UPSTREAM_KEY.0: UPSTREAM_KEY.1});
    let server = tenant.register("k8s", &demo.url(), headers).await;
    assert_eq!(
        server.tools.len(),
        57,
        "discovery found the demo's catalogue"
    );
    tenant.put_policy(&server, demo_policy()).await;
    let grant = tenant.grant("agent", &server).await;

    let mut agent = Driver::start(sdk, &server.proxy_url, &grant.token).await;
    assert_eq!(agent.initialize["serverInfo"]["name"], "mcpgate-demo");

    let mut tools = agent.list_tools().await;
    tools.sort();
    assert_eq!(
        tools,
        ["k8s_get_namespaces", "k8s_run_pod", "k8s_scale_resource"],
        "{sdk}: tools/list shows what the policy allows (a shadowed deny stays visible)"
    );

    // The rate limit first, while the minute is young: exactly 10 of 25 pass.
    ensure_room_in_minute(Duration::from_secs(20)).await;
    let burst = agent
        .call_times("k8s_run_pod", serde_json::from_str(GOOD_POD).unwrap(), 25)
        .await;
    let passed = burst.iter().filter(|call| !call.is_error()).count();
    assert_eq!(
        passed, 10,
        "{sdk}: 10 of 25 k8s_run_pod calls pass: {burst:#?}"
    );
    assert!(burst[..10]
        .iter()
        .all(|call| call.text().starts_with("k8s_run_pod ok: ")));
    for refused in &burst[10..] {
        assert_denied(
            sdk,
            refused,
            "Rate limit exceeded for counter 'k8s_run_pod_rate'",
        );
    }

    let allowed = agent
        .call("k8s_get_namespaces", json!({"context": "prod"}))
        .await;
    let upstream = direct_call(
        &demo.url(),
        &[UPSTREAM_KEY],
        "k8s_get_namespaces",
        json!({"context": "prod"}),
    )
    .await;
    assert!(!allowed.is_error(), "{sdk}: {allowed:?}");
    assert_eq!(
        allowed.0["content"], upstream["content"],
        "{sdk}: an allowed call returns the upstream's result unchanged"
    );

    let denied = agent
        .call(
            "k8s_delete_ns",
            json!({"context": "prod", "namespace": "team-a"}),
        )
        .await;
    assert_denied(sdk, &denied, DELETE_REASON);
    let hidden = agent
        .call(
            "k8s_pod_exec",
            json!({"context": "prod", "pod": "p", "command": "id"}),
        )
        .await;
    assert_denied(sdk, &hidden, "");

    let bad_image = json!({"context": "prod", "name": "job", "image": "docker.io/evil:latest"});
    let refused = agent.call("k8s_run_pod", bad_image).await;
    assert_denied(sdk, &refused, IMAGE_REASON);

    // The session survived every refusal.
    let after = agent
        .call("k8s_get_namespaces", json!({"context": "staging"}))
        .await;
    assert_eq!(
        after.text(),
        r#"k8s_get_namespaces ok: {"context":"staging"}"#,
        "{sdk}"
    );

    let shadowed = agent
        .call(
            "k8s_scale_resource",
            json!({"context": "prod", "replicas": 3}),
        )
        .await;
    assert!(
        !shadowed.is_error(),
        "{sdk}: a shadow rule lets the call through: {shadowed:?}"
    );
    assert!(
        shadowed.text().starts_with("k8s_scale_resource ok: "),
        "{sdk}: {shadowed:?}"
    );
    let shadow_rows = tenant
        .audit_events(&format!("grant={}&decision=shadow", grant.id))
        .await;
    assert!(
        shadow_rows
            .iter()
            .any(|row| row["tool"] == "k8s_scale_resource"),
        "{sdk}: the shadowed call is audited as `shadow`: {shadow_rows:?}"
    );

    assert_token_never_reached_upstream(sdk, &demo, &grant);

    revoked_grant_is_refused(sdk, &tenant, &server, &grant, &mut agent, &demo).await;
    let (status, stderr) = agent.finish().await;
    println!("{sdk}: driver exited with {status} after revocation; stderr:\n{stderr}");
}

/// Revocation reaches the proxy within a second (measured with raw HTTP, which can
/// retry), and then the SDK's next call is refused without reaching the upstream.
async fn revoked_grant_is_refused(
    sdk: Sdk,
    tenant: &Tenant<'_>,
    server: &Server,
    grant: &Grant,
    agent: &mut Driver,
    demo: &mcpgate_demo::DemoHandle,
) {
    let client = reqwest::Client::new();
    tenant.revoke(grant).await;
    let revoked = Instant::now();
    loop {
        let status = post(
            &client,
            &server.proxy_url,
            &grant.token,
            None,
            initialize_body(),
        )
        .send()
        .await
        .expect("the proxy answers")
        .status();
        if status == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "{sdk}: a revoked grant still gets {status} after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{sdk}: revocation took effect after {:?}",
        revoked.elapsed()
    );

    let calls_before = upstream_calls(demo);
    let answer = agent
        .try_step(json!({"op": "call", "tool": "k8s_get_namespaces",
                         "arguments": {"context": "prod"}, "timeout": 10}))
        .await;
    let result = &answer["results"][0];
    let got_through =
        answer["op"] == "call" && result.get("error").is_none() && result["isError"] != true;
    assert!(
        !got_through,
        "{sdk}: a call after revocation was answered: {answer}"
    );
    assert_eq!(
        upstream_calls(demo),
        calls_before,
        "{sdk}: nothing reached the upstream"
    );
    println!("{sdk}: after revocation the SDK saw: {answer}");
}

fn assert_denied(sdk: Sdk, call: &CallOutcome, reason: &str) {
    assert!(
        call.is_error(),
        "{sdk}: a refusal is a tool result with isError: {call:?}"
    );
    assert!(
        call.text().starts_with(DENIED) && call.text()[DENIED.len()..].starts_with(reason),
        "{sdk}: refusal text {:?} should be {DENIED:?} + {reason:?}",
        call.text()
    );
}

fn assert_token_never_reached_upstream(sdk: Sdk, demo: &mcpgate_demo::DemoHandle, grant: &Grant) {
    let recorded = demo.recorded();
    let recorded = recorded.lock().unwrap();
    let calls = recorded
        .iter()
        .filter(|r| r.body.contains(r#""tools/call""#));
    assert!(calls.count() >= 14, "{sdk}: the upstream saw the calls");
    for request in recorded.iter() {
        for (name, value) in &request.headers {
            assert!(
                !value.contains(&grant.token),
                "{sdk}: the grant token reached the upstream in {name}"
            );
        }
        assert!(
            !request.body.contains(&grant.token),
            "{sdk}: token in a body"
        );
        assert_eq!(request.header(UPSTREAM_KEY.0), Some(UPSTREAM_KEY.1));
    }
}

fn upstream_calls(demo: &mcpgate_demo::DemoHandle) -> usize {
    let recorded = demo.recorded();
    let recorded = recorded.lock().unwrap();
    recorded
        .iter()
        .filter(|r| r.body.contains(r#""tools/call""#))
        .count()
}

#[tokio::test]
async fn a_session_id_from_another_grant_is_refused() {
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings::default()).await;
    let tenant = sign_up(&app).await;
    let server = tenant.register("k8s", &demo.url(), json!({})).await;
    tenant.put_policy(&server, demo_policy()).await;
    let owner = tenant.grant("owner", &server).await;
    let intruder = tenant.grant("intruder", &server).await;
    let client = reqwest::Client::new();
    let post = |token: &str, session: Option<&str>, body: String| {
        post(&client, &server.proxy_url, token, session, body).send()
    };

    let initialized = post(&owner.token, None, initialize_body()).await.unwrap();
    assert_eq!(initialized.status(), 200);
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_owned();
    let stolen = post(&intruder.token, Some(&session), list.clone())
        .await
        .unwrap();
    assert_eq!(
        stolen.status(),
        404,
        "another grant's session is unknown to this one"
    );
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = client
            .request(method.clone(), &server.proxy_url)
            .bearer_auth(&intruder.token)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            404,
            "{method} with another grant's session"
        );
    }
    let own = post(&owner.token, Some(&session), list).await.unwrap();
    assert_eq!(own.status(), 200, "the owner's session is untouched");
}
