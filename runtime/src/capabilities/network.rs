//! Network grants: `host`, `host:port`, IP, `IP:port` or CIDR entries,
//! shared by the sockets and HTTP capabilities.
//!
//! Host names are resolved once, by Corral, when it starts; the addresses
//! they resolved to are the grant. A guest's name lookup is answered from
//! them (no query leaves the host on a guest's behalf, so nothing leaks in
//! one and the host's own resolver configuration never answers), a socket
//! may connect only to a granted address, and an HTTP request to a granted
//! name is connected to one of its addresses by Corral itself: a name that
//! resolves elsewhere later (DNS rebinding) reaches nothing new. A name
//! that does not resolve at start gives nothing until corral restarts.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Mutex, OnceLock};

use super::Section;

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
                let text = match (addr, *prefix == full_prefix(*addr)) {
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
        if !is_host_name(name) || port == Some(0) {
            return Err(bad());
        }
        Ok(NetRule::Host {
            name: name.to_ascii_lowercase(),
            port,
        })
    }
}

fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn port_matches(port: Option<u16>, actual: u16) -> bool {
    port.is_none_or(|p| p == actual)
}

fn full_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let ip = ip.to_canonical();
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

/// A granted host name and the addresses it resolved to at start.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pin {
    name: String,
    port: Option<u16>,
    addrs: Vec<IpAddr>,
}

/// The validated network grant of one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetGrant {
    rules: Vec<NetRule>,
    pins: Vec<Pin>,
}

/// How a name may be written in a lookup or a URL: lower-case, without a
/// trailing dot.
fn canonical_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl NetGrant {
    /// Parses the `network.allow` entries (`key` names the list in errors).
    /// Names are not resolved here: see [`NetGrant::resolve`].
    pub fn parse(entries: &[String], key: &str) -> Result<NetGrant, String> {
        let rules = entries
            .iter()
            .map(|e| NetRule::parse(e).map_err(|m| format!("{key}: {m}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NetGrant {
            rules,
            pins: Vec::new(),
        })
    }

    /// Resolves the granted names now, with `lookup`; a name that does not
    /// resolve is reported through `warn` and gives nothing.
    pub fn resolve(
        &self,
        lookup: impl Fn(&str) -> std::io::Result<Vec<IpAddr>>,
        warn: impl Fn(&str, &std::io::Error),
    ) -> NetGrant {
        let mut pins = Vec::new();
        for rule in &self.rules {
            if let NetRule::Host { name, port } = rule {
                let addrs = match lookup(name) {
                    Ok(addrs) => addrs.into_iter().map(|a| a.to_canonical()).collect(),
                    Err(e) => {
                        warn(name, &e);
                        Vec::new()
                    }
                };
                pins.push(Pin {
                    name: name.clone(),
                    port: *port,
                    addrs,
                });
            }
        }
        NetGrant {
            rules: self.rules.clone(),
            pins,
        }
    }

    /// The system resolver, as [`NetGrant::resolve`] takes it.
    pub fn system_lookup(name: &str) -> std::io::Result<Vec<IpAddr>> {
        (name, 0)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip()).collect())
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The granted entries.
    pub fn rules(&self) -> &[NetRule] {
        &self.rules
    }

    /// Whether a socket may connect or send to `addr`.
    pub fn allows_addr(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        let by_rule = self.rules.iter().any(|rule| match rule {
            NetRule::Net {
                addr: net,
                prefix,
                port,
            } => in_network(ip, *net, *prefix) && port_matches(*port, addr.port()),
            NetRule::Host { .. } => false,
        });
        by_rule
            || self
                .pins
                .iter()
                .any(|pin| port_matches(pin.port, addr.port()) && pin.addrs.contains(&ip))
    }

    /// The answer to a guest's lookup of `name`: an IP literal is itself;
    /// a granted name gets the addresses it resolved to at start. `None`
    /// when the name is not granted.
    pub fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Some(vec![ip]);
        }
        let name = canonical_name(name);
        let mut addrs: Vec<IpAddr> = Vec::new();
        let mut granted = false;
        for pin in self.pins.iter().filter(|p| p.name == name) {
            granted = true;
            for addr in &pin.addrs {
                if !addrs.contains(addr) {
                    addrs.push(*addr);
                }
            }
        }
        granted.then_some(addrs)
    }

    /// Where an HTTP request to `host` (a name or an IP literal) on `port`
    /// may connect: the addresses to try, or `None` when it is not granted.
    pub fn http_targets(&self, host: &str, port: u16) -> Option<Vec<SocketAddr>> {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            return self.allows_addr(addr).then(|| vec![addr]);
        }
        let name = canonical_name(host);
        let mut targets = Vec::new();
        let mut granted = false;
        for pin in &self.pins {
            if pin.name == name && port_matches(pin.port, port) {
                granted = true;
                targets.extend(pin.addrs.iter().map(|ip| SocketAddr::new(*ip, port)));
            }
        }
        granted.then_some(targets)
    }

    /// One line per entry, for the audit's `grants` list.
    pub fn describe(&self) -> Vec<String> {
        self.rules.iter().map(ToString::to_string).collect()
    }
}

/// Addresses of the names resolved so far, shared by every grant: a name
/// is resolved once per process, so sockets and HTTP see the same
/// addresses for it.
static RESOLVED: OnceLock<Mutex<HashMap<String, Resolved>>> = OnceLock::new();

/// What resolving one name gave: its addresses, or why it failed.
type Resolved = Result<Vec<IpAddr>, String>;

fn resolve_once(name: &str) -> std::io::Result<Vec<IpAddr>> {
    let cache = RESOLVED.get_or_init(Mutex::default);
    let cached = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned();
    let result = match cached {
        Some(result) => result,
        None => {
            let result = NetGrant::system_lookup(name).map_err(|e| e.to_string());
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_owned(), result.clone());
            result
        }
    };
    result.map_err(std::io::Error::other)
}

/// Resolves a grant's names at start, once per process, warning about a
/// name that does not resolve.
pub(crate) fn resolve_at_start(grant: &NetGrant, section: &Section<'_>) -> NetGrant {
    let key = section.key("network.allow");
    grant.resolve(resolve_once, |name, e| {
        tracing::warn!(
            "{key}: {name} does not resolve now ({e}); it is unreachable until corral restarts"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(entries: &[&str]) -> NetGrant {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        NetGrant::parse(&entries, "components.x.network.allow")
            .unwrap()
            .resolve(
                |name| match name {
                    "api.example.com" => Ok(vec!["93.184.216.34".parse().unwrap()]),
                    "localhost" => Ok(vec!["127.0.0.1".parse().unwrap()]),
                    _ => Err(std::io::Error::other("no such name")),
                },
                |_, _| {},
            )
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
    fn names_are_pinned_to_their_start_addresses() {
        let g = grant(&["api.example.com:443", "127.0.0.1:8080", "gone.example"]);
        let pinned = "93.184.216.34:443".parse().unwrap();
        assert_eq!(g.http_targets("API.example.com.", 443), Some(vec![pinned]));
        assert_eq!(g.http_targets("api.example.com", 80), None);
        assert_eq!(g.http_targets("evil.example.com", 443), None);
        assert!(g.http_targets("127.0.0.1", 8080).is_some());
        assert_eq!(g.http_targets("127.0.0.1", 8081), None);
        assert!(g.allows_addr(pinned));
        assert_eq!(g.lookup("gone.example"), Some(vec![]));
        assert_eq!(g.lookup("evil.example.com"), None);
        assert_eq!(g.lookup("10.9.8.7").map(|a| a.len()), Some(1));
    }
}
