//! OpenTelemetry: every proxy in this binary exports its call spans over OTLP/HTTP to a
//! collector started here (an axum server on loopback that decodes the protobuf), and
//! per-tenant counts on /metrics.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use http::{HeaderMap, StatusCode};
use mcpgate_service::{LogFormat, Otlp, TelemetryGuard};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::{json, Value};

use crate::helpers::{spawn, wait_for_window_start, Options, TestProxy};

/// What the collector was sent.
#[derive(Default)]
struct Received {
    /// `(service.name, span)`.
    spans: Vec<(String, Span)>,
    /// Every export request as it arrived.
    bodies: Vec<Bytes>,
}

struct Collector {
    url: String,
    received: Arc<Mutex<Received>>,
}

/// The collector of this test binary: on its own thread and runtime, so it outlives
/// every test's runtime (spans are exported from the SDK's thread, on its schedule).
fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the collector");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Received::default()));
        let state = Arc::clone(&received);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new()
                    .route("/v1/traces", post(receive))
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        Collector { url, received }
    })
}

async fn receive(
    State(received): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Vec::new());
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut received = received.lock().unwrap();
    received.bodies.push(body);
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| text(kv.value.as_ref()?.value.as_ref()?))
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                received.spans.push((service.clone(), span));
            }
        }
    }
    (
        StatusCode::OK,
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

fn text(value: &Any) -> Option<String> {
    match value {
        Any::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// Installs this binary's subscriber, exporting to [`collector`]; every proxy test's
/// `spawn` calls it, so no other subscriber can come first.
pub fn init() -> &'static TelemetryGuard {
    static GUARD: OnceLock<TelemetryGuard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let mut otlp = Otlp::new(collector().url.clone(), "mcpgate-proxy-tests");
        otlp.batch_delay = Duration::from_millis(100);
        mcpgate_service::init_telemetry_exporting(LogFormat::Text, "warn", Some(&otlp))
            .expect("exporting traces to the test collector")
    })
}

/// The exported span of trace `trace_id` named `name`, waited for (30 s at most).
async fn span_in(trace_id: &[u8], name: &str) -> (String, Span) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = collector()
            .received
            .lock()
            .unwrap()
            .spans
            .iter()
            .find(|(_, span)| span.trace_id == trace_id && span.name == name)
            .cloned();
        if let Some(found) = found {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no span {name} of trace {} reached the collector",
            hex(trace_id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attribute(span: &Span, key: &str) -> Option<Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.clone())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A fresh `(trace id, parent span id)` in hex.
fn remote_parent() -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (id, span)
}

/// The `traceparent` the upstream saw on the `tools/call` whose body contains `marker`.
fn upstream_traceparent(proxy: &TestProxy, marker: &str) -> String {
    let recorded = proxy.demo.recorded();
    let recorded = recorded.lock().unwrap();
    let call = recorded
        .iter()
        .find(|r| r.body.contains("tools/call") && r.body.contains(marker))
        .unwrap_or_else(|| panic!("the upstream saw no call with {marker}"));
    call.header("traceparent")
        .expect("the upstream got a traceparent")
        .to_owned()
}

async fn call_with(
    proxy: &TestProxy,
    session: &str,
    body: Value,
    traceparent: Option<&str>,
) -> Value {
    let mut request = proxy.request(Some(session), body.to_string());
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.expect("the proxy answers");
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let data = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .next_back()
        .unwrap_or(&text)
        .trim()
        .to_owned();
    serde_json::from_str(&data).unwrap_or_else(|_| panic!("a JSON-RPC answer: {text}"))
}

#[tokio::test]
async fn a_call_s_span_continues_the_header_s_trace_with_its_decision_and_upstream_latency_but_no_arguments(
) {
    assert!(
        init().is_exporting(),
        "this binary's subscriber exports spans"
    );
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let (trace, parent) = remote_parent();
    let secret = format!("argument-value-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call",
        "params":{"name":"k8s_run_pod","arguments":{"image": secret}}});
    let answer = call_with(
        &proxy,
        &session,
        body,
        Some(&format!("00-{trace}-{parent}-01")),
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");

    let (service, span) = span_in(&unhex(&trace), "tools/call k8s_run_pod").await;
    assert_eq!(service, "mcpgate-proxy-tests");
    assert_eq!(
        hex(&span.parent_span_id),
        parent,
        "the client's span is the parent"
    );
    let string = |key| attribute(&span, key).and_then(|v| text(&v));
    assert_eq!(string("mcpgate.decision").as_deref(), Some("allow"));
    assert_eq!(string("mcp.method.name").as_deref(), Some("tools/call"));
    assert_eq!(string("gen_ai.tool.name").as_deref(), Some("k8s_run_pod"));
    assert_eq!(string("mcpgate.tenant_id"), Some(proxy.tenant.to_string()));
    assert!(string("mcpgate.rule").is_some(), "{:?}", span.attributes);
    assert_eq!(
        attribute(&span, "mcpgate.upstream.status"),
        Some(Any::IntValue(200))
    );
    let Some(Any::DoubleValue(latency_ms)) = attribute(&span, "mcpgate.upstream.latency_ms") else {
        panic!("no upstream latency in {:?}", span.attributes);
    };
    assert!(latency_ms > 0.0 && latency_ms < 5_000.0, "{latency_ms} ms");

    // The upstream's parent is the proxy's span, in the same trace.
    assert_eq!(
        upstream_traceparent(&proxy, &secret),
        format!("00-{trace}-{}-01", hex(&span.span_id))
    );
    // No export carried the argument's value.
    let received = collector().received.lock().unwrap();
    assert!(!received.bodies.is_empty());
    let needle = secret.as_bytes();
    assert!(
        !received
            .bodies
            .iter()
            .any(|body| body.windows(needle.len()).any(|w| w == needle)),
        "an argument value was exported"
    );
}

#[tokio::test]
async fn a_traceparent_in_the_request_s_meta_is_continued_and_the_denial_and_its_rule_are_on_the_span(
) {
    assert!(
        init().is_exporting(),
        "this binary's subscriber exports spans"
    );
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;

    // Allowed, traced through `_meta` (the header names another trace, which loses).
    let (trace, parent) = remote_parent();
    let (other_trace, other_parent) = remote_parent();
    let marker = format!("meta-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"jsonrpc":"2.0","id":8,"method":"tools/call",
        "params":{"name":"k8s_run_pod","arguments":{"image": marker},
                  "_meta":{"traceparent": format!("00-{trace}-{parent}-01")}}});
    let header = format!("00-{other_trace}-{other_parent}-01");
    let answer = call_with(&proxy, &session, body, Some(&header)).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let (_, span) = span_in(&unhex(&trace), "tools/call k8s_run_pod").await;
    assert_eq!(hex(&span.parent_span_id), parent);
    assert_eq!(
        upstream_traceparent(&proxy, &marker),
        format!("00-{trace}-{}-01", hex(&span.span_id))
    );

    // Denied by the default rule: the span says which, and has no upstream.
    let (trace, parent) = remote_parent();
    let body = json!({"jsonrpc":"2.0","id":9,"method":"tools/call",
        "params":{"name":"k8s_delete_ns","arguments":{},
                  "_meta":{"traceparent": format!("00-{trace}-{parent}-01")}}});
    let answer = call_with(&proxy, &session, body, None).await;
    assert!(
        answer.get("error").is_some() || answer["result"]["isError"] == true,
        "{answer}"
    );
    let (_, span) = span_in(&unhex(&trace), "tools/call k8s_delete_ns").await;
    assert_eq!(hex(&span.parent_span_id), parent);
    let string = |key| attribute(&span, key).and_then(|v| text(&v));
    assert_eq!(string("mcpgate.decision").as_deref(), Some("deny"));
    assert!(string("mcpgate.rule").is_some(), "{:?}", span.attributes);
    assert_eq!(attribute(&span, "mcpgate.upstream.latency_ms"), None);
}

#[tokio::test]
async fn a_call_without_trace_context_starts_a_trace_the_upstream_joins() {
    assert!(
        init().is_exporting(),
        "this binary's subscriber exports spans"
    );
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let marker = format!("root-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
        "params":{"name":"k8s_run_pod","arguments":{"image": marker}}});
    call_with(&proxy, &session, body, None).await;
    let seen = upstream_traceparent(&proxy, &marker);
    let parts: Vec<&str> = seen.split('-').collect();
    assert_eq!(parts.len(), 4, "{seen}");
    let (_, span) = span_in(&unhex(parts[1]), "tools/call k8s_run_pod").await;
    assert!(span.parent_span_id.is_empty(), "a root span");
    assert_eq!(parts[2], hex(&span.span_id));
}

/// A sample of the proxy's `/metrics`, by its exact line.
async fn metric_line(proxy: &TestProxy, line: &str) -> bool {
    let response = proxy
        .client
        .get(format!("http://{}/metrics", proxy.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines().any(|l| l == line)
}

#[tokio::test]
async fn metrics_count_a_tenant_s_decisions_limits_hit_and_upstream_errors() {
    let proxy = spawn(Options {
        policy: Some(
            r#"{"version":"1","default":"allow","tools":{"k8s_run_pod":{"limits":[{"counter":"once","window":"minute","max":1,"scope":"grant"}]}}}"#
                .into(),
        ),
        demo: mcpgate_demo::DemoSettings {
            hang_tools: vec!["k8s_delete_ns".into()],
            ..Default::default()
        },
        settings: |s| s.upstream_response_timeout = Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let tenant = proxy.tenant;
    assert!(
        !metric_line(
            &proxy,
            &format!("mcpgate_proxy_tenant_limits_hit_total{{tenant=\"{tenant}\"}} 1")
        )
        .await
    );
    wait_for_window_start(&proxy.redis_conn, 60).await;
    proxy.call(&session, 1, "k8s_run_pod", json!({})).await;
    proxy.call(&session, 2, "k8s_run_pod", json!({})).await;
    proxy.call(&session, 3, "k8s_delete_ns", json!({})).await;
    for line in [
        format!("mcpgate_proxy_tenant_decisions_total{{tenant=\"{tenant}\",outcome=\"allow\"}} 1"),
        format!(
            "mcpgate_proxy_tenant_decisions_total{{tenant=\"{tenant}\",outcome=\"limited\"}} 1"
        ),
        format!("mcpgate_proxy_tenant_decisions_total{{tenant=\"{tenant}\",outcome=\"error\"}} 1"),
        format!("mcpgate_proxy_tenant_limits_hit_total{{tenant=\"{tenant}\"}} 1"),
        format!("mcpgate_proxy_tenant_upstream_errors_total{{tenant=\"{tenant}\"}} 1"),
        "mcpgate_proxy_requests_total{method=\"tools/call\"} 3".to_owned(),
    ] {
        assert!(metric_line(&proxy, &line).await, "no `{line}` on /metrics");
    }
}
