//! `fetch-external-data`: an HTTP GET through `wasi:http/outgoing-handler`.
//! The host's outgoing handler sees every request, redirects included, and
//! may deny it; the denial comes back as an error naming `HttpRequestDenied`.

wit_bindgen::generate!({ path: "wit", world: "http-fetch" });
corral_guest::package_docs!();

use corral_wasi_http::Url;
use exports::corral::http_fetch::fetch::{Guest, HttpResponse};

/// The largest body returned; longer ones are cut and say so.
const MAX_BODY: usize = 1 << 20;

/// How many redirects are followed before giving up.
const MAX_REDIRECTS: usize = 5;

struct HttpFetch;

impl Guest for HttpFetch {
    fn fetch_external_data(url: String) -> Result<HttpResponse, String> {
        let mut url = Url::parse(&url)?;
        let mut redirects = 0;
        loop {
            let response = corral_wasi_http::get(&url, MAX_BODY)?;
            let redirect = matches!(response.status, 301 | 302 | 303 | 307 | 308);
            if let (true, Some(location)) = (redirect, &response.location) {
                if redirects == MAX_REDIRECTS {
                    return Err(format!(
                        "{url} redirects more than {MAX_REDIRECTS} times (last to {location}); \
                         fetch the final URL directly"
                    ));
                }
                url = url
                    .join(location)
                    .map_err(|err| format!("{url} redirects to an unusable URL: {err}"))?;
                redirects += 1;
                continue;
            }
            let mut body = response.text();
            if response.truncated {
                body.push_str(
                    "\n[truncated: the body is larger than 1 MiB (1048576 bytes); \
                     only its first 1 MiB is shown]",
                );
            }
            return Ok(HttpResponse {
                status: response.status,
                content_type: response.content_type,
                body,
            });
        }
    }
}

export!(HttpFetch);
