//! Which addresses a webhook may be sent to. A webhook URI is chosen by a customer, so without
//! a guard it is a way into the server's own network: loopback, private ranges, link-local
//! (cloud metadata at 169.254.169.254 and fd00:ec2::254), CGNAT, multicast. Those are refused
//! unless the operator allows them (`GATEHOUSE_ALLOW_PRIVATE_TARGETS`, or an allow-list of
//! networks, for development and tests). The check applies to the address actually connected
//! to, so the delivery worker resolves once, checks, and connects to that address.
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
    Reserved,
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

/// IPv4-mapped and IPv4-compatible IPv6 addresses (`::ffff:127.0.0.1`) are judged as the IPv4
/// address they carry, so the mapping is no way around the IPv4 rules.
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
/// inside `allowed`; otherwise why not.
pub fn check_address(address: IpAddr, allowed: &[Network]) -> Result<(), Forbidden> {
    if allowed.iter().any(|network| network.contains(address)) {
        return Ok(());
    }
    match canonical(address) {
        IpAddr::V4(v4) => check_v4(v4),
        IpAddr::V6(v6) => check_v6(v6),
    }
}

fn check_v4(address: Ipv4Addr) -> Result<(), Forbidden> {
    let [first, second, ..] = address.octets();
    if address.is_unspecified() || first == 0 {
        Err(Forbidden::Unspecified)
    } else if address.is_loopback() {
        Err(Forbidden::Loopback)
    } else if address.is_private() {
        Err(Forbidden::Private)
    } else if address.is_link_local() {
        Err(Forbidden::LinkLocal)
    } else if first == 100 && (64..=127).contains(&second) {
        Err(Forbidden::SharedAddressSpace)
    } else if address.is_multicast() {
        Err(Forbidden::Multicast)
    } else if address.is_broadcast() {
        Err(Forbidden::Broadcast)
    } else if first >= 240 || (first == 192 && second == 0 && address.octets()[2] == 0) {
        // 240.0.0.0/4 (reserved) and 192.0.0.0/24 (IETF protocol assignments).
        Err(Forbidden::Reserved)
    } else {
        Ok(())
    }
}

fn check_v6(address: Ipv6Addr) -> Result<(), Forbidden> {
    let first_segment = address.segments()[0];
    if address.is_unspecified() {
        Err(Forbidden::Unspecified)
    } else if address.is_loopback() {
        Err(Forbidden::Loopback)
    } else if first_segment & 0xfe00 == 0xfc00 {
        // fc00::/7, unique local addresses (fd00:ec2::254 is AWS's metadata service).
        Err(Forbidden::Private)
    } else if first_segment & 0xffc0 == 0xfe80 {
        Err(Forbidden::LinkLocal)
    } else if address.is_multicast() {
        Err(Forbidden::Multicast)
    } else if first_segment & 0xffc0 == 0xfec0 || address.to_ipv4().is_some() {
        // fec0::/10 (deprecated site-local) and IPv4-compatible ::a.b.c.d.
        Err(Forbidden::Reserved)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), Forbidden> {
        check_address(text.parse().expect("address"), &[])
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
        let cases = [
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
        ];
        for (address, reason) in cases {
            assert_eq!(check(address), Err(reason), "{address}");
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
        let check = |text: &str| check_address(text.parse().expect("address"), &allowed);
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
        assert!(everything.contains("192.168.0.1".parse().expect("address")));
        assert!(!everything.contains("::1".parse().expect("address")));
        let odd: Network = "172.16.0.0/12".parse().expect("network");
        assert!(odd.contains("172.31.1.1".parse().expect("address")));
        assert!(!odd.contains("172.32.0.1".parse().expect("address")));
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
    }
}
