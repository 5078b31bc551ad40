//! Links into the operator's issue tracker: an example of a tool that
//! reads runtime settings through `wasi:config/store` instead of taking
//! them from the caller.

wit_bindgen::generate!({ path: "wit", world: "issue-links", generate_all });
corral_guest::package_docs!();

use exports::corral::issue_links::links::{Guest, IssueState, TrackerInfo};
use wasi::config::store;

struct IssueLinks;

/// Reads a setting; `None` when the operator did not set it.
fn setting(key: &str) -> Result<Option<String>, String> {
    store::get(key).map_err(|e| match e {
        store::Error::Upstream(m) | store::Error::Io(m) => {
            format!("cannot read the setting {key}: {m}")
        }
    })
}

fn tracker() -> Result<TrackerInfo, String> {
    let url = setting("tracker_url")?
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            "no issue tracker is configured: the operator must set tracker_url for this tool \
             (config = { tracker_url = \"https://github.com/OWNER/REPO\" })"
                .to_owned()
        })?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "the configured tracker_url {url:?} is not an http(s) URL; ask the operator to fix it"
        ));
    }
    let name = setting("tracker_name")?
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| url.clone());
    Ok(TrackerInfo { name, url })
}

/// Percent-encodes `text` for a URL query value (RFC 3986 unreserved
/// characters stay as they are).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Guest for IssueLinks {
    fn tracker() -> Result<TrackerInfo, String> {
        tracker()
    }

    fn issue_link(number: u32) -> Result<String, String> {
        if number == 0 {
            return Err("issue numbers start at 1".to_owned());
        }
        Ok(format!("{}/issues/{number}", tracker()?.url))
    }

    fn search_link(query: String, state: Option<IssueState>) -> Result<String, String> {
        let query = query.trim();
        if query.is_empty() {
            return Err("give some words to search for".to_owned());
        }
        let state = match state.unwrap_or(IssueState::Open) {
            IssueState::Open => "is:open ",
            IssueState::Closed => "is:closed ",
            IssueState::All => "",
        };
        Ok(format!(
            "{}/issues?q={}",
            tracker()?.url,
            encode(&format!("{state}is:issue {query}"))
        ))
    }
}

export!(IssueLinks);

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("Safe-_.~09"), "Safe-_.~09");
    }
}
