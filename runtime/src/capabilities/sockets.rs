//! Sockets: TCP connections and UDP datagrams to granted hosts
//! (`network.allow`), through `wasi:sockets`.
//!
//! Every address is checked before it is used: a TCP connect or a UDP send
//! only to a granted address (or one a granted name resolved to when corral
//! started), a bind only to an ephemeral wildcard address, never a listen.
//! Name lookups are answered by Corral from the addresses granted names
//! resolved to at start (see [`super::NetGrant`]): a lookup of any other
//! name is refused and never reaches a resolver. Every socket counts
//! against the call's descriptor budget.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use serde::Deserialize;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress, IpAddressFamily};
use wasmtime_wasi::p2::bindings::sockets::{
    instance_network, network, tcp, tcp_create_socket, udp, udp_create_socket,
};
use wasmtime_wasi::p2::{DynPollable, Network, Pollable, SocketError, TcpSocket, UdpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSockets, WasiSocketsCtxView};

use super::denials::network_denied;
use super::network::NetGrant;
use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};
use crate::budget::DescriptorKind;

const LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.2.12";
const TCP_CREATE: &str = "wasi:sockets/tcp-create-socket@0.2.12";
const UDP_CREATE: &str = "wasi:sockets/udp-create-socket@0.2.12";

/// The sockets capability.
pub struct Sockets;

/// `network = { allow = [...] }` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    #[serde(default)]
    pub(crate) allow: Vec<String>,
}

/// Reads and checks the `network` key (shared with the HTTP capability).
pub(crate) fn parse_network(section: &Section<'_>) -> Result<NetGrant, GrantError> {
    let raw: RawNetwork = section.get("network")?.unwrap_or_default();
    NetGrant::parse(&raw.allow, &section.key("network.allow"))
        .map_err(|message| section.error("network", message))
}

/// The sockets granted to one component.
#[derive(Debug)]
struct SocketsGrant {
    net: Arc<NetGrant>,
}

impl Capability for Sockets {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["network"]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "sockets",
            names: &["wasi:sockets/"],
        }]
    }

    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(SocketsGrant {
            net: Arc::new(parse_network(section)?),
        }))
    }
}

impl Grant for SocketsGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(SocketsGrant {
            net: Arc::new(super::network::resolve_at_start(&self.net, section)),
        }))
    }

    fn granted(&self) -> bool {
        !self.net.is_empty()
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        let sockets = CallState::sockets;
        network::add_to_linker::<CallState, WasiSockets>(linker, &Default::default(), sockets)?;
        instance_network::add_to_linker::<CallState, WasiSockets>(linker, sockets)?;
        tcp::add_to_linker::<CallState, WasiSockets>(linker, sockets)?;
        udp::add_to_linker::<CallState, WasiSockets>(linker, sockets)?;
        linker
            .instance(TCP_CREATE)?
            .func_wrap("create-tcp-socket", create_tcp_socket)?;
        linker
            .instance(UDP_CREATE)?
            .func_wrap_async("create-udp-socket", |store, params| {
                Box::new(create_udp_socket(store, params))
            })?;
        let mut lookup = linker.instance(LOOKUP)?;
        lookup.resource(
            "resolve-address-stream",
            ResourceType::host::<Lookup>(),
            |mut store, rep| {
                store
                    .data_mut()
                    .table
                    .delete(Resource::<Lookup>::new_own(rep))?;
                Ok(())
            },
        )?;
        lookup.func_wrap("resolve-addresses", resolve_addresses)?;
        lookup.func_wrap(
            "[method]resolve-address-stream.resolve-next-address",
            resolve_next_address,
        )?;
        lookup.func_wrap("[method]resolve-address-stream.subscribe", subscribe)?;
        Ok(())
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        let net = self.net.clone();
        let denials = call.denials.clone();
        let component = call.component.clone();
        call.wasi
            .allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(false)
            .socket_addr_check(move |addr: SocketAddr, usage: SocketAddrUse| {
                let allowed = match usage {
                    SocketAddrUse::TcpConnect
                    | SocketAddrUse::UdpSend
                    | SocketAddrUse::UdpReceive => net.allows_addr(addr),
                    // Binding happens implicitly before a connect or a send:
                    // allow only the wildcard address with an ephemeral port.
                    SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                        addr.ip().is_unspecified() && addr.port() == 0
                    }
                    SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
                };
                if !allowed {
                    denials.deny(match usage {
                        SocketAddrUse::TcpBind
                        | SocketAddrUse::UdpBind
                        | SocketAddrUse::TcpListen
                        | SocketAddrUse::TcpAccept => format!(
                            "binding a socket to {addr} denied: component {component:?} may only \
                             make outgoing connections (listening is never granted)"
                        ),
                        _ => network_denied(&component, &addr.to_string()),
                    });
                }
                Box::pin(std::future::ready(allowed))
            });
        call.net = Some(self.net.clone());
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, key: &str) -> AuditPart {
        let imported = imports.has("sockets");
        let entries = self.net.describe();
        let mut part = AuditPart {
            view: vec![(
                "network",
                serde_json::Value::Array(
                    entries
                        .iter()
                        .map(|e| serde_json::Value::String(e.clone()))
                        .collect(),
                ),
            )],
            grants: entries.iter().map(|e| format!("network  {e}")).collect(),
            ..AuditPart::default()
        };
        if imported {
            if entries.is_empty() {
                part.reach.push(
                    "imports wasi:sockets but has no network grant: every connection is refused"
                        .into(),
                );
            } else {
                part.reach.extend(
                    entries
                        .iter()
                        .map(|r| format!("may connect to {r} (sockets)")),
                );
            }
        }
        // An unused network grant is reported once, by the HTTP capability.
        let _ = key;
        part
    }

    fn effects(&self) -> Effects {
        Effects {
            writes: false,
            open_world: !self.net.is_empty(),
        }
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl CallState {
    fn sockets(&mut self) -> WasiSocketsCtxView<'_> {
        WasiSocketsCtxView {
            ctx: self.wasi.sockets(),
            table: &mut self.table,
        }
    }
}

/// A socket error as the guest sees it, or a trap.
fn guest_error<T>(result: Result<T, SocketError>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => error.downcast().map(Err),
    }
}

/// `create-tcp-socket`, within the descriptor budget.
fn create_tcp_socket(
    mut store: StoreContextMut<'_, CallState>,
    (family,): (IpAddressFamily,),
) -> wasmtime::Result<(Result<Resource<TcpSocket>, ErrorCode>,)> {
    let state = store.data_mut();
    state.descriptors.admit(&state.table)?;
    let created = guest_error(tcp_create_socket::Host::create_tcp_socket(
        &mut state.sockets(),
        family,
    ))?;
    if let Ok(socket) = &created {
        state.descriptors.record(socket.rep(), DescriptorKind::Tcp);
    }
    Ok((created,))
}

/// `create-udp-socket`, within the descriptor budget.
async fn create_udp_socket(
    mut store: StoreContextMut<'_, CallState>,
    (family,): (IpAddressFamily,),
) -> wasmtime::Result<(Result<Resource<UdpSocket>, ErrorCode>,)> {
    let state = store.data_mut();
    state.descriptors.admit(&state.table)?;
    let created = guest_error(
        udp_create_socket::Host::create_udp_socket(&mut state.sockets(), family).await,
    )?;
    if let Ok(socket) = &created {
        state.descriptors.record(socket.rep(), DescriptorKind::Udp);
    }
    Ok((created,))
}

/// The answer to one lookup, read one address at a time.
struct Lookup {
    addrs: std::vec::IntoIter<IpAddr>,
}

#[wasmtime_wasi::async_trait]
impl Pollable for Lookup {
    async fn ready(&mut self) {}
}

/// `resolve-addresses`: answered from the granted names, never from a
/// resolver.
fn resolve_addresses(
    mut store: StoreContextMut<'_, CallState>,
    (network, name): (Resource<Network>, String),
) -> wasmtime::Result<(Result<Resource<Lookup>, ErrorCode>,)> {
    let state = store.data_mut();
    state.table.get(&network)?;
    let answer = state.net.as_ref().and_then(|net| net.lookup(&name));
    let Some(addrs) = answer else {
        let component = state.denials_component();
        state.denials.deny(format!(
            "name lookup of {name:?} denied: it is not a host name granted to component \
             {component:?} (add it to components.{component}.network.allow)"
        ));
        return Ok((Err(ErrorCode::PermanentResolverFailure),));
    };
    if addrs.is_empty() {
        return Ok((Err(ErrorCode::NameUnresolvable),));
    }
    let stream = state.table.push(Lookup {
        addrs: addrs.into_iter(),
    })?;
    Ok((Ok(stream),))
}

fn resolve_next_address(
    mut store: StoreContextMut<'_, CallState>,
    (stream,): (Resource<Lookup>,),
) -> wasmtime::Result<(Result<Option<IpAddress>, ErrorCode>,)> {
    let lookup = store.data_mut().table.get_mut(&stream)?;
    Ok((Ok(lookup.addrs.next().map(IpAddress::from)),))
}

fn subscribe(
    mut store: StoreContextMut<'_, CallState>,
    (stream,): (Resource<Lookup>,),
) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let pollable = wasmtime_wasi::p2::subscribe(&mut store.data_mut().table, stream)?;
    Ok((pollable,))
}
