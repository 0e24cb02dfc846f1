//! The SSRF guard on the relay path, with the same [`AddressPolicy`] discovery uses: a
//! server URL whose host is a forbidden address or name is refused when the server is
//! loaded, and every name is checked again at connect time by the HTTP client's resolver,
//! so a name that re-resolves to a private address later (DNS rebinding) is refused too.
//!
//! The resolver mirrors `mcpgate-upstream`'s, which is crate-private; once that crate
//! exports its resolver this file shrinks to the load-time check.

use std::net::{IpAddr, SocketAddr};

use mcpgate_upstream::AddressPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why the URL's host may not be reached, if it may not.
pub(crate) fn refused(policy: AddressPolicy, url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let reason = match literal.parse::<IpAddr>() {
        Ok(ip) => policy.check_ip(ip),
        Err(_) => policy.check_name(host),
    };
    reason.map(|reason| format!("upstream {host} is {reason}; the proxy does not reach it"))
}

/// A `reqwest` resolver that refuses names resolving to forbidden addresses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver(pub(crate) AddressPolicy);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            if let Some(reason) = policy.check_name(&host) {
                return Err(format!("{host} is {reason}").into());
            }
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some((ip, reason)) = addresses
                .iter()
                .find_map(|a| policy.check_ip(a.ip()).map(|reason| (a.ip(), reason)))
            {
                return Err(format!("{host} ({ip}) is {reason}").into());
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_literals_and_metadata_names_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(refused(strict, &url("http://127.0.0.1:8080/mcp")).is_some());
        assert!(refused(strict, &url("http://[::1]/mcp")).is_some());
        assert!(refused(strict, &url("http://169.254.169.254/")).is_some());
        assert!(refused(strict, &url("http://metadata.google.internal/")).is_some());
        assert!(refused(strict, &url("https://mcp.example.com/")).is_none());
        let open = AddressPolicy {
            allow_private: true,
        };
        assert!(refused(open, &url("http://127.0.0.1:8080/mcp")).is_none());
    }
}
