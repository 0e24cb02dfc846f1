//! Discovery against modern-only, dual-era and old-only upstreams.

use mcpgate_upstream::{discover, DiscoveryError, Era, Transport};

use super::upstreams::{Eras, Sessionless, Upstream, MODERN};
use super::{canned, http, local};

/// Every tool the fixtures list to a client that declares sampling, in order.
const ALL_TOOLS: [&str; 4] = ["alpha", "beta", "gamma", "ask_model"];

fn names(discovery: &mcpgate_upstream::Discovery) -> Vec<&str> {
    discovery.tools.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test]
async fn a_modern_only_upstream_is_listed_with_modern_requests_and_no_session() {
    let upstream = Upstream::spawn(Eras::modern_only()).await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();

    assert_eq!(discovery.era, Era::Modern);
    assert_eq!(discovery.protocol_version, MODERN);
    assert_eq!(discovery.transport, Transport::StreamableHttp);
    assert_eq!(
        names(&discovery),
        ALL_TOOLS,
        "every page, the sampling-gated tool too"
    );
    assert_eq!(discovery.server_info["name"], "era-fixture");
    assert_eq!(
        discovery.instructions.as_deref(),
        Some("modern instructions")
    );
    assert!(
        discovery.tools[1]
            .json
            .get()
            .contains(r#""x-mcp-header":"Region""#),
        "definitions kept as sent: {}",
        discovery.tools[1].json.get()
    );

    assert_eq!(
        upstream.methods(),
        ["server/discover", "tools/list", "tools/list"],
        "no initialize, one request per page"
    );
    let seen = upstream.seen();
    assert_eq!(seen.len(), 3, "no GET, no DELETE: there is no session");
    for request in &seen {
        let meta = &request.body["params"]["_meta"];
        assert_eq!(request.header("mcp-protocol-version"), Some(MODERN));
        assert_eq!(request.header("mcp-method"), Some(request.method()));
        assert_eq!(
            request.header("accept"),
            Some("application/json, text/event-stream")
        );
        assert_eq!(request.header("mcp-gate-hop"), Some("discovery"));
        assert_eq!(request.header("mcp-session-id"), None);
        assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], MODERN);
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "mcpgate"
        );
        let capabilities = &meta["io.modelcontextprotocol/clientCapabilities"];
        for declared in ["sampling", "elicitation", "roots"] {
            assert!(capabilities.get(declared).is_some(), "{declared} declared");
        }
    }
    assert_eq!(
        seen[2].body["params"]["cursor"], "2",
        "the cursor is followed"
    );
}

#[tokio::test]
async fn a_dual_era_upstream_is_spoken_to_in_the_modern_era() {
    let upstream = Upstream::spawn(Eras::dual()).await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Modern);
    assert_eq!(discovery.protocol_version, MODERN);
    assert_eq!(names(&discovery), ALL_TOOLS);
    assert_eq!(
        upstream.methods(),
        ["server/discover", "tools/list", "tools/list"]
    );
}

#[tokio::test]
async fn modern_answers_may_come_as_event_streams() {
    let upstream = Upstream::spawn(Eras {
        sse: true,
        ..Eras::modern_only()
    })
    .await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Modern);
    assert_eq!(names(&discovery), ALL_TOOLS);
}

/// The old-only server refusing the probe, then the handshake; returns what was POSTed.
async fn discovered_by_handshake(sessionless: Sessionless) -> Vec<String> {
    let upstream = Upstream::spawn(Eras::old_only(sessionless)).await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Handshake, "{sessionless:?}");
    assert_eq!(discovery.protocol_version, "2025-06-18");
    assert_eq!(discovery.transport, Transport::StreamableHttp);
    assert_eq!(names(&discovery), ALL_TOOLS, "initialize declared sampling");
    assert_eq!(discovery.server_info["name"], "era-fixture");
    assert_eq!(
        discovery.instructions.as_deref(),
        Some("handshake instructions")
    );

    let seen = upstream.seen();
    let last = seen.last().expect("requests were made");
    assert_eq!(
        last.http,
        axum::http::Method::DELETE,
        "the session is ended"
    );
    assert!(last.header("mcp-session-id").is_some());
    for request in seen.iter().skip(1) {
        assert_eq!(
            request.header("mcp-protocol-version"),
            None,
            "handshake requests carry no modern header: {:?}",
            request.body
        );
        assert_eq!(request.header("mcp-method"), None);
    }
    upstream.methods()
}

#[tokio::test]
async fn an_old_only_upstream_answering_the_probe_missing_session_id_is_discovered_by_handshake() {
    let methods = discovered_by_handshake(Sessionless::MissingSession).await;
    assert_eq!(
        methods,
        [
            "server/discover",
            "initialize",
            "notifications/initialized",
            "tools/list",
            "tools/list"
        ]
    );
}

#[tokio::test]
async fn an_old_only_upstream_answering_the_probe_404_is_discovered_by_handshake() {
    let methods = discovered_by_handshake(Sessionless::NotFound).await;
    assert_eq!(methods[..2], ["server/discover", "initialize"]);
    assert_eq!(methods.len(), 5);
}

#[tokio::test]
async fn a_discover_result_without_the_modern_version_falls_back_to_the_handshake() {
    // Like go-sdk's stateful default: it answers server/discover, listing only
    // handshake versions.
    let upstream = Upstream::spawn(Eras {
        advertised: vec!["2025-11-25"],
        ..Eras::dual()
    })
    .await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Handshake);
    assert_eq!(discovery.protocol_version, "2025-06-18");
    assert_eq!(names(&discovery), ALL_TOOLS);
    assert_eq!(upstream.methods()[..2], ["server/discover", "initialize"]);
}

#[tokio::test]
async fn an_upstream_supporting_no_version_mcpgate_speaks_is_named_with_its_versions() {
    let upstream = Upstream::spawn(Eras {
        modern: vec!["2027-03-01"],
        advertised: vec!["2027-03-01"],
        ..Eras::modern_only()
    })
    .await;
    let error = discover(&upstream.url(), &[], local()).await.unwrap_err();
    assert_eq!(
        error,
        DiscoveryError::UnsupportedVersion {
            url: upstream.url(),
            supported: vec!["2027-03-01".into()],
        }
    );
    assert!(error.to_string().contains("2027-03-01"), "{error}");
    assert_eq!(
        upstream.methods(),
        ["server/discover"],
        "no handshake after a modern refusal of every version we speak"
    );
}

#[tokio::test]
async fn a_minus_32022_naming_a_handshake_version_falls_back_to_the_handshake() {
    // A dual-era server whose modern ladder refuses 2026-07-28 but names 2025-11-25.
    let upstream = Upstream::spawn(Eras {
        modern: vec!["2027-03-01", "2025-11-25"],
        ..Eras::dual()
    })
    .await;
    let discovery = discover(&upstream.url(), &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Handshake);
    assert_eq!(names(&discovery), ALL_TOOLS);
}

#[tokio::test]
async fn registered_headers_go_on_modern_requests_without_doubling_the_mirrored_ones() {
    let upstream = Upstream::spawn(Eras::modern_only()).await;
    // A registered Mcp-Method would be sent twice (a -32020) if it were appended.
    let headers = [
        ("Authorization".to_owned(), "Bearer up".to_owned()),
        ("Mcp-Method".to_owned(), "bogus".to_owned()),
    ];
    let discovery = discover(&upstream.url(), &headers, local()).await.unwrap();
    assert_eq!(discovery.era, Era::Modern);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer up")));
}

#[tokio::test]
async fn a_modern_refusal_of_the_probe_is_reported_when_nothing_older_answers() {
    // Every request, GET included, gets the same 400 -32020: not an old server either.
    let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"Header mismatch: Mcp-Method"}}"#;
    let url = canned(Some(http("400 Bad Request", "application/json", body))).await;
    let error = discover(&url, &[], local()).await.unwrap_err();
    assert_eq!(
        error,
        DiscoveryError::Protocol {
            method: "server/discover".into(),
            code: Some(-32020),
            message: "Header mismatch: Mcp-Method".into(),
        }
    );
}

#[tokio::test]
async fn credentials_refused_at_the_probe_end_discovery_as_before() {
    let url = canned(Some(http("401 Unauthorized", "application/json", "{}"))).await;
    let error = discover(&url, &[], local()).await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Unauthorized { status: 401, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_modern_only_fixture_refuses_the_handshake_and_unenveloped_requests() {
    let upstream = Upstream::spawn(Eras::modern_only()).await;
    let client = reqwest::Client::new();
    let post = |body: &'static str| {
        client
            .post(upstream.url())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let initialize = post(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .await
        .unwrap();
    assert_eq!(initialize.status(), 404);
    let body: serde_json::Value = initialize.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32601);
    let list = post(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#)
        .await
        .unwrap();
    assert_eq!(list.status(), 400);
    let body: serde_json::Value = list.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602);
}
