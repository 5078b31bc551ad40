//! The `wasi:http` outgoing-request hook: the same network grant as for
//! sockets, matched on the request's host and port.

use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::wasi::{Denials, network_denied};
use crate::grants::Grants;

/// Checks every outgoing request of one call against the grant.
pub(crate) struct HttpPolicy {
    pub(crate) component: String,
    pub(crate) grants: Arc<Grants>,
    pub(crate) denials: Denials,
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
        if !port.is_some_and(|port| self.grants.net.allows_http(&host, port)) {
            let port = port.map_or_else(
                || port_text.unwrap_or_default().to_owned(),
                |p| p.to_string(),
            );
            let target = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            self.denials
                .deny(&self.component, network_denied(&self.component, &target));
            return Box::new(std::future::ready(Err(HttpError::HttpRequestDenied)));
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}
