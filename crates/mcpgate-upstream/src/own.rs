//! The gateway's own addresses. An upstream URL that leads back to the proxy (or to the
//! API) makes every call go round through mcpgate until something gives up, so these are
//! refused whatever the address policy otherwise allows (`mcpgate up` allows loopback,
//! where the proxy itself listens).
//!
//! Two kinds: **listen addresses** (IP and port; a listener on 0.0.0.0 or :: is every
//! address of this host on that port) and **public origins** (host name and port, from
//! the public URLs). Names are compared as written; a different name for the same host
//! is caught by the listen address at connect time, or by the hop header when the path
//! goes through a load balancer (see the crate docs).

use std::net::{IpAddr, SocketAddr};

/// The proxy's and the API's own addresses. Build with [`OwnAddresses::add_listen`] and
/// [`OwnAddresses::add_url`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnAddresses {
    sockets: Vec<SocketAddr>,
    origins: Vec<(String, u16)>,
}

impl OwnAddresses {
    /// Nothing refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses a listen address (an unspecified IP stands for every address of this host).
    pub fn add_listen(&mut self, addr: SocketAddr) -> &mut Self {
        let addr = canonical(addr);
        if !self.sockets.contains(&addr) {
            self.sockets.push(addr);
        }
        self
    }

    /// Refuses the origin of a public URL (`https://proxy.example.com` is
    /// `proxy.example.com:443`). A URL that does not parse or has no host adds nothing.
    pub fn add_url(&mut self, url: &str) -> &mut Self {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return self;
        };
        let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
            return self;
        };
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) => {
                self.add_listen(SocketAddr::new(ip, port));
            }
            Err(_) => {
                let origin = (normalise(host), port);
                if !self.origins.contains(&origin) {
                    self.origins.push(origin);
                }
            }
        }
        self
    }

    /// Whether nothing is refused.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty() && self.origins.is_empty()
    }

    /// Whether connecting to `peer` (from `local`, when known) reaches one of our listeners.
    pub(crate) fn has_socket(&self, peer: SocketAddr, local: Option<IpAddr>) -> bool {
        let peer = canonical(peer);
        let this_host = peer.ip().is_loopback()
            || peer.ip().is_unspecified()
            || local.is_some_and(|local| canonical_ip(local) == peer.ip());
        self.sockets.iter().any(|own| {
            own.port() == peer.port()
                && (own.ip() == peer.ip() || (own.ip().is_unspecified() && this_host))
        })
    }

    /// Whether `host:port` is one of our public origins.
    pub(crate) fn has_origin(&self, host: &str, port: u16) -> bool {
        let host = normalise(host);
        self.origins
            .iter()
            .any(|(own, own_port)| *own_port == port && *own == host)
    }
}

fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `::ffff:a.b.c.d` is `a.b.c.d`: the same listener either way.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical_ip(addr.ip()), addr.port())
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_listen_address_is_refused_on_its_port_only() {
        let mut own = OwnAddresses::new();
        own.add_listen(socket("127.0.0.1:8090"));
        assert!(own.has_socket(socket("127.0.0.1:8090"), None));
        assert!(own.has_socket(socket("[::ffff:127.0.0.1]:8090"), None));
        assert!(!own.has_socket(socket("127.0.0.1:8091"), None));
        assert!(!own.has_socket(socket("127.0.0.2:8090"), None));
    }

    #[test]
    fn an_unspecified_listen_address_covers_every_address_of_this_host() {
        let mut own = OwnAddresses::new();
        own.add_listen(socket("0.0.0.0:8090"));
        assert!(own.has_socket(socket("127.0.0.1:8090"), None));
        assert!(own.has_socket(socket("[::1]:8090"), None));
        let this_host: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(own.has_socket(socket("10.1.2.3:8090"), Some(this_host)));
        assert!(!own.has_socket(socket("10.1.2.4:8090"), Some(this_host)));
        assert!(!own.has_socket(socket("127.0.0.1:9000"), None));
    }

    #[test]
    fn a_public_url_refuses_its_origin_by_name_or_by_literal() {
        let mut own = OwnAddresses::new();
        own.add_url("https://Proxy.Example.com/")
            .add_url("http://127.0.0.1:8090");
        assert!(own.has_origin("proxy.example.com.", 443));
        assert!(!own.has_origin("proxy.example.com", 80));
        assert!(!own.has_origin("other.example.com", 443));
        assert!(own.has_socket(socket("127.0.0.1:8090"), None));
        assert!(!OwnAddresses::new()
            .add_url("not a url")
            .has_origin("not a url", 80));
    }
}
