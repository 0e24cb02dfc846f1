//! Name resolution with the address policy applied, both before a request and at
//! connect time (a `reqwest` resolver), so a name that re-resolves to a forbidden
//! address between the check and the connection (DNS rebinding) is still refused.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::address::{AddressPolicy, BlockReason};

/// Resolves a host name to addresses.
pub(crate) type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> + Send + Sync,
>;

/// The system resolver.
pub(crate) fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    })
}

/// A destination refused by the address policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {reason}")]
pub struct RefusedAddress {
    /// The address or name refused.
    pub address: String,
    /// Why.
    pub reason: BlockReason,
}

/// Resolves `host` and refuses it if the name or any of its addresses is not allowed.
pub(crate) async fn resolve_checked(
    lookup: &Lookup,
    policy: &AddressPolicy,
    host: &str,
) -> Result<Result<Vec<IpAddr>, RefusedAddress>, io::Error> {
    if let Some(reason) = policy.check_name(host) {
        return Ok(Err(RefusedAddress {
            address: host.to_owned(),
            reason,
        }));
    }
    let addresses = lookup(host.to_owned()).await?;
    for ip in &addresses {
        if let Some(reason) = policy.check_ip(*ip) {
            return Ok(Err(RefusedAddress {
                address: format!("{host} ({ip})"),
                reason,
            }));
        }
    }
    Ok(Ok(addresses))
}

/// A `reqwest` resolver that connects only to addresses `policy` allows, for any
/// HTTP client that reaches tenants' upstreams (discovery, and the proxy's relay).
/// Prefer [`crate::upstream_client`], which also checks each connection's address.
pub fn guarded_resolver(policy: AddressPolicy) -> Arc<GuardedResolver> {
    guarded_resolver_with(system_lookup(), policy)
}

pub(crate) fn guarded_resolver_with(lookup: Lookup, policy: AddressPolicy) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { lookup, policy })
}

/// Why the URL's host may not be reached under `policy`, if it may not: the check
/// before connecting (one of the gateway's own origins, a refused literal or name). The
/// client from [`crate::upstream_client`] repeats it at connect time.
pub fn refused_host(policy: &AddressPolicy, url: &reqwest::Url) -> Option<RefusedAddress> {
    let host = url.host_str()?;
    let reason = policy.check_host(host, url.port_or_known_default()?)?;
    Some(RefusedAddress {
        address: host.to_owned(),
        reason,
    })
}

/// The `reqwest` resolver: connects only to allowed addresses.
#[allow(missing_debug_implementations)] // holds a closure; nothing useful to print
pub struct GuardedResolver {
    pub(crate) lookup: Lookup,
    pub(crate) policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = Arc::clone(&self.lookup);
        let policy = self.policy.clone();
        Box::pin(async move {
            let addresses = resolve_checked(&lookup, &policy, name.as_str()).await??;
            // reqwest replaces the port with the URL's.
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn private_literals_and_metadata_names_are_refused_before_connecting_unless_allowed() {
        let strict = AddressPolicy::default();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(refused_host(&strict, &url("http://127.0.0.1:8080/mcp")).is_some());
        assert!(refused_host(&strict, &url("http://[::1]/mcp")).is_some());
        assert!(refused_host(&strict, &url("http://169.254.169.254/")).is_some());
        assert!(refused_host(&strict, &url("http://metadata.google.internal/")).is_some());
        assert!(refused_host(&strict, &url("https://mcp.example.com/")).is_none());
        let open = AddressPolicy::new(true);
        assert!(refused_host(&open, &url("http://127.0.0.1:8080/mcp")).is_none());
    }

    #[tokio::test]
    async fn the_connect_time_resolver_refuses_a_name_that_resolves_to_loopback() {
        let resolver = GuardedResolver {
            lookup: system_lookup(),
            policy: AddressPolicy::default(),
        };
        let error = match resolver.resolve(Name::from_str("localhost").unwrap()).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(error) => error,
        };
        let refused = error
            .downcast_ref::<RefusedAddress>()
            .expect("a RefusedAddress");
        assert_eq!(refused.reason, BlockReason::Loopback);

        let open = GuardedResolver {
            lookup: system_lookup(),
            policy: AddressPolicy::new(true),
        };
        assert!(open
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .is_ok());
    }
}
