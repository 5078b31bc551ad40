//! Network grants: `host`, `host:port`, IP, `IP:port` or CIDR entries.
//!
//! One grant is enforced twice, identically: by the `wasi:sockets` address
//! check (TCP connect, UDP send) and by the `wasi:http` outgoing-request
//! hook. Host names are resolved once at start; a socket may connect only to
//! a granted address or to an address a granted host resolved to. Name
//! lookup is allowed only when some host name is granted.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// One `network.allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRule {
    /// A host name, any port or one port.
    Host {
        /// Lower-case host name.
        name: String,
        /// The one port allowed, or every port.
        port: Option<u16>,
    },
    /// An address or network, any port or one port.
    Net {
        /// The network address.
        addr: IpAddr,
        /// Prefix length (32 or 128 for a single address).
        prefix: u8,
        /// The one port allowed, or every port.
        port: Option<u16>,
    },
}

impl fmt::Display for NetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (target, port) = match self {
            NetRule::Host { name, port } => (name.clone(), port),
            NetRule::Net { addr, prefix, port } => {
                let full = if addr.is_ipv4() { 32 } else { 128 };
                let text = match (addr, *prefix == full) {
                    (_, false) => format!("{addr}/{prefix}"),
                    (IpAddr::V6(_), true) if port.is_some() => format!("[{addr}]"),
                    (_, true) => addr.to_string(),
                };
                (text, port)
            }
        };
        match port {
            Some(p) => write!(f, "{target}:{p}"),
            None => write!(f, "{target} (any port)"),
        }
    }
}

impl NetRule {
    /// Parses one entry; the error says what forms are accepted.
    pub fn parse(entry: &str) -> Result<NetRule, String> {
        let bad = || {
            format!(
                "{entry:?} is not a network grant; write a host (\"api.example.com\"), host:port \
                 (\"api.example.com:443\"), an IP (\"127.0.0.1\", \"::1\"), IP:port \
                 (\"127.0.0.1:8080\", \"[::1]:8080\") or a CIDR (\"10.0.0.0/8\")"
            )
        };
        let entry = entry.trim();
        if let Ok(addr) = entry.parse::<SocketAddr>() {
            return Ok(NetRule::Net {
                addr: addr.ip(),
                prefix: full_prefix(addr.ip()),
                port: Some(addr.port()),
            });
        }
        if let Ok(addr) = entry
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(NetRule::Net {
                addr,
                prefix: full_prefix(addr),
                port: None,
            });
        }
        if let Some((net, prefix)) = entry.split_once('/') {
            let addr: IpAddr = net.parse().map_err(|_| bad())?;
            let prefix: u8 = prefix.parse().map_err(|_| bad())?;
            if prefix > full_prefix(addr) {
                return Err(bad());
            }
            return Ok(NetRule::Net {
                addr,
                prefix,
                port: None,
            });
        }
        let (name, port) = match entry.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().map_err(|_| bad())?)),
            None => (entry, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid || port == Some(0) {
            return Err(bad());
        }
        Ok(NetRule::Host {
            name: name.to_ascii_lowercase(),
            port,
        })
    }

    fn port_matches(port: Option<u16>, actual: u16) -> bool {
        port.is_none_or(|p| p == actual)
    }
}

fn full_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let ip = match (ip, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        _ => ip,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The validated network grant of one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetGrant {
    rules: Vec<NetRule>,
    /// Addresses the granted host names resolved to at start, with the
    /// port their rule allows.
    resolved: Vec<(IpAddr, Option<u16>)>,
}

impl NetGrant {
    /// Parses the `network.allow` entries and resolves the host names.
    /// A name that does not resolve stays granted for HTTP (which resolves
    /// at request time) but gives sockets nothing.
    pub fn new(entries: &[String], key: &str) -> Result<NetGrant, String> {
        let rules = entries
            .iter()
            .map(|e| NetRule::parse(e).map_err(|m| format!("{key}.network.allow: {m}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut resolved = Vec::new();
        for rule in &rules {
            if let NetRule::Host { name, port } = rule {
                match (name.as_str(), 0).to_socket_addrs() {
                    Ok(addrs) => resolved.extend(addrs.map(|a| (a.ip(), *port))),
                    Err(e) => {
                        tracing::warn!("{key}.network.allow: {name} does not resolve now ({e})")
                    }
                }
            }
        }
        Ok(NetGrant { rules, resolved })
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The granted entries.
    pub fn rules(&self) -> &[NetRule] {
        &self.rules
    }

    /// Whether some host name is granted (and so name lookup is needed).
    pub fn grants_names(&self) -> bool {
        self.rules.iter().any(|r| matches!(r, NetRule::Host { .. }))
    }

    /// Whether a socket may connect or send to `addr`.
    pub fn allows_addr(&self, addr: SocketAddr) -> bool {
        let by_rule = self.rules.iter().any(|rule| match rule {
            NetRule::Net {
                addr: net,
                prefix,
                port,
            } => in_network(addr.ip(), *net, *prefix) && NetRule::port_matches(*port, addr.port()),
            NetRule::Host { .. } => false,
        });
        by_rule
            || self.resolved.iter().any(|(ip, port)| {
                in_network(addr.ip(), *ip, full_prefix(*ip))
                    && NetRule::port_matches(*port, addr.port())
            })
    }

    /// Whether an HTTP request may go to `host` (a name or an IP literal)
    /// on `port`.
    pub fn allows_http(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.allows_addr(SocketAddr::new(ip, port));
        }
        let host = host.to_ascii_lowercase();
        self.rules.iter().any(|rule| match rule {
            NetRule::Host { name, port: p } => *name == host && NetRule::port_matches(*p, port),
            NetRule::Net { .. } => false,
        })
    }

    /// One line per entry.
    pub fn describe(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| format!("may connect to {r}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(entries: &[&str]) -> NetGrant {
        NetGrant::new(
            &entries.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "components.x",
        )
        .unwrap()
    }

    #[test]
    fn every_entry_form_parses() {
        assert_eq!(
            NetRule::parse("127.0.0.1:8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            NetRule::parse("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8 (any port)"
        );
        assert_eq!(NetRule::parse("[::1]:80").unwrap().to_string(), "[::1]:80");
        assert_eq!(NetRule::parse("::1").unwrap().to_string(), "::1 (any port)");
        assert_eq!(
            NetRule::parse("API.example.com:443").unwrap().to_string(),
            "api.example.com:443"
        );
        for bad in ["", "http://x", "a b", "1.2.3.4/40", "host:99999", "host:0"] {
            assert!(NetRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_match_ports_and_networks() {
        let g = grant(&["127.0.0.1:8080", "10.0.0.0/8"]);
        assert!(g.allows_addr("127.0.0.1:8080".parse().unwrap()));
        assert!(!g.allows_addr("127.0.0.1:9".parse().unwrap()));
        assert!(g.allows_addr("10.1.2.3:22".parse().unwrap()));
        assert!(!g.allows_addr("11.0.0.1:22".parse().unwrap()));
        assert!(g.allows_addr("[::ffff:10.0.0.1]:1".parse().unwrap()));
        assert!(!grant(&[]).allows_addr("127.0.0.1:8080".parse().unwrap()));
    }

    #[test]
    fn http_matches_names_and_ips() {
        let g = grant(&["api.example.com:443", "127.0.0.1:8080"]);
        assert!(g.allows_http("API.example.com", 443));
        assert!(!g.allows_http("api.example.com", 80));
        assert!(!g.allows_http("evil.example.com", 443));
        assert!(g.allows_http("127.0.0.1", 8080));
        assert!(!g.allows_http("127.0.0.1", 8081));
    }

    #[test]
    fn granted_names_resolve_for_sockets() {
        let g = grant(&["localhost:7000"]);
        assert!(g.grants_names());
        assert!(g.allows_addr("127.0.0.1:7000".parse().unwrap()));
        assert!(!g.allows_addr("127.0.0.1:7001".parse().unwrap()));
    }
}
