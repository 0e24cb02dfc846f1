//! Which addresses a tenant's upstream URL may point at (SSRF guard).
//!
//! Two rules, applied before connecting and again at connect time:
//! - **Special-purpose addresses** ([`special`], the IANA registries) are refused unless
//!   the policy allows private destinations.
//! - **The gateway's own addresses** ([`OwnAddresses`]) are refused always: an upstream
//!   that is mcpgate itself makes every call loop through it.

mod special;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::own::OwnAddresses;
use special::Verdict;

/// Which destinations are allowed. The default refuses everything but public addresses.
/// Cheap to clone (the own addresses are shared).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Allow loopback, private, link-local and other non-public destinations (local
    /// development and tests only: with it a tenant can reach the gateway's own network).
    pub allow_private: bool,
    own: Arc<OwnAddresses>,
}

/// Why an address or name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    Private,
    /// fc00::/7.
    UniqueLocal,
    /// 169.254/16 (including cloud metadata 169.254.169.254), fe80::/10.
    LinkLocal,
    /// 100.64/10 (carrier-grade NAT).
    SharedAddressSpace,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 224/4, ff00::/8.
    Multicast,
    /// Documentation ranges: 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// Benchmarking ranges: 198.18/15, 2001:2::/48.
    Benchmarking,
    /// Reserved or special-purpose and not globally reachable: 240/4, 192.0.0/24,
    /// 64:ff9b:1::/48, 100::/64, 2001::/23, 5f00::/16, everything outside 2000::/3, ...
    Reserved,
    /// A name reserved for cloud metadata or private use (`metadata.google.internal`, `*.internal`).
    MetadataName,
    /// The gateway's own proxy or API (public origin or listen address): the request
    /// would come back to mcpgate and loop.
    OwnAddress,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockReason::Loopback => "a loopback address",
            BlockReason::Private => "a private (RFC 1918) address",
            BlockReason::UniqueLocal => "a unique local IPv6 address",
            BlockReason::LinkLocal => "a link-local address (cloud metadata lives here)",
            BlockReason::SharedAddressSpace => "a carrier-grade NAT address",
            BlockReason::Unspecified => "an unspecified address",
            BlockReason::Broadcast => "the broadcast address",
            BlockReason::Multicast => "a multicast address",
            BlockReason::Documentation => "a documentation address",
            BlockReason::Benchmarking => "a benchmarking address",
            BlockReason::Reserved => "a reserved address that is not globally reachable",
            BlockReason::MetadataName => "a cloud metadata or internal name",
            BlockReason::OwnAddress => {
                "this mcpgate deployment's own address (the request would loop back into it)"
            }
        })
    }
}

impl AddressPolicy {
    /// Public destinations only, or (`allow_private`) any destination but the gateway's own.
    pub fn new(allow_private: bool) -> Self {
        Self {
            allow_private,
            own: Arc::default(),
        }
    }

    /// The same policy, also refusing `own` (whatever `allow_private` says).
    pub fn refusing_own(self, own: OwnAddresses) -> Self {
        Self {
            own: Arc::new(own),
            ..self
        }
    }

    /// The gateway's own addresses this policy refuses.
    pub fn own(&self) -> &OwnAddresses {
        &self.own
    }

    /// `Some(reason)` if `ip` is not allowed (on any port).
    pub fn check_ip(&self, ip: IpAddr) -> Option<BlockReason> {
        if self.allow_private {
            return None;
        }
        classify(ip)
    }

    /// `Some(reason)` if connecting to `peer` from `local` is not allowed: the gateway's
    /// own listener (always refused), or an address [`AddressPolicy::check_ip`] refuses.
    /// `local` is the connection's own end, when known: a peer with the same IP is this
    /// host, which matters for listeners on 0.0.0.0.
    pub fn check_socket(&self, peer: SocketAddr, local: Option<IpAddr>) -> Option<BlockReason> {
        if self.own.has_socket(peer, local) {
            return Some(BlockReason::OwnAddress);
        }
        self.check_ip(peer.ip())
    }

    /// `Some(reason)` if the host name itself is not allowed, before resolving it.
    pub fn check_name(&self, host: &str) -> Option<BlockReason> {
        if self.allow_private {
            return None;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let blocked = matches!(
            host.as_str(),
            "metadata" | "metadata.goog" | "instance-data"
        ) || host.ends_with(".internal")
            || host == "internal";
        blocked.then_some(BlockReason::MetadataName)
    }

    /// `Some(reason)` if `host` (a name or an IP literal, IPv6 with or without brackets)
    /// on `port` may not be reached, before resolving a name: one of the gateway's own
    /// origins, a refused literal, or a refused name.
    pub fn check_host(&self, host: &str, port: u16) -> Option<BlockReason> {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) => self.check_socket(SocketAddr::new(ip, port), None),
            Err(_) if self.own.has_origin(host, port) => Some(BlockReason::OwnAddress),
            Err(_) => self.check_name(host),
        }
    }
}

/// Classifies an address regardless of policy: `None` for a globally reachable address.
pub fn classify(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    match special::v4(ip)? {
        Verdict::Refused(reason) => Some(reason),
        // No IPv4 range embeds another address.
        Verdict::Reachable | Verdict::EmbedsLast32 { .. } | Verdict::Embeds6to4 => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    let octets = ip.octets();
    match special::v6(ip)? {
        Verdict::Refused(reason) => Some(reason),
        Verdict::Reachable => None,
        // Mapped, compatible and NAT64 addresses reach the IPv4 host in their last 32 bits.
        Verdict::EmbedsLast32 { otherwise } => {
            let embedded = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
            classify_v4(embedded).or(otherwise)
        }
        // 6to4 (2002:V4ADDR::/48) reaches the IPv4 site in bits 16..48.
        Verdict::Embeds6to4 => {
            classify_v4(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]))
        }
    }
}
