//! The HTTP client every request to a tenant's upstream goes through (discovery and the
//! proxy's relay): the address policy at connect time, and the hop header.
//!
//! The resolver ([`crate::GuardedResolver`]) checks names, but it never sees IP literals
//! or ports. So the connection itself is checked too, once TCP is up and before a byte
//! of HTTP is written: its peer address against [`AddressPolicy::check_socket`] (the
//! gateway's own listeners included). One decision, whatever the URL looked like.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Extensions;
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::resolve::{guarded_resolver_with, system_lookup, Lookup, RefusedAddress};
use crate::AddressPolicy;

/// The header every request mcpgate sends upstream carries. The proxy refuses an
/// inbound request that has it (508 Loop Detected): it can only have come from mcpgate.
pub const HOP_HEADER: &str = "mcp-gate-hop";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client builder for upstream requests: the address policy applied to names (the
/// resolver) and to every connection made, no redirects, no environment proxies (both
/// would bypass the check), and `Mcp-Gate-Hop: <hop>` on every request.
pub fn upstream_client(policy: AddressPolicy, hop: &'static str) -> reqwest::ClientBuilder {
    client_with(policy, system_lookup(), hop)
}

/// [`upstream_client`] with the given name lookup (tests inject one).
pub(crate) fn client_with(
    policy: AddressPolicy,
    lookup: Lookup,
    hop: &'static str,
) -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    headers.insert(HOP_HEADER, HeaderValue::from_static(hop));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .default_headers(headers)
        .dns_resolver(guarded_resolver_with(lookup, policy.clone()))
        .connector_layer(ConnectGuardLayer { policy })
}

/// Checks each new connection's peer address.
#[derive(Debug, Clone)]
struct ConnectGuardLayer {
    policy: AddressPolicy,
}

impl<S> tower::Layer<S> for ConnectGuardLayer {
    type Service = ConnectGuard<S>;
    fn layer(&self, inner: S) -> ConnectGuard<S> {
        ConnectGuard {
            inner,
            policy: self.policy.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ConnectGuard<S> {
    inner: S,
    policy: AddressPolicy,
}

impl<S> ConnectGuard<S> {
    /// `inner`'s connections, each refused unless `policy` allows its peer.
    pub(crate) fn new(inner: S, policy: AddressPolicy) -> Self {
        Self { inner, policy }
    }
}

impl<S, R> tower::Service<R> for ConnectGuard<S>
where
    S: tower::Service<R> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Response: Connection + Send,
    S::Future: Send,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // The clone that was made ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = self.policy.clone();
        Box::pin(async move {
            let connection = inner.call(request).await.map_err(Into::into)?;
            let mut extras = Extensions::new();
            connection.connected().get_extras(&mut extras);
            // Every TCP connection reports its addresses; without them, fail closed.
            let Some(info) = extras.get::<HttpInfo>() else {
                return Err(Box::new(RefusedAddress {
                    address: "an upstream whose address is unknown".into(),
                    reason: crate::BlockReason::Reserved,
                }) as BoxError);
            };
            let peer = info.remote_addr();
            match policy.check_socket(peer, Some(info.local_addr().ip())) {
                Some(reason) => Err(Box::new(RefusedAddress {
                    address: peer.to_string(),
                    reason,
                }) as BoxError),
                None => Ok(connection),
            }
        })
    }
}
