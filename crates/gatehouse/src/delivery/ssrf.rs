//! Which addresses a webhook may be sent to. A webhook URI is chosen by a customer, so without
//! a guard it is a way into the server's own network: loopback, private ranges, link-local
//! (cloud metadata at 169.254.169.254 and fd00:ec2::254), CGNAT, multicast. Those are refused
//! unless the operator allows them (`GATEHOUSE_ALLOW_PRIVATE_TARGETS`, or an allow-list of
//! networks, for development and tests). The check applies to the address actually connected
//! to, so the delivery worker resolves once, checks, and connects to that address.
//!
//! What is refused is data, not code: one table per family of the blocks the IANA
//! Special-Purpose Address Registries mark as not globally reachable (plus multicast, which
//! has a registry of its own), so keeping up with the registries is editing a table. IPv6
//! addresses that carry an IPv4 address for a transition mechanism (NAT64, 6to4, Teredo) are
//! judged by the IPv4 address inside: a translator or relay on the way would deliver to it.
//!
//! Pure: addresses in, verdicts out.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forbidden {
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    SharedAddressSpace,
    Multicast,
    Broadcast,
    /// Reserved by the IETF or for a protocol: `240.0.0.0/4`, the protocol assignments
    /// `192.0.0.0/24` and `2001::/23`, discard and dummy prefixes, SRv6 SIDs, site-local.
    Reserved,
    /// Set aside for examples in documentation (TEST-NET-1 to 3, `2001:db8::/32`, `3fff::/20`).
    Documentation,
    /// Set aside for benchmarking network devices (`198.18.0.0/15`, `2001:2::/48`).
    Benchmarking,
    /// A special-purpose block since retired (6to4 relay anycast, the first ORCHID prefix).
    Deprecated,
    /// The local-use NAT64 prefix `64:ff9b:1::/48`: it leads to a translator of the operator's
    /// own, whatever IPv4 address it carries.
    LocalTranslation,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Unspecified => "an unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private network address",
            Self::LinkLocal => "a link-local address (cloud metadata lives there)",
            Self::SharedAddressSpace => "a carrier-grade NAT address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Reserved => "a reserved address",
            Self::Documentation => "an address reserved for documentation",
            Self::Benchmarking => "an address reserved for benchmarking",
            Self::Deprecated => "an address of a deprecated special-purpose block",
            Self::LocalTranslation => "a local-use NAT64 address, which is not globally reachable",
        })
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), for allow-lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix_length: u8,
}

impl Network {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix_length)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix_length)
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a network such as 10.0.0.0/8"))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IP address"))?;
        let longest = if address.is_ipv4() { 32 } else { 128 };
        let prefix_length: u8 = prefix
            .parse()
            .ok()
            .filter(|length| *length <= longest)
            .ok_or_else(|| format!("/{prefix} is not a prefix length from 0 to {longest}"))?;
        Ok(Self {
            address,
            prefix_length,
        })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.address, self.prefix_length)
    }
}

fn prefix_matches(network: &[u8], address: &[u8], prefix_length: u8) -> bool {
    let whole_bytes = usize::from(prefix_length / 8);
    let remaining_bits = prefix_length % 8;
    if network[..whole_bytes] != address[..whole_bytes] {
        return false;
    }
    if remaining_bits == 0 {
        return true;
    }
    let mask = 0xff_u8 << (8 - remaining_bits);
    network[whole_bytes] & mask == address[whole_bytes] & mask
}

/// An IPv4 network for the tables below.
const fn v4(octets: [u8; 4], prefix_length: u8) -> Network {
    let [a, b, c, d] = octets;
    Network {
        address: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        prefix_length,
    }
}

/// An IPv6 network for the tables below, from its leading segments: `v6(&[0x2001, 0xdb8], 32)`
/// is `2001:db8::/32`.
const fn v6(leading: &[u16], prefix_length: u8) -> Network {
    let mut segments = [0; 8];
    let mut index = 0;
    while index < leading.len() {
        segments[index] = leading[index];
        index += 1;
    }
    let [a, b, c, d, e, f, g, h] = segments;
    Network {
        address: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
        prefix_length,
    }
}

/// The IPv4 blocks refused, and why; the first block holding an address decides. Transcribed
/// from the IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>, RFC 6890 and RFC 8190):
/// every row whose "Globally Reachable" is False, and the deprecated 6to4 relay block. A row
/// inside a listed block is folded into it (named in the comment). Multicast comes from the
/// IPv4 Multicast Address Space Registry instead. The registry's globally reachable rows outside
/// these blocks (AS112 `192.31.196.0/24` and `192.175.48.0/24`, AMT `192.52.193.0/24`) are
/// ordinary public addresses here.
const IPV4_REFUSED: [(Network, Forbidden); 16] = [
    // "This network" (RFC 791), holding "this host on this network" 0.0.0.0/32 (RFC 1122).
    (v4([0, 0, 0, 0], 8), Forbidden::Unspecified),
    (v4([10, 0, 0, 0], 8), Forbidden::Private), // RFC 1918
    (v4([100, 64, 0, 0], 10), Forbidden::SharedAddressSpace), // RFC 6598
    (v4([127, 0, 0, 0], 8), Forbidden::Loopback), // RFC 1122
    (v4([169, 254, 0, 0], 16), Forbidden::LinkLocal), // RFC 3927
    (v4([172, 16, 0, 0], 12), Forbidden::Private), // RFC 1918
    // IETF protocol assignments (RFC 6890), holding the IPv4 service continuity prefix
    // 192.0.0.0/29, the dummy address 192.0.0.8 and NAT64/DNS64 discovery 192.0.0.170 and .171.
    // The registry calls PCP anycast 192.0.0.9 and TURN anycast 192.0.0.10 globally reachable,
    // but they are refused too: an anycast service address is answered by the nearest server
    // (for PCP, the NAT gateway in front of this one), and no webhook receiver lives there.
    (v4([192, 0, 0, 0], 24), Forbidden::Reserved),
    (v4([192, 0, 2, 0], 24), Forbidden::Documentation), // TEST-NET-1, RFC 5737
    // 6to4 relay anycast, deprecated by RFC 7526, holding the 6a44 relay anycast 192.88.99.2.
    (v4([192, 88, 99, 0], 24), Forbidden::Deprecated),
    (v4([192, 168, 0, 0], 16), Forbidden::Private), // RFC 1918
    (v4([198, 18, 0, 0], 15), Forbidden::Benchmarking), // RFC 2544
    (v4([198, 51, 100, 0], 24), Forbidden::Documentation), // TEST-NET-2, RFC 5737
    (v4([203, 0, 113, 0], 24), Forbidden::Documentation), // TEST-NET-3, RFC 5737
    (v4([224, 0, 0, 0], 4), Forbidden::Multicast),  // RFC 5771
    // Limited broadcast (RFC 919), before the reserved block that holds it.
    (v4([255, 255, 255, 255], 32), Forbidden::Broadcast),
    (v4([240, 0, 0, 0], 4), Forbidden::Reserved), // RFC 1112
];

/// The IPv6 blocks refused, and why; the first block holding an address decides, after
/// [`IPV6_REACHABLE_INSIDE_REFUSED`] and the IPv4 address a transition address carries. From
/// the IANA IPv6 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv6-special-registry/>, RFC 6890 and RFC 8190):
/// every row whose "Globally Reachable" is False or that is deprecated, plus three blocks
/// outside it, marked. The IPv4-mapped `::ffff:0:0/96` is not here: it is judged as IPv4.
/// The globally reachable `64:ff9b::/96` and the "N/A" `2002::/16` are judged by the IPv4
/// address they carry; `2620:4f:8000::/48` (AS112) is an ordinary public address.
const IPV6_REFUSED: [(Network, Forbidden); 16] = [
    (v6(&[], 128), Forbidden::Unspecified),
    (v6(&[0, 0, 0, 0, 0, 0, 0, 1], 128), Forbidden::Loopback),
    // Not in the registry: IPv4-compatible addresses (`::a.b.c.d`), deprecated by RFC 4291.
    // Nothing legitimate uses them any more, so they are refused whatever they carry.
    (v6(&[], 96), Forbidden::Reserved),
    // Local-use IPv4/IPv6 translation (RFC 8215): reached here only when the IPv4 address it
    // carries is not refused itself.
    (v6(&[0x64, 0xff9b, 1], 48), Forbidden::LocalTranslation),
    // Discard-only (RFC 6666) and the dummy prefix (RFC 9780).
    (v6(&[0x100], 64), Forbidden::Reserved),
    (v6(&[0x100, 0, 0, 1], 64), Forbidden::Reserved),
    // Benchmarking (RFC 5180), and ORCHID (RFC 4843), deprecated in favour of ORCHIDv2.
    (v6(&[0x2001, 2], 48), Forbidden::Benchmarking),
    (v6(&[0x2001, 0x10], 28), Forbidden::Deprecated),
    // IETF protocol assignments (RFC 2928), after its more specific rows above. Like their
    // IPv4 twins, PCP, TURN and DNS-SD SRP anycast 2001:1::1, ::2 and ::3 stay refused
    // although the registry calls them globally reachable: nearest-server anycast.
    (v6(&[0x2001], 23), Forbidden::Reserved),
    // Documentation (RFC 3849 and RFC 9637).
    (v6(&[0x2001, 0xdb8], 32), Forbidden::Documentation),
    (v6(&[0x3fff], 20), Forbidden::Documentation),
    // Segment Routing (SRv6) SIDs (RFC 9602).
    (v6(&[0x5f00], 16), Forbidden::Reserved),
    // Unique local (RFC 4193) and link-local unicast (RFC 4291).
    (v6(&[0xfc00], 7), Forbidden::Private),
    (v6(&[0xfe80], 10), Forbidden::LinkLocal),
    // Not in the registry: site-local, deprecated by RFC 3879 but still routed by some.
    (v6(&[0xfec0], 10), Forbidden::Reserved),
    // Not in the registry: multicast (RFC 4291).
    (v6(&[0xff00], 8), Forbidden::Multicast),
];

/// Globally reachable blocks inside the refused `2001::/23`, let through before
/// [`IPV6_REFUSED`] is consulted (same registry).
const IPV6_REACHABLE_INSIDE_REFUSED: [Network; 5] = [
    // Teredo (RFC 4380), "N/A" in the registry: judged by the IPv4 addresses it carries.
    v6(&[0x2001], 32),
    v6(&[0x2001, 3], 32),        // AMT, RFC 7450
    v6(&[0x2001, 4, 0x112], 48), // AS112-v6, RFC 7535
    v6(&[0x2001, 0x20], 28),     // ORCHIDv2, RFC 7343
    v6(&[0x2001, 0x30], 28),     // Drone Remote ID DETs, RFC 9374
];

/// An IPv6 prefix that carries an IPv4 address for a transition mechanism. A translator or
/// relay turns a connection to such an address into one to the IPv4 address inside, so these
/// addresses are judged by that IPv4 address: `64:ff9b::7f00:1` is loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The well-known NAT64 prefix `64:ff9b::/96` (RFC 6052): the IPv4 address is the last
    /// 32 bits.
    Nat64,
    /// The local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215), read as RFC 6052 lays out a
    /// /48 prefix: the IPv4 address in bits 48–63 and 72–87, around the reserved octet.
    LocalNat64,
    /// 6to4, `2002::/16` (RFC 3056): the IPv4 address is bits 16–47.
    SixToFour,
    /// Teredo, `2001::/32` (RFC 4380): the server's IPv4 address is bits 32–63, the client's
    /// the last 32 bits inverted. Both are reachable through it, so both are judged.
    Teredo,
}

impl Transition {
    /// The transition mechanism whose prefix holds `address`, if any.
    pub fn of(address: Ipv6Addr) -> Option<Self> {
        match address.segments() {
            [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Self::Nat64),
            [0x64, 0xff9b, 1, ..] => Some(Self::LocalNat64),
            [0x2002, ..] => Some(Self::SixToFour),
            [0x2001, 0, ..] => Some(Self::Teredo),
            _ => None,
        }
    }

    /// The transition mechanism that explains why `address` was refused for `reason`: the one
    /// carrying an IPv4 address refused for it. `None` when the address is no transition
    /// address, or is refused for itself (the local-use NAT64 prefix).
    pub fn behind(address: IpAddr, reason: Forbidden) -> Option<Self> {
        match address {
            IpAddr::V6(v6) if reason != Forbidden::LocalTranslation => Self::of(v6),
            _ => None,
        }
    }

    /// The IPv4 addresses `address`, an address of this mechanism's prefix, carries.
    fn carried(self, address: Ipv6Addr) -> impl Iterator<Item = Ipv4Addr> {
        let octets = address.octets();
        let at = |first: usize| {
            Ipv4Addr::new(
                octets[first],
                octets[first + 1],
                octets[first + 2],
                octets[first + 3],
            )
        };
        let (first, second) = match self {
            Self::Nat64 => (at(12), None),
            Self::LocalNat64 => (
                Ipv4Addr::new(octets[6], octets[7], octets[9], octets[10]),
                None,
            ),
            Self::SixToFour => (at(2), None),
            Self::Teredo => (at(4), Some(!at(12))),
        };
        std::iter::once(first).chain(second)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Nat64 => "a NAT64 address",
            Self::LocalNat64 => "a local-use NAT64 address",
            Self::SixToFour => "a 6to4 address",
            Self::Teredo => "a Teredo address",
        })
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are judged as the IPv4 address they carry,
/// so the mapping is no way around the IPv4 rules.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether a delivery may connect to `address`: `Ok` for public addresses and for any address
/// inside `allowed`; otherwise why not. An IPv6 address carrying a refused IPv4 address is
/// refused for that IPv4 address's reason; one carrying an allowed IPv4 address passes as the
/// IPv4 address would (unless its prefix is refused for itself).
pub fn check_address(address: IpAddr, allowed: &[Network]) -> Result<(), Forbidden> {
    if allowed.iter().any(|network| network.contains(address)) {
        return Ok(());
    }
    match canonical(address) {
        IpAddr::V4(v4) => first_refusal(&IPV4_REFUSED, IpAddr::V4(v4)),
        IpAddr::V6(v6) => check_v6(v6, allowed),
    }
}

fn check_v6(address: Ipv6Addr, allowed: &[Network]) -> Result<(), Forbidden> {
    if let Some(transition) = Transition::of(address) {
        for carried in transition.carried(address) {
            check_address(IpAddr::V4(carried), allowed)?;
        }
    }
    let address = IpAddr::V6(address);
    if IPV6_REACHABLE_INSIDE_REFUSED
        .iter()
        .any(|network| network.contains(address))
    {
        return Ok(());
    }
    first_refusal(&IPV6_REFUSED, address)
}

fn first_refusal(table: &[(Network, Forbidden)], address: IpAddr) -> Result<(), Forbidden> {
    match table.iter().find(|(network, _)| network.contains(address)) {
        Some((_, reason)) => Err(*reason),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn check(text: &str) -> Result<(), Forbidden> {
        check_address(address(text), &[])
    }

    /// Asserts that each address is refused, for its reason.
    fn assert_refused(cases: &[(&str, Forbidden)]) {
        for &(address, reason) in cases {
            assert_eq!(check(address), Err(reason), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "100.128.0.1",
        ] {
            assert_eq!(check(public), Ok(()), "{public}");
        }
    }

    #[test]
    fn internal_addresses_are_refused_with_the_reason() {
        assert_refused(&[
            ("0.0.0.0", Forbidden::Unspecified),
            ("0.1.2.3", Forbidden::Unspecified),
            ("127.0.0.1", Forbidden::Loopback),
            ("127.255.255.254", Forbidden::Loopback),
            ("10.1.2.3", Forbidden::Private),
            ("172.16.0.1", Forbidden::Private),
            ("172.31.255.255", Forbidden::Private),
            ("192.168.1.1", Forbidden::Private),
            ("169.254.169.254", Forbidden::LinkLocal),
            ("100.64.0.1", Forbidden::SharedAddressSpace),
            ("100.127.255.255", Forbidden::SharedAddressSpace),
            ("224.0.0.1", Forbidden::Multicast),
            ("255.255.255.255", Forbidden::Broadcast),
            ("240.0.0.1", Forbidden::Reserved),
            ("192.0.0.170", Forbidden::Reserved),
            ("::", Forbidden::Unspecified),
            ("::1", Forbidden::Loopback),
            ("fd00:ec2::254", Forbidden::Private),
            ("fc12::1", Forbidden::Private),
            ("fe80::1", Forbidden::LinkLocal),
            ("ff02::1", Forbidden::Multicast),
            ("fec0::1", Forbidden::Reserved),
        ]);
    }

    #[test]
    fn special_purpose_blocks_that_are_not_globally_reachable_are_refused() {
        assert_refused(&[
            ("198.18.0.1", Forbidden::Benchmarking),
            ("198.19.255.255", Forbidden::Benchmarking),
            ("192.0.2.1", Forbidden::Documentation),
            ("198.51.100.7", Forbidden::Documentation),
            ("203.0.113.255", Forbidden::Documentation),
            ("192.88.99.1", Forbidden::Deprecated),
            ("192.88.99.2", Forbidden::Deprecated),
            ("192.0.0.8", Forbidden::Reserved),
            ("100::1", Forbidden::Reserved),
            ("100:0:0:1::1", Forbidden::Reserved),
            ("2001:2::1", Forbidden::Benchmarking),
            ("2001:10::1", Forbidden::Deprecated),
            ("2001:100::1", Forbidden::Reserved),
            (
                "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
                Forbidden::Reserved,
            ),
            ("2001:db8::1", Forbidden::Documentation),
            ("3fff::1", Forbidden::Documentation),
            (
                "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
                Forbidden::Documentation,
            ),
            ("5f00::1", Forbidden::Reserved),
            ("::ffff:198.18.0.1", Forbidden::Benchmarking),
        ]);
    }

    #[test]
    fn anycast_service_addresses_stay_refused_although_the_registry_calls_them_reachable() {
        // PCP and TURN anycast (192.0.0.9, .10; 2001:1::1, ::2) and DNS-SD SRP anycast
        // (2001:1::3) are answered by the nearest server: the gateway, not a receiver.
        for anycast in [
            "192.0.0.9",
            "192.0.0.10",
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
        ] {
            assert_eq!(check(anycast), Err(Forbidden::Reserved), "{anycast}");
        }
    }

    #[test]
    fn globally_reachable_special_purpose_blocks_pass() {
        for reachable in [
            "192.31.196.1",     // AS112-v4
            "192.52.193.1",     // AMT
            "192.175.48.1",     // AS112 direct delegation
            "2001:3::1",        // AMT
            "2001:4:112::1",    // AS112-v6
            "2001:20::1",       // ORCHIDv2
            "2001:2f:ffff::1",  // ORCHIDv2, its end
            "2001:30::1",       // DETs
            "2620:4f:8000::1",  // AS112 direct delegation
            "64:ff9b::808:808", // NAT64 of 8.8.8.8
        ] {
            assert_eq!(check(reachable), Ok(()), "{reachable}");
        }
    }

    #[test]
    fn nat64_addresses_are_judged_by_the_ipv4_address_inside() {
        assert_eq!(check("64:ff9b::7f00:1"), Err(Forbidden::Loopback));
        assert_eq!(check("64:ff9b::10.1.2.3"), Err(Forbidden::Private));
        assert_eq!(check("64:ff9b::169.254.169.254"), Err(Forbidden::LinkLocal));
        assert_eq!(check("64:ff9b::198.18.0.1"), Err(Forbidden::Benchmarking));
        assert_eq!(check("64:ff9b::93.184.215.14"), Ok(()));
        // Outside the /96, the IPv4 rules do not apply (and the address is public).
        assert_eq!(check("64:ff9b:0:1::7f00:1"), Ok(()));
    }

    #[test]
    fn local_use_nat64_addresses_are_refused_naming_a_refused_ipv4_address_inside() {
        // RFC 6052's /48 layout: 127.0.0.1 as 7f00 | u octet 00 | 00 01.
        assert_eq!(check("64:ff9b:1:7f00:0:100::"), Err(Forbidden::Loopback));
        assert_eq!(check("64:ff9b:1:a00:0:100::"), Err(Forbidden::Private));
        assert_eq!(check("64:ff9b:1:a9fe:a9:fe00::"), Err(Forbidden::LinkLocal));
        // 8.8.8.8 inside: public, but the prefix is not globally reachable.
        assert_eq!(
            check("64:ff9b:1:808:8:800::"),
            Err(Forbidden::LocalTranslation)
        );
        assert_eq!(
            check("64:ff9b:1:ffff:ffff:ffff:ffff:ffff"),
            Err(Forbidden::Broadcast)
        );
    }

    #[test]
    fn six_to_four_addresses_are_judged_by_the_ipv4_address_inside() {
        assert_eq!(check("2002:7f00:1::"), Err(Forbidden::Loopback));
        assert_eq!(check("2002:a00:1:1::1"), Err(Forbidden::Private));
        assert_eq!(check("2002:c0a8:101::1"), Err(Forbidden::Private));
        assert_eq!(check("2002:a9fe:a9fe::"), Err(Forbidden::LinkLocal));
        assert_eq!(check("2002:c000:204::1"), Err(Forbidden::Documentation));
        assert_eq!(check("2002:808:808::1"), Ok(()));
    }

    #[test]
    fn teredo_addresses_are_judged_by_both_ipv4_addresses_inside() {
        // Server 65.54.227.120 (public); the client is the last 32 bits inverted.
        let public_server = "2001:0:4136:e378:8000:63bf";
        assert_eq!(
            check(&format!("{public_server}:f5ff:fffe")),
            Err(Forbidden::Private),
            "client 10.0.0.1"
        );
        assert_eq!(
            check(&format!("{public_server}:80ff:fffe")),
            Err(Forbidden::Loopback),
            "client 127.0.0.1"
        );
        // RFC 4380's own example: its client is 192.0.2.45, from TEST-NET-1.
        assert_eq!(
            check(&format!("{public_server}:3fff:fdd2")),
            Err(Forbidden::Documentation)
        );
        assert_eq!(
            check("2001:0:a00:1::f7f7:f7f7"),
            Err(Forbidden::Private),
            "server 10.0.0.1, client 8.8.8.8"
        );
        assert_eq!(
            check("2001:0:7f00:1::f7f7:f7f7"),
            Err(Forbidden::Loopback),
            "server 127.0.0.1"
        );
        assert_eq!(
            check(&format!("{public_server}:f7f7:f7f7")),
            Ok(()),
            "server 65.54.227.120, client 8.8.8.8"
        );
    }

    #[test]
    fn transition_addresses_name_their_mechanism() {
        let transition = |text: &str| match address(text) {
            IpAddr::V6(v6) => Transition::of(v6),
            IpAddr::V4(_) => None,
        };
        assert_eq!(transition("64:ff9b::7f00:1"), Some(Transition::Nat64));
        assert_eq!(
            transition("64:ff9b:1:7f00:0:100::"),
            Some(Transition::LocalNat64)
        );
        assert_eq!(transition("2002:7f00:1::"), Some(Transition::SixToFour));
        assert_eq!(transition("2001:0:a00:1::"), Some(Transition::Teredo));
        assert_eq!(transition("2001:1::1"), None);
        assert_eq!(transition("::ffff:127.0.0.1"), None);
        assert_eq!(
            Transition::behind(address("64:ff9b::7f00:1"), Forbidden::Loopback),
            Some(Transition::Nat64)
        );
        assert_eq!(
            Transition::behind(
                address("64:ff9b:1:808:8:800::"),
                Forbidden::LocalTranslation
            ),
            None,
            "refused for itself, not for what it carries"
        );
        assert_eq!(
            Transition::behind(address("127.0.0.1"), Forbidden::Loopback),
            None
        );
    }

    /// The first and last address of `network`, and the addresses just before and after it
    /// (`None` at the ends of the address space).
    fn ends(network: &Network) -> (IpAddr, IpAddr, Option<IpAddr>, Option<IpAddr>) {
        match network.address {
            IpAddr::V4(start) => {
                let host_bits = 32 - u32::from(network.prefix_length);
                let first = u32::from(start);
                let last = first | u32::MAX.checked_shr(32 - host_bits).unwrap_or(0);
                let around = |value: Option<u32>| value.map(|value| IpAddr::V4(value.into()));
                (
                    IpAddr::V4(first.into()),
                    IpAddr::V4(last.into()),
                    around(first.checked_sub(1)),
                    around(last.checked_add(1)),
                )
            }
            IpAddr::V6(start) => {
                let host_bits = 128 - u32::from(network.prefix_length);
                let first = u128::from(start);
                let last = first | u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
                let around = |value: Option<u128>| value.map(|value| IpAddr::V6(value.into()));
                (
                    IpAddr::V6(first.into()),
                    IpAddr::V6(last.into()),
                    around(first.checked_sub(1)),
                    around(last.checked_add(1)),
                )
            }
        }
    }

    #[test]
    fn every_registry_row_is_refused_from_its_first_to_its_last_address() {
        let tables: [&[(Network, Forbidden)]; 2] = [&IPV4_REFUSED, &IPV6_REFUSED];
        for table in tables {
            for (index, (network, reason)) in table.iter().enumerate() {
                let (first, last, before, after) = ends(network);
                for inside in [first, last] {
                    let verdict = check_address(inside, &[]);
                    assert!(verdict.is_err(), "{inside} in {network}");
                    // The row decides unless an earlier row, a reachable block or the IPv4
                    // address the address carries does.
                    let decided_elsewhere = table[..index]
                        .iter()
                        .any(|(earlier, _)| earlier.contains(inside))
                        || IPV6_REACHABLE_INSIDE_REFUSED
                            .iter()
                            .any(|reachable| reachable.contains(inside))
                        || matches!(inside, IpAddr::V6(v6) if Transition::of(v6).is_some());
                    if !decided_elsewhere {
                        assert_eq!(verdict, Err(*reason), "{inside} in {network}");
                    }
                }
                // Just outside the row, an address no other row holds is public.
                for outside in [before, after].into_iter().flatten() {
                    let held_elsewhere = table.iter().any(|(other, _)| other.contains(outside))
                        || matches!(outside, IpAddr::V6(v6) if Transition::of(v6).is_some());
                    if !held_elsewhere {
                        assert_eq!(
                            check_address(outside, &[]),
                            Ok(()),
                            "{outside}, next to {network}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ipv4_mapped_addresses_are_judged_as_ipv4() {
        assert_eq!(check("::ffff:127.0.0.1"), Err(Forbidden::Loopback));
        assert_eq!(check("::ffff:169.254.169.254"), Err(Forbidden::LinkLocal));
        assert_eq!(check("::ffff:10.0.0.1"), Err(Forbidden::Private));
        assert_eq!(check("::ffff:8.8.8.8"), Ok(()));
        assert_eq!(
            check("::127.0.0.1"),
            Err(Forbidden::Reserved),
            "IPv4-compatible"
        );
    }

    #[test]
    fn an_allow_list_lets_chosen_networks_through() {
        let allowed: Vec<Network> = ["127.0.0.0/8", "fd12:3456::/32", "10.20.30.40/32"]
            .iter()
            .map(|text| text.parse().expect("network"))
            .collect();
        let check = |text: &str| check_address(address(text), &allowed);
        assert_eq!(check("127.0.0.1"), Ok(()));
        assert_eq!(
            check("::ffff:127.0.0.1"),
            Ok(()),
            "mapped form of an allowed address"
        );
        assert_eq!(check("fd12:3456:1::1"), Ok(()));
        assert_eq!(check("10.20.30.40"), Ok(()));
        assert_eq!(check("10.20.30.41"), Err(Forbidden::Private));
        assert_eq!(check("fd12:3457::1"), Err(Forbidden::Private));
        let everything: Network = "0.0.0.0/0".parse().expect("network");
        assert!(everything.contains(address("192.168.0.1")));
        assert!(!everything.contains(address("::1")));
        let odd: Network = "172.16.0.0/12".parse().expect("network");
        assert!(odd.contains(address("172.31.1.1")));
        assert!(!odd.contains(address("172.32.0.1")));
    }

    #[test]
    fn an_allowed_ipv4_network_also_allows_its_nat64_and_6to4_spellings() {
        let allowed: Vec<Network> = vec!["10.0.0.0/8".parse().expect("network")];
        let check = |text: &str| check_address(address(text), &allowed);
        assert_eq!(check("64:ff9b::a00:1"), Ok(()));
        assert_eq!(check("2002:a00:1::"), Ok(()));
        assert_eq!(check("2002:7f00:1::"), Err(Forbidden::Loopback));
        // The local-use prefix is refused for itself, whatever it carries.
        assert_eq!(
            check("64:ff9b:1:a00:0:100::"),
            Err(Forbidden::LocalTranslation)
        );
    }

    #[test]
    fn malformed_networks_are_refused_with_a_reason() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "fd00::/129",
            "nonsense/8",
            "10.0.0.0/x",
        ] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        assert_eq!(
            Forbidden::LinkLocal.to_string(),
            "a link-local address (cloud metadata lives there)"
        );
        assert_eq!(
            "198.18.0.0/15"
                .parse::<Network>()
                .expect("network")
                .to_string(),
            "198.18.0.0/15"
        );
    }
}
