use std::time::Duration;

use mcpgate_demo::{spawn, DemoSettings, ResponseMode};
use mcpgate_upstream::{
    discover, AddressPolicy, BlockReason, DiscoveryError, DiscoveryOptions, Era, OwnAddresses,
    Transport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "discover/eras.rs"]
mod eras;
#[path = "discover/sdk.rs"]
mod sdk;
#[path = "discover/upstreams.rs"]
mod upstreams;

fn local() -> DiscoveryOptions {
    DiscoveryOptions {
        address_policy: AddressPolicy::new(true),
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// A TCP server answering every request with `response` (or never answering if `None`).
async fn canned(response: Option<&'static str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0; 8192];
                let _ = socket.read(&mut buffer).await;
                match response {
                    Some(response) => {
                        let _ = socket.write_all(response.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    format!("http://{address}/mcp")
}

fn http(status: &str, content_type: &str, body: &str) -> &'static str {
    Box::leak(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    )
}

/// The demo server's era may change (it is to become dual-era): what is asserted here
/// holds in both; each era's exchange is asserted against the fixtures in `eras`.
#[tokio::test]
async fn discovers_every_tool_of_the_demo_server_over_json() {
    let demo = spawn(DemoSettings {
        instructions: Some("hello".into()),
        ..Default::default()
    })
    .await;
    let discovery = discover(&demo.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.transport, Transport::StreamableHttp);
    assert_eq!(
        discovery.era == Era::Modern,
        discovery.protocol_version == "2026-07-28",
        "the era matches the recorded version {}",
        discovery.protocol_version
    );
    assert_eq!(discovery.server_info["name"], "mcpgate-demo");
    assert_eq!(discovery.instructions.as_deref(), Some("hello"));
    assert_eq!(discovery.tools.len(), 57);
    assert_eq!(discovery.tools[0].name, "k8s_get_contexts");
    assert!(discovery.tools[0]
        .json
        .get()
        .starts_with(r#"{"name":"k8s_get_contexts","description""#));

    let recorded = demo.recorded();
    let recorded = recorded.lock().unwrap();
    assert!(!recorded.is_empty());
    assert!(recorded[0].body.contains(r#""name":"mcpgate""#));
    assert!(recorded
        .iter()
        .filter(|r| r.method == "POST")
        .all(|r| r.header("accept") == Some("application/json, text/event-stream")));
    assert!(
        recorded
            .iter()
            .all(|r| r.header("mcp-gate-hop") == Some("discovery")),
        "every request carries the hop header"
    );
}

#[tokio::test]
async fn follows_pages_over_sse_answers() {
    let demo = spawn(DemoSettings {
        response_mode: ResponseMode::Sse,
        page_size: Some(7),
        ..Default::default()
    })
    .await;
    let discovery = discover(&demo.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.tools.len(), 57);
    let list_calls = demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.body.contains("tools/list"))
        .count();
    assert_eq!(list_calls, 9);
}

#[tokio::test]
async fn caps_the_number_of_pages() {
    let demo = spawn(DemoSettings {
        page_size: Some(1),
        ..Default::default()
    })
    .await;
    let options = DiscoveryOptions {
        max_pages: 5,
        ..local()
    };
    let error = discover(&demo.url(), &[], options).await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Protocol { ref method, .. } if method == "tools/list"),
        "{error}"
    );
}

#[tokio::test]
async fn falls_back_to_legacy_sse() {
    let demo = spawn(DemoSettings::default()).await;
    let discovery = discover(&demo.sse_url(), &[], local()).await.unwrap();
    assert_eq!(discovery.transport, Transport::LegacySse);
    assert_eq!(discovery.tools.len(), 57);
    assert_eq!(discovery.protocol_version, "2025-06-18");
}

#[tokio::test]
async fn sends_the_registered_headers_and_reports_missing_ones() {
    let demo = spawn(DemoSettings {
        require_header: Some(("authorization".into(), "Bearer up".into())),
        ..Default::default()
    })
    .await;
    let error = discover(&demo.url(), &[], local()).await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Unauthorized { status: 401, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("check the headers"));

    let headers = [("Authorization".to_owned(), "Bearer up".to_owned())];
    let discovery = discover(&demo.url(), &headers, local()).await.unwrap();
    assert_eq!(discovery.tools.len(), 57);
    let legacy = discover(&demo.sse_url(), &headers, local()).await.unwrap();
    assert_eq!(legacy.tools.len(), 57);
}

#[tokio::test]
async fn loopback_is_refused_without_allow_private_and_nothing_is_sent() {
    let demo = spawn(DemoSettings::default()).await;
    let strict = DiscoveryOptions::default();
    let error = discover(&demo.url(), &[], strict.clone())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        DiscoveryError::Refused {
            address: "127.0.0.1".into(),
            reason: BlockReason::Loopback
        }
    );
    let by_name = format!("http://localhost:{}/mcp", demo.address().port());
    let error = discover(&by_name, &[], strict.clone()).await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Refused { reason: BlockReason::Loopback, ref address } if address.starts_with("localhost")),
        "{error}"
    );
    let error = discover("http://[::ffff:169.254.169.254]/", &[], strict.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            DiscoveryError::Refused {
                reason: BlockReason::LinkLocal,
                ..
            }
        ),
        "{error}"
    );
    let error = discover(
        "http://metadata.google.internal/computeMetadata/v1/",
        &[],
        strict,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            DiscoveryError::Refused {
                reason: BlockReason::MetadataName,
                ..
            }
        ),
        "{error}"
    );
    assert!(demo.recorded().lock().unwrap().is_empty());
}

#[tokio::test]
async fn other_schemes_and_garbage_urls_are_invalid() {
    for url in ["ftp://example.com/mcp", "not a url", "file:///etc/passwd"] {
        let error = discover(url, &[], local()).await.unwrap_err();
        assert!(
            matches!(error, DiscoveryError::InvalidUrl { .. }),
            "{url}: {error}"
        );
    }
}

#[tokio::test]
async fn a_closed_port_is_unreachable_with_its_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = discover(&format!("http://{address}/mcp"), &[], local())
        .await
        .unwrap_err();
    match error {
        DiscoveryError::Unreachable {
            address: reported, ..
        } => assert_eq!(reported, address.to_string()),
        other => panic!("expected Unreachable, got {other}"),
    }
}

#[tokio::test]
async fn an_html_page_is_not_mcp() {
    let url = canned(Some(http("200 OK", "text/html", "<html>hi</html>"))).await;
    let error = discover(&url, &[], local()).await.unwrap_err();
    match error {
        DiscoveryError::NotMcp {
            status,
            content_type,
            ..
        } => {
            assert_eq!(status, 200);
            assert_eq!(content_type.as_deref(), Some("text/html"));
        }
        other => panic!("expected NotMcp, got {other}"),
    }
    let url = canned(Some(http("404 Not Found", "text/plain", "nope"))).await;
    let error = discover(&url, &[], local()).await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::NotMcp { status: 404, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_json_rpc_error_from_initialize_is_a_protocol_error() {
    // Request 1 is the server/discover probe, which this answer does not match (no
    // modern evidence: the handshake follows); request 2 is initialize.
    let body = r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"database down"}}"#;
    let url = canned(Some(http("200 OK", "application/json", body))).await;
    let error = discover(&url, &[], local()).await.unwrap_err();
    assert_eq!(
        error,
        DiscoveryError::Protocol {
            method: "initialize".into(),
            code: Some(-32603),
            message: "database down".into()
        }
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let url = canned(None).await;
    let options = DiscoveryOptions {
        timeout: Duration::from_millis(300),
        ..local()
    };
    let error = discover(&url, &[], options).await.unwrap_err();
    assert!(matches!(error, DiscoveryError::Timeout { .. }), "{error}");
}

#[tokio::test]
async fn the_gateways_own_address_is_refused_even_with_private_upstreams_allowed() {
    // The demo plays the proxy: its address is registered as ours.
    let demo = spawn(DemoSettings::default()).await;
    let mut own = OwnAddresses::new();
    own.add_listen(demo.address());
    let options = DiscoveryOptions {
        address_policy: AddressPolicy::new(true).refusing_own(own),
        ..local()
    };
    assert!(
        discover(&demo.url(), &[], local()).await.is_ok(),
        "reachable when it is not ours"
    );
    let before = demo.recorded().lock().unwrap().len();
    let by_name = format!("http://localhost:{}/mcp", demo.address().port());
    for url in [demo.url(), by_name] {
        let error = discover(&url, &[], options.clone()).await.unwrap_err();
        assert!(
            matches!(
                error,
                DiscoveryError::Refused {
                    reason: BlockReason::OwnAddress,
                    ..
                }
            ),
            "{url}: {error}"
        );
    }
    assert_eq!(demo.recorded().lock().unwrap().len(), before);
}
