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
    policy: AddressPolicy,
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

/// The `reqwest` resolver: connects only to allowed addresses.
pub(crate) struct GuardedResolver {
    pub(crate) lookup: Lookup,
    pub(crate) policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = Arc::clone(&self.lookup);
        let policy = self.policy;
        Box::pin(async move {
            let addresses = resolve_checked(&lookup, policy, name.as_str()).await??;
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
            policy: AddressPolicy {
                allow_private: true,
            },
        };
        assert!(open
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .is_ok());
    }
}
