//! `mcpgate demo`: the demo MCP upstream on its own, and the options `up --demo`
//! shares with it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mcpgate_demo::{Catalog, DemoSettings, ResponseMode};

/// The demo upstream's options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where the demo MCP server listens (`:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8070", value_name = "ADDR")]
    pub demo_listen: SocketAddr,

    /// A catalogue file (an object with a `tools` array) to serve instead of the
    /// built-in k8s-multicluster-mcp tools.
    #[arg(long, value_name = "FILE")]
    pub demo_catalog: Option<PathBuf>,

    /// Answer requests as `text/event-stream` instead of `application/json`.
    #[arg(long)]
    pub demo_sse: bool,

    /// Added latency per call, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub demo_latency_ms: u64,
}

impl DemoArgs {
    fn settings(&self) -> anyhow::Result<DemoSettings> {
        let catalog = match &self.demo_catalog {
            Some(path) => {
                Catalog::from_file(path).with_context(|| format!("reading {}", path.display()))?
            }
            None => Catalog::builtin(),
        };
        Ok(DemoSettings {
            catalog,
            response_mode: if self.demo_sse {
                ResponseMode::Sse
            } else {
                ResponseMode::Json
            },
            latency: Duration::from_millis(self.demo_latency_ms),
            ..DemoSettings::default()
        })
    }

    /// Binds the demo server; returns its MCP URL and the future that serves it.
    pub async fn bind(
        &self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<(
        String,
        impl std::future::Future<Output = std::io::Result<()>>,
    )> {
        let settings = self.settings()?;
        let listener = tokio::net::TcpListener::bind(self.demo_listen)
            .await
            .with_context(|| format!("binding the demo server to {}", self.demo_listen))?;
        let url = format!("http://{}/mcp", listener.local_addr()?);
        Ok((url, mcpgate_demo::serve(listener, settings, shutdown)))
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let (url, serve) = args.bind(mcpgate_service::shutdown_signal()).await?;
    println!(
        "Demo MCP server: {url} (legacy SSE: {})",
        url.replace("/mcp", "/sse")
    );
    serve.await.context("serving the demo MCP server")
}
