//! Who a request comes from, for the login rate limit.
//!
//! The peer address is the client unless it is one of the trusted proxies
//! (`MCPGATE_API_TRUSTED_PROXIES`, a list of CIDRs; none by default). Behind a trusted
//! proxy the client is the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy: each proxy appends the address it saw, so entries to the left of the
//! last untrusted one were written by the client and prove nothing. An untrusted peer's
//! `X-Forwarded-For` is ignored: anyone can send the header.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// An IP network such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP network like 10.0.0.0/8 or 2001:db8::/32")]
pub struct InvalidCidr(String);

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(text: &str) -> Result<Self, InvalidCidr> {
        let invalid = || InvalidCidr(text.to_owned());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| invalid())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| invalid())?,
            None => max,
        };
        if prefix > max {
            return Err(invalid());
        }
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.network, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                network.to_bits() & mask == ip.to_bits() & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                network.to_bits() & mask == ip.to_bits() & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty by default: trust none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trusts these networks.
    pub fn new(networks: Vec<Cidr>) -> Self {
        Self(networks)
    }

    /// Parses a comma-separated list (`10.0.0.0/8, 192.168.1.7`); empty means none.
    pub fn parse_list(text: &str) -> Result<Self, InvalidCidr> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client's address: `peer`, or behind a trusted proxy the right-most untrusted
    /// `X-Forwarded-For` entry (the left-most entry if all are trusted). Unreadable
    /// entries end the walk: what is left of them cannot be told apart from forgery.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("").split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`[::1]:443`, `1.2.3.4:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peers_forwarded_for_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("198.51.100.9"), &headers(&["203.0.113.1"])),
            ip("198.51.100.9")
        );
        let some = TrustedProxies::parse_list("10.0.0.0/8").unwrap();
        assert_eq!(
            some.client_ip(ip("198.51.100.9"), &headers(&["203.0.113.1"])),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let trusted = TrustedProxies::parse_list("10.0.0.0/8, 192.168.1.7").unwrap();
        let peer = ip("10.1.1.1");
        // The client forged the first entry; the proxies appended the rest.
        let forwarded = headers(&["6.6.6.6, 203.0.113.5", "192.168.1.7"]);
        assert_eq!(trusted.client_ip(peer, &forwarded), ip("203.0.113.5"));
        assert_eq!(
            trusted.client_ip(peer, &headers(&["203.0.113.5:4711"])),
            ip("203.0.113.5")
        );
        assert_eq!(
            trusted.client_ip(peer, &headers(&["10.2.2.2"])),
            ip("10.2.2.2")
        );
        assert_eq!(trusted.client_ip(peer, &HeaderMap::new()), peer);
        assert_eq!(trusted.client_ip(peer, &headers(&["garbage"])), peer);
        assert_eq!(
            trusted.client_ip(ip("::ffff:10.1.1.1"), &headers(&["2001:db8::1"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn cidrs_parse_and_bad_ones_are_named() {
        let cidr: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(cidr.contains(ip("2001:db8:ffff::1")));
        assert!(!cidr.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "10.0.0/8", "proxy.internal", "::/129"] {
            let error = TrustedProxies::parse_list(bad).unwrap_err();
            assert!(error.to_string().contains(bad), "{error}");
        }
        assert_eq!(
            TrustedProxies::parse_list(" ").unwrap(),
            TrustedProxies::default()
        );
    }
}
