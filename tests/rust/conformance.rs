//! The MCP conformance suite's server scenarios, at both spec versions, against a
//! dual-era upstream directly and through mcpgate: a gateway must not break what the
//! upstream does right, so every scenario that passes direct must pass through the proxy.
//!
//! Each of the four runs gets its own upstream process (the scenarios subscribe,
//! trigger list changes and count sessions, so concurrent runs must not share one), and
//! the four run at once. The suite cannot send a grant header, so it is given the
//! proxy's URL-token form, `/mcp/{server}/t/{token}/`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use mcpgate_e2e::api::{sign_up, Tenant};
use serde_json::json;

#[path = "conformance/suite.rs"]
mod suite;
#[path = "conformance/upstream.rs"]
mod upstream;

use suite::{Outcome, Run, SpecVersion};
use upstream::ConformanceUpstream;

/// Allows every tool and every method, so any difference from direct is the proxy's
/// relaying, not a policy decision. Unknown methods are refused unless named (the
/// suite sends `unknown/method` and expects the upstream's `-32601`), hence `*`.
fn allow_everything() -> serde_json::Value {
    json!({"version": "1", "default": "allow", "methods": {"*": {}}})
}

#[tokio::test]
async fn every_conformance_scenario_that_passes_direct_passes_through_the_proxy() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    let (direct_2025, direct_2026, behind_2025, behind_2026) = tokio::join!(
        ConformanceUpstream::start(),
        ConformanceUpstream::start(),
        ConformanceUpstream::start(),
        ConformanceUpstream::start(),
    );
    let proxied_2025 = proxied_url(&tenant, "conformance-2025", &behind_2025).await;
    let proxied_2026 = proxied_url(&tenant, "conformance-2026", &behind_2026).await;

    // Per process, so two runs of this test at once do not share directories.
    let output = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("conformance-{}", std::process::id()));
    let dir = |version: SpecVersion, side: &str| output.join(format!("{version}-{side}"));
    let [handshake, stateless] = SpecVersion::ALL;
    let (d25, p25, d26, p26) = tokio::join!(
        suite::run(direct_2025.url(), handshake, dir(handshake, "direct")),
        suite::run(proxied_2025, handshake, dir(handshake, "proxy")),
        suite::run(direct_2026.url(), stateless, dir(stateless, "direct")),
        suite::run(proxied_2026, stateless, dir(stateless, "proxy")),
    );
    let runs = [(handshake, &d25, &p25), (stateless, &d26, &p26)];
    println!("{}", table(&runs));

    let mut regressions = Vec::new();
    for (version, direct, proxy) in runs {
        assert!(
            !direct.scenarios.is_empty(),
            "the {version} run direct found no scenarios; it printed:\n{}",
            direct.printed
        );
        assert!(
            direct.scenarios.values().any(|outcome| outcome.passes()),
            "no scenario passed direct at {version}: the upstream is broken, so the \
             comparison would prove nothing"
        );
        for regression in suite::regressions(direct, proxy) {
            regressions.push(format!(
                "{version} {regression}\n      {}",
                proxy.failed_checks(&regression.scenario).join("\n      ")
            ));
        }
    }
    assert!(
        regressions.is_empty(),
        "{} scenario(s) pass direct but not through mcpgate (checks in {}):\n  {}",
        regressions.len(),
        output.display(),
        regressions.join("\n  ")
    );
    let _ = std::fs::remove_dir_all(&output);
}

/// Registers `upstream` (discovery runs now), puts the allow-everything policy on it and
/// returns the proxy URL carrying a fresh grant's token.
async fn proxied_url(tenant: &Tenant<'_>, name: &str, upstream: &ConformanceUpstream) -> String {
    let server = tenant.register(name, &upstream.url(), json!({})).await;
    assert!(
        server.tools.iter().any(|tool| tool == "test_simple_text"),
        "discovery found the conformance fixtures: {:?}",
        server.tools
    );
    tenant.put_policy(&server, allow_everything()).await;
    let grant = tenant.grant(name, &server).await;
    let base = server.proxy_url.trim_end_matches('/');
    format!("{base}/t/{}/", grant.token)
}

/// Scenario by scenario: each version's direct and proxy outcome (`-` where the version
/// has no such scenario).
fn table(runs: &[(SpecVersion, &Run, &Run)]) -> String {
    let scenarios: BTreeSet<&String> = runs
        .iter()
        .flat_map(|(_, direct, proxy)| direct.scenarios.keys().chain(proxy.scenarios.keys()))
        .collect();
    let mut out = format!("{:<48}", "scenario");
    for (version, _, _) in runs {
        out.push_str(&format!(
            " {:<14} {:<14}",
            format!("{version} direct"),
            "proxy"
        ));
    }
    out.push('\n');
    let cell = |run: &Run, scenario: &str| {
        run.scenarios
            .get(scenario)
            .map_or("-".to_owned(), Outcome::to_string)
    };
    for scenario in scenarios {
        out.push_str(&format!("{scenario:<48}"));
        for (_, direct, proxy) in runs {
            out.push_str(&format!(
                " {:<14} {:<14}",
                cell(direct, scenario),
                cell(proxy, scenario)
            ));
        }
        out.push('\n');
    }
    for (version, direct, proxy) in runs {
        let passing = |run: &Run| run.scenarios.values().filter(|o| o.passes()).count();
        out.push_str(&format!(
            "{version}: direct {}/{} pass, proxy {}/{} pass\n",
            passing(direct),
            direct.scenarios.len(),
            passing(proxy),
            proxy.scenarios.len()
        ));
    }
    out
}

#[test]
fn the_summary_block_is_read_scenario_by_scenario() {
    let printed = "=== Running scenario: ping ===\n✓ not-a-summary: 1 passed, 0 failed\n\
                   === SUMMARY ===\n✓ ping: 2 passed, 0 failed\n\
                   ✗ tools-call-image: 1 passed, 1 failed\n\nTotal: 3 passed, 1 failed\n";
    let scenarios = suite::parse_summary(printed);
    assert_eq!(scenarios.len(), 2, "{scenarios:?}");
    assert_eq!(
        scenarios["ping"],
        Outcome {
            passed: 2,
            failed: 0
        }
    );
    assert!(scenarios["ping"].passes());
    assert!(!scenarios["tools-call-image"].passes());
}

#[test]
fn output_without_a_summary_has_no_scenarios() {
    assert!(suite::parse_summary("Error: connect ECONNREFUSED 127.0.0.1:1\n").is_empty());
}

#[test]
fn a_scenario_with_no_passing_check_does_not_pass() {
    let vacuous = Outcome {
        passed: 0,
        failed: 0,
    };
    assert!(!vacuous.passes());
}

fn run_of(scenarios: &[(&str, u32, u32)]) -> Run {
    Run {
        scenarios: scenarios
            .iter()
            .map(|&(id, passed, failed)| (id.to_owned(), Outcome { passed, failed }))
            .collect(),
        output_dir: PathBuf::new(),
        printed: String::new(),
    }
}

#[test]
fn a_scenario_failing_or_missing_through_the_proxy_is_a_regression() {
    let direct = run_of(&[("ping", 2, 0), ("tools-list", 3, 0), ("caching", 8, 0)]);
    let proxy = run_of(&[("ping", 2, 0), ("tools-list", 2, 1)]);
    let found: Vec<String> = suite::regressions(&direct, &proxy)
        .iter()
        .map(|regression| regression.scenario.clone())
        .collect();
    assert_eq!(found, ["caching", "tools-list"]);
}

#[test]
fn a_scenario_failing_direct_is_not_compared() {
    let direct = run_of(&[("server-sse-polling", 0, 1)]);
    let proxy = run_of(&[]);
    assert!(suite::regressions(&direct, &proxy).is_empty());
}

#[test]
fn printed_proxy_urls_hide_the_grant_token() {
    let url = "http://127.0.0.1:9/mcp/7f3c/t/eyJhbGciOi.secret/";
    assert_eq!(
        suite::redact_token(url),
        "http://127.0.0.1:9/mcp/7f3c/t/<token>/"
    );
}
