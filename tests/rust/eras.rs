//! Both protocol eras through the proxy, with the official SDK clients in every mode they
//! offer: the Python 2.x `mcp.client.Client` (`auto`, `legacy`, pinned 2026-07-28), the
//! TypeScript 2.x `@modelcontextprotocol/client` (`auto`, pinned), and today's 1.x clients
//! (Python `mcp` 1.30, TypeScript `@modelcontextprotocol/sdk` 1.32), against a dual-era
//! upstream on the Python SDK 2.x `MCPServer` (`tests/e2e/servers/policy_server.py`).
//!
//! Each client first connects to the upstream directly, so the era it must reach through
//! the proxy is known to be on offer, then runs one agent's journey through the proxy:
//! listing, allowed, denied, hidden, argument-checked, rate-limited (exactly N of M),
//! held for approval and approved through the REST API, progress, and an elicitation
//! round trip (at 2026-07-28 an `InputRequiredResult` the SDK retries with
//! `inputResponses`; at 2025-11-25 an `elicitation/create` on the call's stream).

use std::time::Duration;

use mcpgate_e2e::api::{sign_up, Tenant};
use mcpgate_e2e::drivers::{CallOutcome, Driver, Launch, Mode, Sdk, HANDSHAKE, MODERN};
use mcpgate_e2e::policy_server::{PolicyServer, TOOLS};
use mcpgate_e2e::window::ensure_room_in_minute;
use serde_json::{json, Value};

const DENIED: &str = "[POLICY DENIED] ";
const IMAGE_REASON: &str = "Images must come from registry.internal/.";
const DELETE_REASON: &str = "Agents may not delete files; ask a human.";
const RESTART_REASON: &str = "Restarting a service needs a person.";
const GOOD_IMAGE: &str = "registry.internal/tools:1.2";
/// `k8s_run_pod` calls a grant may make per minute, and how many the burst sends.
const POD_LIMIT: usize = 5;
const POD_BURST: u32 = 8;
const NAME: &str = "Ada Lovelace";

/// The seed policy's shape over the policy server's tools: a rate limit and an argument
/// rule on `k8s_run_pod`, a denial with a reason, a hidden tool, a held one, and
/// `ask_name` limited to one call a minute, so an elicitation round trip that were
/// charged per round would be refused on its retry.
fn policy() -> Value {
    json!({"version": "1", "default": "deny",
        "hide": ["secret_tool"],
        "tools": {
            "k8s_run_pod": {
                "require": [{"path": "args.image", "op": "prefix",
                             "value": "registry.internal/", "reason": IMAGE_REASON}],
                "limits": [{"counter": "k8s_run_pod_rate", "window": "minute",
                            "max": POD_LIMIT, "scope": "grant"}]},
            "delete_file": {"action": "deny", "reason": DELETE_REASON},
            "restart_service": {"action": "require_approval", "reason": RESTART_REASON},
            "slow_task": {},
            "ask_name": {
                "limits": [{"counter": "ask_name_rate", "window": "minute",
                            "max": 1, "scope": "grant"}]}}})
}

/// One client in one negotiation mode, and the era it must end up in.
#[derive(Debug, Clone, Copy)]
struct Client {
    sdk: Sdk,
    mode: Option<Mode>,
    era: &'static str,
}

impl Client {
    fn launch(self) -> Launch {
        Launch {
            mode: self.mode,
            elicit_reply: Some(json!({"name": NAME})),
        }
    }

    fn label(self) -> String {
        match self.mode {
            Some(mode) => format!("{} ({mode})", self.sdk),
            None => self.sdk.to_string(),
        }
    }
}

#[tokio::test]
async fn the_python_2x_client_in_auto_mode_speaks_2026_07_28_through_the_proxy() {
    journey(Client {
        sdk: Sdk::Python2,
        mode: Some(Mode::Auto),
        era: MODERN,
    })
    .await;
}

#[tokio::test]
async fn the_python_2x_client_pinned_to_2026_07_28_is_governed_through_the_proxy() {
    journey(Client {
        sdk: Sdk::Python2,
        mode: Some(Mode::Pinned),
        era: MODERN,
    })
    .await;
}

#[tokio::test]
async fn the_python_2x_client_in_legacy_mode_keeps_2025_11_25_through_the_proxy() {
    journey(Client {
        sdk: Sdk::Python2,
        mode: Some(Mode::Legacy),
        era: HANDSHAKE,
    })
    .await;
}

#[tokio::test]
async fn the_typescript_2x_client_in_auto_mode_speaks_2026_07_28_through_the_proxy() {
    journey(Client {
        sdk: Sdk::TypeScript2,
        mode: Some(Mode::Auto),
        era: MODERN,
    })
    .await;
}

#[tokio::test]
async fn the_typescript_2x_client_pinned_to_2026_07_28_is_governed_through_the_proxy() {
    journey(Client {
        sdk: Sdk::TypeScript2,
        mode: Some(Mode::Pinned),
        era: MODERN,
    })
    .await;
}

#[tokio::test]
async fn the_python_1x_client_is_governed_at_2025_11_25_before_a_dual_era_upstream() {
    journey(Client {
        sdk: Sdk::Python1,
        mode: None,
        era: HANDSHAKE,
    })
    .await;
}

#[tokio::test]
async fn the_typescript_1x_client_is_governed_at_2025_11_25_before_a_dual_era_upstream() {
    journey(Client {
        sdk: Sdk::TypeScript,
        mode: None,
        era: HANDSHAKE,
    })
    .await;
}

async fn journey(client: Client) {
    let who = client.label();
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = PolicyServer::start().await;
    direct_precondition(client, &upstream).await;

    let tenant = sign_up(&app).await;
    let server = tenant
        .register("dual-era", &upstream.url(), json!({}))
        .await;
    let mut discovered = server.tools.clone();
    discovered.sort();
    assert_eq!(discovered, TOOLS, "{who}: discovery found every tool");
    tenant.put_policy(&server, policy()).await;
    let grant = tenant.grant("agent", &server).await;

    let mut agent = Driver::launch(
        client.sdk,
        &server.proxy_url,
        &grant.token,
        &client.launch(),
    )
    .await;
    assert_eq!(
        agent.protocol_version(),
        client.era,
        "{who}: the era negotiated through the proxy: {}",
        agent.initialize
    );

    let mut tools = agent.list_tools().await;
    tools.sort();
    assert_eq!(
        tools,
        ["ask_name", "k8s_run_pod", "restart_service", "slow_task"],
        "{who}: tools/list shows what the policy allows (hidden and denied tools left out)"
    );

    // Both limited bursts in one calendar minute.
    ensure_room_in_minute(Duration::from_secs(10)).await;
    rate_limit_passes_exactly_n_of_m(&who, &mut agent).await;
    elicitation_round_trip_is_one_call(&who, &mut agent).await;

    let denied = agent
        .call("delete_file", json!({"path": "/etc/passwd"}))
        .await;
    assert_denied(&who, &denied, DELETE_REASON);
    let hidden = agent.call("secret_tool", json!({})).await;
    assert_denied(&who, &hidden, "");
    let bad_image = agent
        .call("k8s_run_pod", json!({"image": "docker.io/evil:latest"}))
        .await;
    assert_denied(&who, &bad_image, IMAGE_REASON);

    progress_streams_as_it_happens(&who, &mut agent).await;
    held_call_runs_once_approved(&who, &tenant, &mut agent).await;

    let (status, stderr) = agent.finish().await;
    assert!(status.success(), "{who}: the driver failed: {stderr}");
}

/// The same client, straight to the upstream, reaches the era it must keep through the
/// proxy and sees every tool: what the proxy is measured against.
async fn direct_precondition(client: Client, upstream: &PolicyServer) {
    let who = client.label();
    let mut direct = Driver::launch(client.sdk, &upstream.url(), "direct", &client.launch()).await;
    assert_eq!(
        direct.protocol_version(),
        client.era,
        "{who}: the era negotiated directly: {}",
        direct.initialize
    );
    let mut tools = direct.list_tools().await;
    tools.sort();
    assert_eq!(tools, TOOLS, "{who}: directly, every tool is listed");
    let (status, stderr) = direct.finish().await;
    assert!(
        status.success(),
        "{who}: the direct driver failed: {stderr}"
    );
}

async fn rate_limit_passes_exactly_n_of_m(who: &str, agent: &mut Driver) {
    let burst = agent
        .call_times("k8s_run_pod", json!({"image": GOOD_IMAGE}), POD_BURST)
        .await;
    assert_eq!(
        burst.len(),
        POD_BURST as usize,
        "{who}: every call answered"
    );
    let passed = burst.iter().filter(|call| !call.is_error()).count();
    assert_eq!(
        passed, POD_LIMIT,
        "{who}: {POD_LIMIT} of {POD_BURST} calls pass: {burst:#?}"
    );
    for allowed in &burst[..POD_LIMIT] {
        assert_eq!(
            allowed.text(),
            format!("k8s_run_pod ok: {GOOD_IMAGE}"),
            "{who}: an allowed call returns the upstream's result: {allowed:?}"
        );
    }
    for refused in &burst[POD_LIMIT..] {
        assert_denied(
            who,
            refused,
            "Rate limit exceeded for counter 'k8s_run_pod_rate'",
        );
    }
}

/// `ask_name` elicits the user's name; the SDK's elicitation callback answers. It is
/// limited to one call a minute: the round trip (two `tools/call` requests at
/// 2026-07-28) is one call, and a second call is refused before anything is asked.
async fn elicitation_round_trip_is_one_call(who: &str, agent: &mut Driver) {
    let greeted = agent.call("ask_name", json!({})).await;
    assert_eq!(
        greeted.elicitations(),
        [json!({"message": "What is your name?"})],
        "{who}: the upstream's question reached the client once: {greeted:?}"
    );
    assert!(!greeted.is_error(), "{who}: {greeted:?}");
    assert_eq!(
        greeted.text(),
        format!("Hello, {NAME}!"),
        "{who}: the answer reached the upstream: {greeted:?}"
    );
    let again = agent.call("ask_name", json!({})).await;
    assert_denied(
        who,
        &again,
        "Rate limit exceeded for counter 'ask_name_rate'",
    );
    assert!(
        again.elicitations().is_empty(),
        "{who}: a refused call asks nothing: {again:?}"
    );
}

/// `slow_task` reports four steps over about a second; they arrive as they happen.
async fn progress_streams_as_it_happens(who: &str, agent: &mut Driver) {
    let run = agent
        .call_with_progress("slow_task", json!({"steps": 4}))
        .await;
    assert!(!run.is_error(), "{who}: {run:?}");
    assert_eq!(run.text(), "slow_task done after 4 steps", "{who}: {run:?}");
    let steps: Vec<f64> = run
        .progress()
        .iter()
        .map(|p| p["progress"].as_f64().expect("a progress value"))
        .collect();
    assert_eq!(steps, [1.0, 2.0, 3.0, 4.0], "{who}: every step: {run:?}");
    let arrivals: Vec<f64> = run
        .progress()
        .iter()
        .map(|p| p["at"].as_f64().expect("an arrival time"))
        .collect();
    let (started, finished) = (run.started(), run.finished());
    assert!(
        arrivals.windows(2).all(|w| w[0] <= w[1]) && arrivals[3] <= finished,
        "{who}: progress arrives in order, before the result: {run:?}"
    );
    // Steps are 0.25 s apart: relayed as they happen, not buffered to the end.
    assert!(
        arrivals[0] - started < 0.6,
        "{who}: first progress late: {run:?}"
    );
    assert!(
        arrivals[3] - arrivals[0] > 0.4,
        "{who}: progress bunched together: {run:?}"
    );
}

/// `restart_service` is held; a person approves it through the REST API while the
/// client waits, and the client gets the upstream's result.
async fn held_call_runs_once_approved(who: &str, tenant: &Tenant<'_>, agent: &mut Driver) {
    let call = agent.call("restart_service", json!({"name": "billing"}));
    tokio::pin!(call);
    let held = tokio::select! {
        answered = &mut call => panic!("{who}: answered without being held: {answered:?}"),
        held = eventually_pending(tenant) => held,
    };
    assert_eq!(held["tool"], "restart_service", "{who}: {held}");
    assert_eq!(
        held["arguments"],
        json!({"name": "billing"}),
        "{who}: {held}"
    );
    assert_eq!(held["reason"], RESTART_REASON, "{who}: {held}");
    tenant
        .approve(held["id"].as_str().expect("an approval id"))
        .await;
    let restarted = call.await;
    assert!(!restarted.is_error(), "{who}: {restarted:?}");
    assert_eq!(
        restarted.text(),
        "restarted billing",
        "{who}: the approved call ran: {restarted:?}"
    );
    assert!(
        tenant.approvals("pending").await.is_empty(),
        "{who}: nothing left pending"
    );
}

/// The one pending approval, waiting up to ten seconds for it.
async fn eventually_pending(tenant: &Tenant<'_>) -> Value {
    for _ in 0..100 {
        let pending = tenant.approvals("pending").await;
        assert!(pending.len() <= 1, "one held call: {pending:?}");
        if let Some(held) = pending.into_iter().next() {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no call was held for approval within ten seconds");
}

fn assert_denied(who: &str, call: &CallOutcome, reason: &str) {
    assert!(
        call.is_error(),
        "{who}: a refusal is a tool result with isError: {call:?}"
    );
    assert!(
        call.text().starts_with(DENIED) && call.text()[DENIED.len()..].starts_with(reason),
        "{who}: refusal text {:?} should be {DENIED:?} + {reason:?}",
        call.text()
    );
}
