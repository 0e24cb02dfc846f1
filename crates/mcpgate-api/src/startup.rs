//! Building the API service: bind the listener (port 0 in tests), assemble the
//! router, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use mcpgate_service::{health_router, with_common_layers, Readiness};
use mcpgate_store::{PgPool, Redis};
use tokio::net::TcpListener;

/// The API service's settings.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Where to listen (API and dashboard).
    pub listen: SocketAddr,
    /// The proxy's public base URL, shown to users in proxy URLs and snippets.
    pub public_proxy_url: String,
}

/// What the API service needs from outside.
#[derive(Debug, Clone)]
pub struct ApiDeps {
    /// The control plane's database.
    pub db: PgPool,
    /// Redis, for publishing changes to the proxies.
    pub redis: Redis,
}

/// A bound, ready-to-run API service.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the listener and assembles the router.
    pub async fn build(settings: ApiSettings, deps: ApiDeps) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.listen).await?;
        let readiness = Readiness::new(
            Some(deps.db.clone()),
            Some(deps.redis.clone()),
            Duration::from_secs(2),
        );
        let router = with_common_layers(Router::new().merge(health_router(readiness)));
        Ok(Self { listener, router })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "API and dashboard listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
