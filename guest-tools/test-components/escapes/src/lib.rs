//! A hostile component: each function tries one way out of the sandbox with
//! plain `std` (which wasm32-wasip2 maps onto `wasi:filesystem`, `wasi:cli`
//! and `wasi:sockets`) or with `wasi:http`, and reports exactly what it got.
//! The host's tests call it to prove that only what was granted is reachable.
//!
//! Errors read "<what was tried>: <the error's text> [<io::ErrorKind>]", so a
//! test can match the OS message ("Permission denied", "No such file or
//! directory") or the kind.

wit_bindgen::generate!({ path: "wit", world: "escape-attempts" });
corral_guest::package_docs!();

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use exports::corral::escapes::escapes::Guest;

const REPLY_LIMIT: usize = 1024;
const HTTP_BODY_LIMIT: usize = 64 * 1024;
const NET_TIMEOUT: Duration = Duration::from_secs(5);

struct Escapes;

/// "<what>: <error> [<kind>]".
fn failed(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |err| format!("{what}: {err} [{:?}]", err.kind())
}

impl Guest for Escapes {
    fn read_file(path: String) -> Result<String, String> {
        fs::read_to_string(&path).map_err(failed(format!("cannot read {path}")))
    }

    fn write_file(path: String, contents: String) -> Result<String, String> {
        fs::write(&path, contents.as_bytes()).map_err(failed(format!("cannot write {path}")))?;
        Ok(contents.len().to_string())
    }

    fn create_dir(path: String) -> Result<String, String> {
        fs::create_dir(&path).map_err(failed(format!("cannot create directory {path}")))?;
        Ok(path)
    }

    /// `from` is a WIT keyword, so the WIT spells the parameter `%from`; its
    /// name in the component (and in the tool's JSON arguments) is "from".
    fn rename(from: String, to: String) -> Result<String, String> {
        fs::rename(&from, &to).map_err(failed(format!("cannot rename {from} to {to}")))?;
        Ok(format!("{from} -> {to}"))
    }

    fn remove_file(path: String) -> Result<String, String> {
        fs::remove_file(&path).map_err(failed(format!("cannot remove {path}")))?;
        Ok(path)
    }

    fn list_dir(path: String) -> Result<String, String> {
        let cannot = || failed(format!("cannot list {path}"));
        let mut names = Vec::new();
        for entry in fs::read_dir(&path).map_err(cannot())? {
            let entry = entry.map_err(cannot())?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names.join("\n"))
    }

    fn read_env(name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    fn list_env() -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    fn list_args() -> Vec<String> {
        std::env::args_os()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    fn tcp_connect(address: String) -> Result<String, String> {
        let mut stream =
            TcpStream::connect(&address).map_err(failed(format!("cannot connect to {address}")))?;
        stream
            .set_read_timeout(Some(NET_TIMEOUT))
            .map_err(failed("cannot set a read timeout"))?;
        stream
            .write_all(b"ping\n")
            .map_err(failed(format!("cannot write to {address}")))?;
        let mut reply = Vec::new();
        let mut buffer = [0u8; REPLY_LIMIT];
        while reply.len() < REPLY_LIMIT && !reply.contains(&b'\n') {
            let want = REPLY_LIMIT - reply.len();
            match stream.read(&mut buffer[..want]) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buffer[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if is_timeout(&err) && !reply.is_empty() => break,
                Err(err) if is_timeout(&err) => {
                    return Err(failed(format!(
                        "no reply from {address} within {} seconds",
                        NET_TIMEOUT.as_secs()
                    ))(err));
                }
                Err(err) => return Err(failed(format!("cannot read from {address}"))(err)),
            }
        }
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    fn udp_send(address: String) -> Result<String, String> {
        let target = first_address(&address)?;
        let local: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("a valid address")
        } else {
            "[::]:0".parse().expect("a valid address")
        };
        let socket = UdpSocket::bind(local).map_err(failed(format!("cannot bind {local}")))?;
        let sent = socket
            .send_to(b"ping", target)
            .map_err(failed(format!("cannot send to {target}")))?;
        let from = socket.local_addr().map_or_else(
            |err| format!("an unknown address ({err})"),
            |a| a.to_string(),
        );
        Ok(format!("sent {sent} bytes to {target} from {from}"))
    }

    fn resolve(host: String) -> Result<String, String> {
        let addresses = (host.as_str(), 0)
            .to_socket_addrs()
            .map_err(failed(format!("cannot resolve {host}")))?;
        let ips: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
        Ok(ips.join(","))
    }

    fn http_get(url: String) -> Result<String, String> {
        let url = corral_wasi_http::Url::parse(&url)?;
        let response = corral_wasi_http::get(&url, HTTP_BODY_LIMIT)?;
        Ok(format!("{}\n{}", response.status, response.text()))
    }
}

/// A read timeout: wasm32-wasip2 reports it as `WouldBlock`.
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The first address `address` stands for, resolving a host name if needed.
fn first_address(address: &str) -> Result<SocketAddr, String> {
    if let Ok(parsed) = address.parse() {
        return Ok(parsed);
    }
    address
        .to_socket_addrs()
        .map_err(failed(format!("cannot resolve {address}")))?
        .next()
        .ok_or_else(|| format!("cannot resolve {address}: no addresses"))
}

export!(Escapes);
