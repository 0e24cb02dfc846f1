//! Talking to a tenant's upstream MCP server: discovery of its tools, behind an
//! SSRF guard.
//!
//! Every destination is checked against an [`AddressPolicy`] before the request and
//! again at connect time (a resolver inside the HTTP client for names, and a check of
//! each new connection's peer address), so neither a private address, nor a name that
//! re-resolves to one (DNS rebinding), nor the gateway itself ([`OwnAddresses`]) is
//! reached. Redirects and environment proxies are off: both would bypass the check.
//!
//! Every request mcpgate sends upstream carries [`HOP_HEADER`]; the proxy refuses an
//! inbound request that has it, so a loop through a load balancer (a name the own
//! addresses do not know) ends at the first hop.

mod address;
mod connect;
mod discover;
mod error;
mod legacy;
mod modern;
mod own;
mod relay_client;
mod resolve;
mod rpc;
pub mod upstream_oauth;

use std::sync::Arc;
use std::time::Duration;

pub use address::{classify, AddressPolicy, BlockReason};
pub use connect::{upstream_client, HOP_HEADER};
pub use discover::{DiscoveredTool, Discovery, Transport};
pub use error::DiscoveryError;
pub use mcpgate_mcp::Era;
pub use own::OwnAddresses;
pub use relay_client::{RelayClient, RelayClientSettings, RelayError};
pub use resolve::{guarded_resolver, refused_host, GuardedResolver, RefusedAddress};

use resolve::Lookup;

/// An error with its causes, `outer: inner: ...`, for messages that must say why.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Limits for [`discover`].
#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    /// Which destinations may be reached.
    pub address_policy: AddressPolicy,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for the whole discovery.
    pub timeout: Duration,
    /// `tools/list` pages followed at most.
    pub max_pages: usize,
    /// Largest answer (or SSE event) accepted.
    pub max_body_bytes: usize,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            address_policy: AddressPolicy::default(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            max_pages: 100,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Connects to an upstream MCP server and lists what it offers.
///
/// First a 2026-07-28 `server/discover` probe: if the server lists that version, every
/// page of `tools/list` follows as self-contained modern requests ([`Era::Modern`]).
/// Otherwise the handshake: `initialize`, `notifications/initialized`, every page of
/// `tools/list`, then the session is ended; and when the server answers that POST with
/// 400/404/405 and a GET opens an event stream, the same over legacy HTTP+SSE.
/// `headers` are sent on every request (e.g. the upstream's own credentials).
pub async fn discover(
    url: &str,
    headers: &[(String, String)],
    options: DiscoveryOptions,
) -> Result<Discovery, DiscoveryError> {
    discover_with(url, headers, options, resolve::system_lookup()).await
}

pub(crate) async fn discover_with(
    url: &str,
    headers: &[(String, String)],
    options: DiscoveryOptions,
    lookup: Lookup,
) -> Result<Discovery, DiscoveryError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| DiscoveryError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let client = connect::client_with(
        options.address_policy.clone(),
        Arc::clone(&lookup),
        "discovery",
    )
    .connect_timeout(options.connect_timeout)
    .user_agent(concat!("mcpgate/", env!("CARGO_PKG_VERSION")))
    .build()
    .map_err(|e| DiscoveryError::Unreachable {
        address: url.to_owned(),
        cause: format!("cannot build an HTTP client: {e}"),
    })?;
    let rpc = rpc::Rpc::new(
        client,
        discover::header_map(headers)?,
        options.address_policy,
        lookup,
        options.max_body_bytes,
    );
    let work = async {
        rpc.check_url(&parsed).await?;
        discover::streamable(&rpc, &parsed, options.max_pages).await
    };
    tokio::time::timeout(options.timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(DiscoveryError::Timeout {
                url: url.to_owned(),
                after: options.timeout,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        // First answer public (passes the early check), then loopback (the connection).
        let lookup: Lookup = Arc::new(move |_host| {
            let call = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                let ip: IpAddr = if call == 0 {
                    "93.184.216.34"
                } else {
                    "127.0.0.1"
                }
                .parse()
                .unwrap();
                Ok(vec![ip])
            })
        });
        let url = format!("http://rebind.example:{port}/mcp");
        let error = discover_with(&url, &[], DiscoveryOptions::default(), lookup)
            .await
            .unwrap_err();
        assert_eq!(
            error,
            DiscoveryError::Refused {
                address: "rebind.example (127.0.0.1)".into(),
                reason: BlockReason::Loopback
            }
        );
        assert!(calls.load(Ordering::SeqCst) >= 2);
        let accepted =
            tokio::time::timeout(std::time::Duration::from_millis(50), listener.accept()).await;
        assert!(
            accepted.is_err(),
            "nothing connected to the loopback listener"
        );
    }

    #[tokio::test]
    async fn a_name_that_rebinds_to_the_gateways_own_listener_is_refused_at_connect() {
        use tokio::io::AsyncReadExt;
        // The listener plays the proxy; private destinations are allowed (as under
        // `mcpgate up`), so only the own-address rule can refuse it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let own_addr = listener.local_addr().unwrap();
        let mut own = OwnAddresses::new();
        own.add_listen(own_addr);
        let policy = AddressPolicy::new(true).refusing_own(own);
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        // A public address for the early check, then the proxy's address to connect to.
        let lookup: Lookup = Arc::new(move |_host| {
            let call = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                let ip: IpAddr = if call == 0 {
                    "93.184.216.34"
                } else {
                    "127.0.0.1"
                }
                .parse()
                .unwrap();
                Ok(vec![ip])
            })
        });
        let received = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut bytes = Vec::new();
            let _ = socket.read_to_end(&mut bytes).await;
            bytes
        });
        let url = format!("http://rebind.example:{}/mcp", own_addr.port());
        let options = DiscoveryOptions {
            address_policy: policy,
            ..DiscoveryOptions::default()
        };
        let error = discover_with(&url, &[], options, lookup).await.unwrap_err();
        assert_eq!(
            error,
            DiscoveryError::Refused {
                address: own_addr.to_string(),
                reason: BlockReason::OwnAddress
            }
        );
        assert!(
            calls.load(Ordering::SeqCst) >= 2,
            "the name was resolved again"
        );
        let received = tokio::time::timeout(std::time::Duration::from_secs(5), received)
            .await
            .expect("the refused connection is closed")
            .unwrap();
        assert!(
            received.is_empty(),
            "no HTTP byte reached the listener: {received:?}"
        );
    }
}
