//! Outgoing HTTP: requests to granted hosts (`network.allow`), through
//! `wasi:http/outgoing-handler`.
//!
//! The request's host and port are checked against the same grant as
//! sockets. Corral then connects by itself, to an address the grant
//! allows: the IP the URL names, or an address the granted name resolved
//! to when corral started. The name is never resolved again at request
//! time, so a name that later resolves elsewhere (DNS rebinding) cannot
//! reach an address the grant never allowed. TLS still verifies the
//! certificate against the name in the URL.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::denials::{Denials, network_denied};
use super::network::NetGrant;
use super::sockets::parse_network;
use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// How long a connection or a first response byte may take when the guest
/// sets no timeout (the call's deadline bounds it anyway).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The outgoing HTTP capability.
pub struct Http;

/// The hosts one component may send requests to.
#[derive(Debug)]
struct HttpGrant {
    net: Arc<NetGrant>,
}

impl Capability for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["network"]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "http",
            names: &["wasi:http/"],
        }]
    }

    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(HttpGrant {
            net: Arc::new(parse_network(section)?),
        }))
    }
}

impl Grant for HttpGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(HttpGrant {
            net: Arc::new(super::network::resolve_at_start(&self.net, section)),
        }))
    }

    fn granted(&self) -> bool {
        !self.net.is_empty()
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        call.http = Some(HttpPolicy {
            component: call.component.clone(),
            net: Some(self.net.clone()),
            denials: call.denials.clone(),
        });
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, key: &str) -> AuditPart {
        let mut part = AuditPart::default();
        let entries = self.net.describe();
        if imports.has("http") {
            if entries.is_empty() {
                part.reach.push(
                    "imports wasi:http but has no network grant: every request is refused".into(),
                );
            } else {
                part.reach.extend(
                    entries
                        .iter()
                        .map(|r| format!("may send HTTP requests to {r}")),
                );
            }
        }
        if !entries.is_empty() && !imports.has("http") && !imports.has("sockets") {
            part.warnings.push(format!(
                "{key}.network is granted but the component imports neither wasi:sockets nor wasi:http: the grant is unused"
            ));
        }
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

/// Checks and sends every outgoing request of one call.
pub(crate) struct HttpPolicy {
    component: Arc<str>,
    net: Option<Arc<NetGrant>>,
    denials: Denials,
}

impl HttpPolicy {
    /// A policy refusing everything (for a call without the grant; its
    /// interfaces are not linked then, so it is never asked).
    pub(crate) fn denied(component: &Arc<str>) -> HttpPolicy {
        HttpPolicy {
            component: component.clone(),
            net: None,
            denials: Denials::default(),
        }
    }
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().to_owned();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let authority = uri.authority().map_or("", |a| a.as_str());
        let port_text = authority
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.ends_with(']'));
        // An unparsable port is refused, never silently taken as the default.
        let port = match (port_text, uri.port_u16()) {
            (_, Some(port)) => Some(port),
            (None, None) => Some(if https { 443 } else { 80 }),
            (Some(_), None) => None,
        };
        let targets = port.and_then(|port| {
            self.net
                .as_ref()
                .and_then(|net| net.http_targets(&host, port))
        });
        let Some(targets) = targets else {
            let port = port.map_or_else(
                || port_text.unwrap_or_default().to_owned(),
                |p| p.to_string(),
            );
            let target = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            self.denials.deny(network_denied(&self.component, &target));
            return Box::new(std::future::ready(Err(HttpError::HttpRequestDenied)));
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Box::new(send(request, targets, host, https, options))
    }
}

/// A connection's byte stream, plain or TLS.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Connects to the first of `targets` that answers.
async fn connect(targets: &[SocketAddr], timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = HttpError::DestinationNotFound;
    for target in targets {
        match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = HttpError::ConnectionRefused;
            }
            Ok(Err(e)) => last = HttpError::Connect(e),
            Err(_) => last = HttpError::ConnectionTimeout,
        }
    }
    Err(last)
}

/// Wraps `stream` in TLS for `host`, checking its certificate against the
/// web's root certificates.
async fn tls(stream: TcpStream, host: &str) -> Result<Box<dyn Stream>, HttpError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| HttpError::InternalError(Some(e.to_string())))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = connector
        .connect(name, stream)
        .await
        .map_err(HttpError::Tls)?;
    Ok(Box::new(stream))
}

/// Sends `request` over a connection Corral opened to one of `targets`.
async fn send(
    mut request: http::Request<WasiBody>,
    targets: Vec<SocketAddr>,
    host: String,
    https: bool,
    options: Option<RequestOptions>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
> {
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let tcp = connect(&targets, connect_timeout).await?;
    let stream: Box<dyn Stream> = if https {
        tls(tcp, &host).await?
    } else {
        Box::new(tcp)
    };
    let (mut sender, connection) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)??;
    // The request line carries only the path: the authority was checked
    // above and is in the Host header.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let mut connection = Box::pin(connection);
    let mut finished = false;
    let response = {
        let response = sender.send_request(request);
        let deadline = tokio::time::sleep(first_byte_timeout);
        tokio::pin!(response, deadline);
        loop {
            tokio::select! {
                response = &mut response => break response.map_err(HttpError::from)?,
                ended = &mut connection, if !finished => {
                    finished = true;
                    ended.map_err(HttpError::from)?;
                }
                () = &mut deadline => return Err(HttpError::ConnectionReadTimeout),
            }
        }
    };
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
        if finished {
            Ok(())
        } else {
            connection.await.map_err(HttpError::from)
        }
    });
    Ok((response, io))
}
