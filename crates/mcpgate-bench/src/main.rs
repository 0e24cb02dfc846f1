//! `mcpgate-bench`: measures an MCP endpoint the way agents load it.
//!
//! - `rate`: open loop. Calls are scheduled at a fixed rate and each one's latency
//!   is measured from its *scheduled* start, so a slow answer cannot hide the
//!   calls queued behind it (no coordinated omission).
//! - `max`: closed loop with N workers, for the highest sustainable throughput.
//! - `streams`: holds N server-initiated SSE streams (GET) open, for memory.
//!
//! Every mode opens a real MCP session first (`initialize`, then
//! `notifications/initialized`) and sends `tools/call` requests in it.

mod session;
mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use tokio::sync::Mutex;

use crate::session::Session;
use crate::stats::Summary;

#[derive(Debug, Parser)]
#[command(
    name = "mcpgate-bench",
    about = "Load an MCP endpoint (Streamable HTTP) with tools/call"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Open loop at a fixed rate; latency from each call's scheduled start.
    Rate {
        #[command(flatten)]
        target: Target,
        /// Calls per second.
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        /// Seconds to run (after a one-second warm-up at the same rate).
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Closed loop: `workers` concurrent callers as fast as answers come.
    Max {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 32)]
        workers: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Open `count` sessions with a GET stream each, hold them for `hold` seconds.
    Streams {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        count: u32,
        #[arg(long, default_value_t = 10)]
        hold: u32,
    },
}

#[derive(Debug, Clone, Args)]
struct Target {
    /// The MCP endpoint (e.g. http://127.0.0.1:8090/mcp/<server>/ or a direct upstream).
    #[arg(long)]
    url: String,
    /// Bearer token to send (a grant token for the proxy).
    #[arg(long)]
    token: Option<String>,
    /// The tool to call.
    #[arg(long, default_value = "k8s_get_namespaces")]
    tool: String,
    /// The call's arguments (JSON object).
    #[arg(long, default_value = r#"{"context":"bench"}"#)]
    arguments: String,
    /// A label printed with the results.
    #[arg(long, default_value = "target")]
    label: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Rate {
            target,
            rate,
            seconds,
        } => run_rate(&target, rate, seconds).await,
        Mode::Max {
            target,
            workers,
            seconds,
        } => run_max(&target, workers, seconds).await,
        Mode::Streams {
            target,
            count,
            hold,
        } => run_streams(&target, count, hold).await,
    }
}

async fn run_rate(target: &Target, rate: u32, seconds: u32) -> anyhow::Result<()> {
    let session = Arc::new(Session::open(&target.url, target.token.as_deref()).await?);
    let arguments: serde_json::Value = serde_json::from_str(&target.arguments)?;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let warmup = rate as usize;
    let total = warmup + rate as usize * seconds as usize;
    let results = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = start + interval * u32::try_from(i)?;
        tokio::time::sleep_until(scheduled).await;
        let (session, results, tool, arguments) = (
            session.clone(),
            results.clone(),
            target.tool.clone(),
            arguments.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let outcome = session.call(&tool, &arguments).await;
            let latency = scheduled.elapsed();
            if i >= warmup {
                results.lock().await.push((latency, outcome.is_ok()));
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let results = results.lock().await;
    let summary = Summary::new(&results, Duration::from_secs(u64::from(seconds)));
    println!("{} rate={rate}/s {}", target.label, summary);
    Ok(())
}

async fn run_max(target: &Target, workers: u32, seconds: u32) -> anyhow::Result<()> {
    let session = Arc::new(Session::open(&target.url, target.token.as_deref()).await?);
    let arguments: serde_json::Value = serde_json::from_str(&target.arguments)?;
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (session, tool, arguments) = (session.clone(), target.tool.clone(), arguments.clone());
        handles.push(tokio::spawn(async move {
            let mut local = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = session.call(&tool, &arguments).await.is_ok();
                local.push((started.elapsed(), ok));
            }
            local
        }));
    }
    let mut results = Vec::new();
    for handle in handles {
        results.extend(handle.await?);
    }
    let summary = Summary::new(&results, Duration::from_secs(u64::from(seconds)));
    println!("{} max workers={workers} {}", target.label, summary);
    Ok(())
}

async fn run_streams(target: &Target, count: u32, hold: u32) -> anyhow::Result<()> {
    let mut streams = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let session = Session::open(&target.url, target.token.as_deref()).await?;
        streams.push(session.open_stream().await?);
    }
    println!("{} streams={count} open; holding {hold}s", target.label);
    tokio::time::sleep(Duration::from_secs(u64::from(hold))).await;
    drop(streams);
    Ok(())
}
