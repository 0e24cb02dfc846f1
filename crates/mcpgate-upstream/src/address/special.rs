//! The IANA special-purpose address registries
//! (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>), with multicast and the
//! reserved blocks added: every range that is not globally reachable, with its RFC.
//!
//! The first matching row decides, so the globally reachable exceptions inside a refused
//! block (anycast service addresses, AMT, AS112, ORCHIDv2, ...) come before the block.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::BlockReason::{
    self, Benchmarking, Broadcast, Documentation, LinkLocal, Loopback, Multicast, Private,
    Reserved, SharedAddressSpace, UniqueLocal, Unspecified,
};

/// What a range means for a destination inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Refused(BlockReason),
    /// A globally reachable exception inside a refused block.
    Reachable,
    /// The destination is the IPv4 address in the last 32 bits; `otherwise` if that one is
    /// public.
    EmbedsLast32 {
        otherwise: Option<BlockReason>,
    },
    /// 6to4: the destination is the IPv4 address in bits 16..48.
    Embeds6to4,
}

use Verdict::{Embeds6to4, EmbedsLast32, Reachable, Refused};

struct Row<A> {
    network: A,
    prefix: u8,
    verdict: Verdict,
    #[allow(dead_code)] // documentation, read by people and by the tests' failure messages
    rfc: &'static str,
}

const fn v4_row(network: [u8; 4], prefix: u8, verdict: Verdict, rfc: &'static str) -> Row<u32> {
    Row {
        network: u32::from_be_bytes(network),
        prefix,
        verdict,
        rfc,
    }
}

const fn v6_row(network: [u16; 8], prefix: u8, verdict: Verdict, rfc: &'static str) -> Row<u128> {
    let s = network;
    let ip = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Row {
        network: ip.to_bits(),
        prefix,
        verdict,
        rfc,
    }
}

#[rustfmt::skip]
const IPV4: &[Row<u32>] = &[
    v4_row([0, 0, 0, 0], 8, Refused(Unspecified), "RFC 791 §3.2 (\"this network\"), RFC 1122 §3.2.1.3"),
    v4_row([10, 0, 0, 0], 8, Refused(Private), "RFC 1918"),
    v4_row([100, 64, 0, 0], 10, Refused(SharedAddressSpace), "RFC 6598"),
    v4_row([127, 0, 0, 0], 8, Refused(Loopback), "RFC 1122 §3.2.1.3"),
    v4_row([169, 254, 0, 0], 16, Refused(LinkLocal), "RFC 3927"),
    v4_row([172, 16, 0, 0], 12, Refused(Private), "RFC 1918"),
    v4_row([192, 0, 0, 9], 32, Reachable, "RFC 7723 (PCP anycast)"),
    v4_row([192, 0, 0, 10], 32, Reachable, "RFC 8155 (TURN anycast)"),
    v4_row([192, 0, 0, 0], 24, Refused(Reserved), "RFC 6890 §2.2.2 (IETF protocol assignments; DS-Lite RFC 7335, NAT64 discovery RFC 8880)"),
    v4_row([192, 0, 2, 0], 24, Refused(Documentation), "RFC 5737 (TEST-NET-1)"),
    v4_row([192, 88, 99, 0], 24, Refused(Reserved), "RFC 7526 (deprecated 6to4 relay anycast)"),
    v4_row([192, 168, 0, 0], 16, Refused(Private), "RFC 1918"),
    v4_row([198, 18, 0, 0], 15, Refused(Benchmarking), "RFC 2544"),
    v4_row([198, 51, 100, 0], 24, Refused(Documentation), "RFC 5737 (TEST-NET-2)"),
    v4_row([203, 0, 113, 0], 24, Refused(Documentation), "RFC 5737 (TEST-NET-3)"),
    v4_row([224, 0, 0, 0], 4, Refused(Multicast), "RFC 5771"),
    v4_row([255, 255, 255, 255], 32, Refused(Broadcast), "RFC 919, RFC 8190 (limited broadcast)"),
    v4_row([240, 0, 0, 0], 4, Refused(Reserved), "RFC 1112 §4 (reserved for future use)"),
];

#[rustfmt::skip]
const IPV6: &[Row<u128>] = &[
    v6_row([0, 0, 0, 0, 0, 0, 0, 0], 128, Refused(Unspecified), "RFC 4291 §2.5.2"),
    v6_row([0, 0, 0, 0, 0, 0, 0, 1], 128, Refused(Loopback), "RFC 4291 §2.5.3"),
    v6_row([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, EmbedsLast32 { otherwise: None }, "RFC 4291 §2.5.5.2 (IPv4-mapped)"),
    v6_row([0, 0, 0, 0, 0, 0, 0, 0], 96, EmbedsLast32 { otherwise: Some(Reserved) }, "RFC 4291 §2.5.5.1 (deprecated IPv4-compatible)"),
    v6_row([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, EmbedsLast32 { otherwise: None }, "RFC 6052 (NAT64 well-known prefix)"),
    v6_row([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Refused(Reserved), "RFC 8215 (local-use IPv4/IPv6 translation)"),
    v6_row([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Refused(Reserved), "RFC 6666 (discard-only)"),
    v6_row([0x100, 0, 0, 1, 0, 0, 0, 0], 64, Refused(Reserved), "RFC 9780 (dummy IPv6 prefix)"),
    v6_row([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, Reachable, "RFC 7723 (PCP anycast)"),
    v6_row([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, Reachable, "RFC 8155 (TURN anycast)"),
    v6_row([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, Reachable, "RFC 9665 (DNS-SD SRP anycast)"),
    v6_row([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, Reachable, "RFC 7450 (AMT)"),
    v6_row([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, Reachable, "RFC 7535 (AS112-v6)"),
    v6_row([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, Reachable, "RFC 7343 (ORCHIDv2)"),
    v6_row([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, Reachable, "RFC 9374 (drone remote ID)"),
    v6_row([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Refused(Reserved), "RFC 4380 (Teredo: an obfuscated IPv4 address, refused rather than decoded)"),
    v6_row([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, Refused(Benchmarking), "RFC 5180"),
    v6_row([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, Refused(Reserved), "RFC 4843 (deprecated ORCHID)"),
    v6_row([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Refused(Reserved), "RFC 2928 (IETF protocol assignments)"),
    v6_row([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Refused(Documentation), "RFC 3849"),
    v6_row([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, Embeds6to4, "RFC 3056 (6to4)"),
    v6_row([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Refused(Documentation), "RFC 9637"),
    v6_row([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Refused(Reserved), "RFC 9602 (SRv6 SIDs)"),
    v6_row([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Refused(UniqueLocal), "RFC 4193"),
    v6_row([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Refused(LinkLocal), "RFC 4291 §2.5.6"),
    v6_row([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Refused(Reserved), "RFC 3879 (deprecated site-local)"),
    v6_row([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Refused(Multicast), "RFC 4291 §2.7"),
    // Only 2000::/3 is allocated for global unicast; the rest of the space is reserved.
    v6_row([0, 0, 0, 0, 0, 0, 0, 0], 3, Refused(Reserved), "RFC 4291 §2.4 (IANA IPv6 address space)"),
    v6_row([0x4000, 0, 0, 0, 0, 0, 0, 0], 2, Refused(Reserved), "RFC 4291 §2.4 (IANA IPv6 address space)"),
    v6_row([0x8000, 0, 0, 0, 0, 0, 0, 0], 1, Refused(Reserved), "RFC 4291 §2.4 (IANA IPv6 address space)"),
];

/// The first special range `ip` is in, if any.
pub(super) fn v4(ip: Ipv4Addr) -> Option<Verdict> {
    let bits = ip.to_bits();
    IPV4.iter()
        .find(|row| {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(row.prefix))
                .unwrap_or(0);
            bits & mask == row.network & mask
        })
        .map(|row| row.verdict)
}

/// The first special range `ip` is in, if any.
pub(super) fn v6(ip: Ipv6Addr) -> Option<Verdict> {
    let bits = ip.to_bits();
    IPV6.iter()
        .find(|row| {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(row.prefix))
                .unwrap_or(0);
            bits & mask == row.network & mask
        })
        .map(|row| row.verdict)
}
