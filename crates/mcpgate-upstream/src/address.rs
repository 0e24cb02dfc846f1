//! Which addresses a tenant's upstream URL may point at (SSRF guard).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which destinations are allowed. The default refuses everything but public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Allow loopback, private, link-local and other non-public destinations (local
    /// development and tests only: with it a tenant can reach the gateway's own network).
    pub allow_private: bool,
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
    /// 255.255.255.255 and the reserved 240/4.
    Broadcast,
    /// 224/4, ff00::/8.
    Multicast,
    /// A name reserved for cloud metadata or private use (`metadata.google.internal`, `*.internal`).
    MetadataName,
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
            BlockReason::Broadcast => "a broadcast or reserved address",
            BlockReason::Multicast => "a multicast address",
            BlockReason::MetadataName => "a cloud metadata or internal name",
        })
    }
}

impl AddressPolicy {
    /// `Some(reason)` if `ip` is not allowed.
    pub fn check_ip(&self, ip: IpAddr) -> Option<BlockReason> {
        if self.allow_private {
            return None;
        }
        classify(ip)
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
}

/// Classifies an address regardless of policy: `None` for a public address.
pub fn classify(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    let [a, b, _, _] = ip.octets();
    Some(match (a, b) {
        (127, _) => BlockReason::Loopback,
        (10, _) | (172, 16..=31) | (192, 168) => BlockReason::Private,
        (169, 254) => BlockReason::LinkLocal,
        (100, 64..=127) => BlockReason::SharedAddressSpace,
        (0, _) => BlockReason::Unspecified,
        (224..=239, _) => BlockReason::Multicast,
        (240..=255, _) => BlockReason::Broadcast,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    // IPv4 embedded in IPv6 reaches the IPv4 host: ::ffff:0:0/96 (mapped),
    // ::/96 (deprecated compatible) and 64:ff9b::/96 (NAT64).
    let segments = ip.segments();
    let embedded = Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    );
    if ip.is_unspecified() {
        return Some(BlockReason::Unspecified);
    }
    if ip.is_loopback() {
        return Some(BlockReason::Loopback);
    }
    match segments {
        [0, 0, 0, 0, 0, 0xffff, _, _]
        | [0, 0, 0, 0, 0, 0, _, _]
        | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => {
            return classify_v4(embedded);
        }
        _ => {}
    }
    Some(match segments[0] {
        s if s & 0xfe00 == 0xfc00 => BlockReason::UniqueLocal,
        s if s & 0xffc0 == 0xfe80 => BlockReason::LinkLocal,
        s if s & 0xff00 == 0xff00 => BlockReason::Multicast,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<BlockReason> {
        classify(text.parse().unwrap())
    }

    #[test]
    fn classifies_non_public_ipv4() {
        use BlockReason::*;
        let cases = [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(Private)),
            ("169.254.169.254", Some(LinkLocal)),
            ("100.64.0.1", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("100.128.0.1", None),
            ("0.0.0.0", Some(Unspecified)),
            ("255.255.255.255", Some(Broadcast)),
            ("224.0.0.1", Some(Multicast)),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), expected, "{ip}");
        }
    }

    #[test]
    fn classifies_non_public_ipv6_including_embedded_ipv4() {
        use BlockReason::*;
        let cases = [
            ("::1", Some(Loopback)),
            ("::", Some(Unspecified)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("::ffff:8.8.8.8", None),
            ("2001:4860:4860::8888", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), expected, "{ip}");
        }
    }

    #[test]
    fn metadata_names_are_refused_unless_private_is_allowed() {
        let strict = AddressPolicy::default();
        for name in [
            "metadata.google.internal",
            "METADATA.google.internal.",
            "metadata",
            "foo.internal",
        ] {
            assert_eq!(
                strict.check_name(name),
                Some(BlockReason::MetadataName),
                "{name}"
            );
        }
        assert_eq!(strict.check_name("mcp.example.com"), None);
        let open = AddressPolicy {
            allow_private: true,
        };
        assert_eq!(open.check_name("metadata.google.internal"), None);
        assert_eq!(open.check_ip("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            strict.check_ip("127.0.0.1".parse().unwrap()),
            Some(BlockReason::Loopback)
        );
    }
}
