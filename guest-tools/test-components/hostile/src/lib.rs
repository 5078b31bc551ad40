//! A hostile component for containment tests: each function makes the host
//! allocate, hold or block on something the guest's own budgets (linear
//! memory, fuel, deadline) do not see, and reports how far it got.
//!
//! Handles are forgotten (`mem::forget`) rather than kept in a `Vec`: the
//! host still holds every object until the store is dropped, and the guest
//! pays nothing for it, so the guest's memory limit never ends an attack
//! early. Errors read "<what was tried>: <the error as the guest saw it>".

wit_bindgen::generate!({ path: "wit", world: "containment-attacks", generate_all });
corral_guest::package_docs!();

use std::fs::File;
use std::io::{self, Read, Write};
use std::mem;
use std::net::TcpStream;
use std::time::Duration;

use exports::corral::hostile::hostile::{Guest, Lookups, Reached, Refusals};
use wasip2::clocks::monotonic_clock;
use wasip2::http::types::{Fields, OutgoingRequest};
use wasip2::sockets::network::{ErrorCode, IpAddress, IpAddressFamily};
use wasip2::sockets::{instance_network, ip_name_lookup, tcp_create_socket, udp_create_socket};

/// The most body bytes one `write` may carry (the host's default chunk size).
const BODY_CHUNK: usize = 1024 * 1024;

/// How much of a response body `http-get` returns.
const HTTP_BODY_LIMIT: usize = 64 * 1024;

struct Hostile;

impl Guest for Hostile {
    fn hold_fields(count: u32, bytes: u32, hold_ms: u32) -> Reached {
        let value = vec![b'a'; bytes as usize];
        let reached = acquire(count, || {
            let fields = Fields::new();
            fields
                .append("x-hostile-pad", &value)
                .map_err(|err| format!("cannot append {bytes} bytes to a fields: {err:?}"))?;
            mem::forget(fields);
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn hold_request_bodies(count: u32, bytes: u32, hold_ms: u32) -> Reached {
        let chunk = vec![b'b'; (bytes as usize).min(BODY_CHUNK)];
        let reached = acquire(count, || {
            let request = OutgoingRequest::new(Fields::new());
            let body = request
                .body()
                .map_err(|()| "cannot take an outgoing request's body".to_string())?;
            let stream = body
                .write()
                .map_err(|()| "cannot open an outgoing body's stream".to_string())?;
            let mut left = bytes as usize;
            while left > 0 {
                let permitted = stream
                    .check_write()
                    .map_err(|err| format!("cannot write to an outgoing body: {err:?}"))?;
                let size = left.min(chunk.len()).min(saturating_usize(permitted));
                if size == 0 {
                    break;
                }
                stream
                    .write(&chunk[..size])
                    .map_err(|err| format!("cannot write to an outgoing body: {err:?}"))?;
                left -= size;
            }
            mem::forget(stream);
            mem::forget(body);
            mem::forget(request);
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn hold_pollables(count: u32, hold_ms: u32) -> Reached {
        let reached = acquire(count, || {
            mem::forget(monotonic_clock::subscribe_duration(u64::MAX));
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn hold_files(path: String, count: u32, hold_ms: u32) -> Reached {
        let reached = acquire(count, || {
            let file = File::open(&path).map_err(failed(format!("cannot open {path}")))?;
            mem::forget(file);
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn hold_tcp_sockets(count: u32, hold_ms: u32) -> Reached {
        let reached = acquire(count, || {
            let socket = tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4)
                .map_err(|err| format!("cannot create a TCP socket: {}", err.name()))?;
            mem::forget(socket);
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn hold_udp_sockets(count: u32, hold_ms: u32) -> Reached {
        let reached = acquire(count, || {
            let socket = udp_create_socket::create_udp_socket(IpAddressFamily::Ipv4)
                .map_err(|err| format!("cannot create a UDP socket: {}", err.name()))?;
            mem::forget(socket);
            Ok(())
        });
        hold(reached, hold_ms)
    }

    fn lookup_names(name: String, count: u32) -> Lookups {
        let network = instance_network::instance_network();
        let mut outcome = Lookups {
            started: 0,
            answered: 0,
            failed: 0,
            addresses: Vec::new(),
            first_error: None,
        };
        let mut pending = Vec::new();
        for _ in 0..count {
            match ip_name_lookup::resolve_addresses(&network, &name) {
                Ok(stream) => pending.push(stream),
                Err(err) => {
                    outcome.first_error = Some(format!("cannot look up {name}: {}", err.name()));
                    break;
                }
            }
            outcome.started += 1;
        }
        for stream in pending {
            let mut addresses = Vec::new();
            let error = loop {
                match stream.resolve_next_address() {
                    Ok(Some(address)) => addresses.push(ip_text(&address)),
                    Ok(None) => break None,
                    Err(ErrorCode::WouldBlock) => stream.subscribe().block(),
                    Err(err) => break Some(err.name().to_string()),
                }
            };
            match error {
                None if !addresses.is_empty() => {
                    outcome.answered += 1;
                    if outcome.addresses.is_empty() {
                        outcome.addresses = addresses;
                    }
                }
                error => {
                    outcome.failed += 1;
                    let error = error.unwrap_or_else(|| "no addresses".to_string());
                    outcome
                        .first_error
                        .get_or_insert_with(|| format!("cannot look up {name}: {error}"));
                }
            }
        }
        outcome
    }

    fn read_special(path: String) -> Result<u64, String> {
        let mut file = File::open(&path).map_err(failed(format!("cannot open {path}")))?;
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            match file.read(&mut buffer) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(failed(format!("cannot read {path}"))(err)),
            }
        }
    }

    fn refused_connects(address: String, count: u32) -> Refusals {
        flood(count, || {
            TcpStream::connect(&address)
                .map(drop)
                .map_err(failed(format!("cannot connect to {address}")))
        })
    }

    fn refused_requests(url: String, count: u32) -> Refusals {
        let parsed = match corral_wasi_http::Url::parse(&url) {
            Ok(parsed) => parsed,
            Err(err) => {
                return Refusals {
                    attempts: 0,
                    refused: 0,
                    first_error: Some(err),
                };
            }
        };
        flood(count, || corral_wasi_http::get(&parsed, 0).map(drop))
    }

    fn write_stderr(text: String) -> u64 {
        let mut stderr = io::stderr().lock();
        match stderr
            .write_all(text.as_bytes())
            .and_then(|()| stderr.flush())
        {
            Ok(()) => text.len() as u64,
            Err(_) => 0,
        }
    }

    fn http_get(url: String) -> Result<String, String> {
        let url = corral_wasi_http::Url::parse(&url)?;
        let response = corral_wasi_http::get(&url, HTTP_BODY_LIMIT)?;
        Ok(format!("{}\n{}", response.status, response.text()))
    }

    fn notice_flood(count: u32, size: u32) -> u32 {
        let message = "x".repeat(size as usize);
        for _ in 0..count {
            corral::mcp::log::log(corral::mcp::log::Level::Error, Some("flood"), &message);
        }
        for i in 1..=count {
            corral::mcp::progress::report(f64::from(i), None, Some(&message));
        }
        count
    }
}

/// Runs `step` up to `count` times, stopping at the first error.
fn acquire(count: u32, mut step: impl FnMut() -> Result<(), String>) -> Reached {
    let mut reached = Reached {
        count: 0,
        stopped_by: None,
    };
    for _ in 0..count {
        if let Err(err) = step() {
            reached.stopped_by = Some(err);
            break;
        }
        reached.count += 1;
    }
    reached
}

/// Keeps the call, and so everything the host holds for it, alive for
/// `hold_ms` milliseconds.
fn hold(reached: Reached, hold_ms: u32) -> Reached {
    if hold_ms > 0 {
        std::thread::sleep(Duration::from_millis(u64::from(hold_ms)));
    }
    reached
}

/// Runs `attempt` `count` times whatever happens, counting the refusals.
fn flood(count: u32, mut attempt: impl FnMut() -> Result<(), String>) -> Refusals {
    let mut refusals = Refusals {
        attempts: 0,
        refused: 0,
        first_error: None,
    };
    for _ in 0..count {
        refusals.attempts += 1;
        if let Err(err) = attempt() {
            refusals.refused += 1;
            refusals.first_error.get_or_insert(err);
        }
    }
    refusals
}

/// "<what>: <error> [<kind>]".
fn failed(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |err| format!("{what}: {err} [{:?}]", err.kind())
}

fn ip_text(address: &IpAddress) -> String {
    match *address {
        IpAddress::Ipv4((a, b, c, d)) => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h).to_string()
        }
    }
}

fn saturating_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

export!(Hostile);
