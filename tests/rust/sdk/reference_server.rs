//! The official SDKs against the reference server, `server-everything`: progress
//! notifications and server-to-client requests on a call's SSE stream.

use mcpgate_e2e::api::{sign_up, Grant, Server};
use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_e2e::everything::Everything;
use serde_json::{json, Value};

use super::assert_denied;

const ENV_REASON: &str = "The server's environment stays private.";

fn everything_policy() -> Value {
    json!({"version": "1", "default": "deny",
        "tools": {
            "echo": {},
            "get-structured-content": {},
            "trigger-long-running-operation": {},
            "trigger-sampling-request": {},
            "get-env": {"action": "deny", "reason": ENV_REASON}}})
}

#[tokio::test]
async fn progress_from_server_everything_streams_through_the_proxy_to_every_sdk() {
    let app = mcpgate_testkit::spawn_app().await;
    let everything = Everything::start().await;
    let tenant = sign_up(&app).await;
    let server = tenant
        .register("everything", &everything.url(), json!({}))
        .await;
    assert!(server
        .tools
        .iter()
        .any(|t| t == "trigger-long-running-operation"));
    tenant.put_policy(&server, everything_policy()).await;
    let grants = [
        tenant.grant("python-2", &server).await,
        tenant.grant("python-1", &server).await,
        tenant.grant("typescript", &server).await,
    ];
    let [python2, python1, typescript] = Sdk::ALL;
    tokio::join!(
        everything_session(python2, &server, &grants[0]),
        everything_session(python1, &server, &grants[1]),
        everything_session(typescript, &server, &grants[2]),
    );
}

async fn everything_session(sdk: Sdk, server: &Server, grant: &Grant) {
    let mut agent = Driver::start(sdk, &server.proxy_url, &grant.token).await;
    assert_eq!(
        agent.initialize["serverInfo"]["name"],
        "mcp-servers/everything"
    );
    let mut tools = agent.list_tools().await;
    tools.sort();
    assert_eq!(
        tools,
        [
            "echo",
            "get-structured-content",
            "trigger-long-running-operation"
        ],
        "{sdk}"
    );

    let echo = agent
        .call("echo", json!({"message": "through the gate"}))
        .await;
    assert_eq!(echo.text(), "Echo: through the gate", "{sdk}: {echo:?}");
    let structured = agent
        .call("get-structured-content", json!({"location": "New York"}))
        .await;
    let from_text: Value = serde_json::from_str(structured.text()).expect("JSON text");
    assert_eq!(
        structured.0["structuredContent"], from_text,
        "{sdk}: {structured:?}"
    );
    let denied = agent.call("get-env", json!({})).await;
    assert_denied(sdk, &denied, ENV_REASON);

    let (duration, steps) = (3.0, 6);
    let run = agent
        .call_with_progress(
            "trigger-long-running-operation",
            json!({"duration": duration, "steps": steps}),
        )
        .await;
    assert!(!run.is_error(), "{sdk}: {run:?}");
    let arrivals: Vec<f64> = run
        .progress()
        .iter()
        .map(|p| p["at"].as_f64().expect("an arrival time"))
        .collect();
    assert_eq!(
        arrivals.len(),
        steps,
        "{sdk}: one notification per step: {run:?}"
    );
    let (started, finished) = (run.started(), run.finished());
    assert!(finished - started >= duration * 0.9, "{sdk}: {run:?}");
    assert!(
        arrivals.windows(2).all(|w| w[0] <= w[1]) && arrivals[steps - 1] <= finished,
        "{sdk}: progress arrives in order, before the result: {run:?}"
    );
    // Steps are 0.5 s apart: relayed as they happen, not buffered to the end.
    assert!(
        arrivals[0] - started < duration * 0.5,
        "{sdk}: first progress late: {run:?}"
    );
    assert!(
        arrivals[steps - 1] - arrivals[0] > duration * 0.5,
        "{sdk}: progress bunched together: {run:?}"
    );
    let (status, stderr) = agent.finish().await;
    assert!(status.success(), "{sdk}: the driver failed: {stderr}");
}

/// server-everything lists `trigger-sampling-request` only to clients that declare
/// sampling. Its call sends `sampling/createMessage` on the call's SSE stream and waits
/// for the client's answer, which comes as a new POST on the same session while that
/// stream is still open.
#[tokio::test]
async fn a_sampling_request_from_the_server_round_trips_through_the_proxy() {
    let app = mcpgate_testkit::spawn_app().await;
    let everything = Everything::start().await;
    let tenant = sign_up(&app).await;
    let server = tenant
        .register("everything", &everything.url(), json!({}))
        .await;
    tenant.put_policy(&server, everything_policy()).await;
    let grants = [
        tenant.grant("python-2", &server).await,
        tenant.grant("python-1", &server).await,
        tenant.grant("typescript", &server).await,
    ];
    let [python2, python1, typescript] = Sdk::ALL;
    tokio::join!(
        sampling_session(python2, &server, &grants[0]),
        sampling_session(python1, &server, &grants[1]),
        sampling_session(typescript, &server, &grants[2]),
    );
}

async fn sampling_session(sdk: Sdk, server: &Server, grant: &Grant) {
    let reply = "sampled by the e2e client";
    let mut agent = Driver::start_sampling(sdk, &server.proxy_url, &grant.token, reply).await;
    let tools = agent.list_tools().await;
    assert!(
        tools.iter().any(|tool| tool == "trigger-sampling-request"),
        "{sdk}: a client that declares sampling is shown the sampling tool: {tools:?}"
    );
    let call = agent
        .call("trigger-sampling-request", json!({"prompt": "hello"}))
        .await;
    assert!(
        !call.is_error() && call.text().contains(reply),
        "{sdk}: the sampling answer reached the server: {call:?}"
    );
    let (status, stderr) = agent.finish().await;
    assert!(status.success(), "{sdk}: the driver failed: {stderr}");
}
