use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use BlockReason::*;

fn reason(text: &str) -> Option<BlockReason> {
    classify(text.parse().unwrap())
}

/// The first and last address of `cidr`.
fn bounds(cidr: &str) -> (IpAddr, IpAddr) {
    let (network, prefix) = cidr.split_once('/').unwrap();
    let prefix: u32 = prefix.parse().unwrap();
    match network.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => {
            let host_bits = u32::MAX.checked_shr(prefix).unwrap_or(0);
            let first = v4.to_bits() & !host_bits;
            (
                IpAddr::V4(Ipv4Addr::from_bits(first)),
                IpAddr::V4(Ipv4Addr::from_bits(first | host_bits)),
            )
        }
        IpAddr::V6(v6) => {
            let host_bits = u128::MAX.checked_shr(prefix).unwrap_or(0);
            let first = v6.to_bits() & !host_bits;
            (
                IpAddr::V6(Ipv6Addr::from_bits(first)),
                IpAddr::V6(Ipv6Addr::from_bits(first | host_bits)),
            )
        }
    }
}

/// Written from the IANA registries, independently of the table in `special.rs`.
#[rustfmt::skip]
const REFUSED_IPV4: &[(&str, BlockReason, &str)] = &[
    ("0.0.0.0/8", Unspecified, "RFC 791"),
    ("10.0.0.0/8", Private, "RFC 1918"),
    ("100.64.0.0/10", SharedAddressSpace, "RFC 6598"),
    ("127.0.0.0/8", Loopback, "RFC 1122"),
    ("169.254.0.0/16", LinkLocal, "RFC 3927"),
    ("172.16.0.0/12", Private, "RFC 1918"),
    ("192.0.0.0/29", Reserved, "RFC 7335 (DS-Lite), inside 192.0.0.0/24"),
    ("192.0.0.170/31", Reserved, "RFC 8880, inside 192.0.0.0/24"),
    ("192.0.0.248/29", Reserved, "last addresses of 192.0.0.0/24 (RFC 6890)"),
    ("192.0.2.0/24", Documentation, "RFC 5737"),
    ("192.88.99.0/24", Reserved, "RFC 7526"),
    ("192.168.0.0/16", Private, "RFC 1918"),
    ("198.18.0.0/15", Benchmarking, "RFC 2544"),
    ("198.51.100.0/24", Documentation, "RFC 5737"),
    ("203.0.113.0/24", Documentation, "RFC 5737"),
    ("224.0.0.0/4", Multicast, "RFC 5771"),
    ("240.0.0.0/5", Reserved, "RFC 1112 (first half of 240/4)"),
    ("248.0.0.0/6", Reserved, "RFC 1112"),
    ("255.255.255.254/32", Reserved, "RFC 1112 (last before broadcast)"),
    ("255.255.255.255/32", Broadcast, "RFC 919, RFC 8190"),
];

#[rustfmt::skip]
const REFUSED_IPV6: &[(&str, BlockReason, &str)] = &[
    ("::/128", Unspecified, "RFC 4291"),
    ("::1/128", Loopback, "RFC 4291"),
    ("64:ff9b:1::/48", Reserved, "RFC 8215"),
    ("100::/64", Reserved, "RFC 6666"),
    ("100:0:0:1::/64", Reserved, "RFC 9780"),
    ("2001::/32", Reserved, "RFC 4380 (Teredo)"),
    ("2001:1::/128", Reserved, "RFC 2928 (2001:1::1 is PCP anycast, reachable)"),
    ("2001:1::4/126", Reserved, "RFC 2928"),
    ("2001:2::/48", Benchmarking, "RFC 5180"),
    ("2001:4:113::/48", Reserved, "RFC 2928 (next to AS112-v6)"),
    ("2001:10::/28", Reserved, "RFC 4843"),
    ("2001:40::/26", Reserved, "RFC 2928 (after the drone remote ID block)"),
    ("2001:100::/24", Reserved, "RFC 2928 (last /24 of 2001::/23)"),
    ("2001:db8::/32", Documentation, "RFC 3849"),
    ("3fff::/20", Documentation, "RFC 9637"),
    ("5f00::/16", Reserved, "RFC 9602"),
    ("fc00::/7", UniqueLocal, "RFC 4193"),
    ("fe80::/10", LinkLocal, "RFC 4291"),
    ("fec0::/10", Reserved, "RFC 3879"),
    ("ff00::/8", Multicast, "RFC 4291"),
    ("4000::/2", Reserved, "outside 2000::/3"),
    ("8000::/2", Reserved, "outside 2000::/3 (up to f000::, before fc00::/7)"),
    ("1000::/4", Reserved, "outside 2000::/3"),
];

#[test]
fn every_special_purpose_ipv4_range_is_refused_from_its_first_to_its_last_address() {
    for (cidr, expected, rfc) in REFUSED_IPV4 {
        let (first, last) = bounds(cidr);
        assert_eq!(
            classify(first),
            Some(*expected),
            "{cidr} ({rfc}): first {first}"
        );
        assert_eq!(
            classify(last),
            Some(*expected),
            "{cidr} ({rfc}): last {last}"
        );
    }
}

#[test]
fn every_special_purpose_ipv6_range_is_refused_from_its_first_to_its_last_address() {
    for (cidr, expected, rfc) in REFUSED_IPV6 {
        let (first, last) = bounds(cidr);
        assert_eq!(
            classify(first),
            Some(*expected),
            "{cidr} ({rfc}): first {first}"
        );
        assert_eq!(
            classify(last),
            Some(*expected),
            "{cidr} ({rfc}): last {last}"
        );
    }
}

#[test]
fn the_addresses_just_outside_each_refused_block_are_public() {
    for ip in [
        "1.0.0.0",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.0",
        "192.0.3.0",
        "192.88.98.255",
        "192.88.100.0",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.255",
        "198.51.101.0",
        "203.0.112.255",
        "203.0.114.0",
        "223.255.255.255",
        "8.8.8.8",
        "2000::",
        "2001:200::1",
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
        "2003::1",
        "3ffe:ffff::1",
        "3fff:1000::",
        "2606:4700::1111",
    ] {
        assert_eq!(reason(ip), None, "{ip}");
    }
}

#[test]
fn globally_reachable_exceptions_inside_refused_blocks_stay_reachable() {
    // IANA marks these globally reachable although their blocks are not.
    for ip in [
        "192.0.0.9",
        "192.0.0.10",
        "2001:1::1",
        "2001:1::2",
        "2001:1::3",
        "2001:3::",
        "2001:3:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:4:112::",
        "2001:4:112:ffff::1",
        "2001:20::",
        "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:30::",
        "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff",
    ] {
        assert_eq!(reason(ip), None, "{ip}");
    }
    assert_eq!(reason("192.0.0.8"), Some(Reserved));
    assert_eq!(reason("192.0.0.11"), Some(Reserved));
    assert_eq!(reason("2001:1::"), Some(Reserved));
}

#[test]
fn ipv6_that_embeds_ipv4_is_judged_by_the_ipv4_address() {
    let cases = [
        // ::ffff:0:0/96, IPv4-mapped (RFC 4291 §2.5.5.2): first and last.
        ("::ffff:0.0.0.0", Some(Unspecified)),
        ("::ffff:255.255.255.255", Some(Broadcast)),
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("::ffff:169.254.169.254", Some(LinkLocal)),
        ("::ffff:10.0.0.1", Some(Private)),
        ("::ffff:198.18.0.1", Some(Benchmarking)),
        ("::ffff:8.8.8.8", None),
        // 64:ff9b::/96, NAT64 (RFC 6052): first and last.
        ("64:ff9b::", Some(Unspecified)),
        ("64:ff9b::ffff:ffff", Some(Broadcast)),
        ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
        ("64:ff9b::c000:0201", Some(Documentation)),
        ("64:ff9b::808:808", None),
        // 2002::/16, 6to4 (RFC 3056): the IPv4 address is bits 16..48; first and last.
        ("2002::", Some(Unspecified)),
        ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Broadcast)),
        ("2002:7f00:1::1", Some(Loopback)),
        ("2002:a9fe:a9fe::", Some(LinkLocal)),
        ("2002:c0a8:0101::1", Some(Private)),
        ("2002:808:808::1", None),
        // ::/96, deprecated IPv4-compatible (RFC 4291 §2.5.5.1): refused even when public.
        ("::127.0.0.1", Some(Loopback)),
        ("::10.0.0.1", Some(Private)),
        ("::8.8.8.8", Some(Reserved)),
        ("::0.0.0.2", Some(Unspecified)),
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
        assert_eq!(strict.check_name(name), Some(MetadataName), "{name}");
    }
    assert_eq!(strict.check_name("mcp.example.com"), None);
    let open = AddressPolicy::new(true);
    assert_eq!(open.check_name("metadata.google.internal"), None);
    assert_eq!(open.check_ip("127.0.0.1".parse().unwrap()), None);
    assert_eq!(
        strict.check_ip("127.0.0.1".parse().unwrap()),
        Some(Loopback)
    );
}

#[test]
fn own_addresses_are_refused_even_when_private_destinations_are_allowed() {
    let mut own = OwnAddresses::new();
    own.add_listen("127.0.0.1:8090".parse().unwrap())
        .add_url("https://proxy.example.com");
    let policy = AddressPolicy::new(true).refusing_own(own);
    assert_eq!(policy.check_host("127.0.0.1", 8090), Some(OwnAddress));
    assert_eq!(
        policy.check_host("[::ffff:127.0.0.1]", 8090),
        Some(OwnAddress)
    );
    assert_eq!(
        policy.check_host("Proxy.Example.com", 443),
        Some(OwnAddress)
    );
    // Another port on the same host is somebody else (the demo server, say).
    assert_eq!(policy.check_host("127.0.0.1", 9000), None);
    assert_eq!(policy.check_host("proxy.example.com", 8443), None);
    assert_eq!(
        policy.check_socket("127.0.0.1:8090".parse().unwrap(), None),
        Some(OwnAddress)
    );
    // Without allow_private the private reason still applies elsewhere.
    let strict = AddressPolicy::default().refusing_own(policy.own().clone());
    assert_eq!(strict.check_host("127.0.0.1", 9000), Some(Loopback));
}
