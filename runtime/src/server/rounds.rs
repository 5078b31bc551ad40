//! The rounds of a 2026-07-28 call that asks its client questions: the
//! answers so far travel with the client as the `requestState` of the
//! input-required result (SEP-2322), sealed so that the client cannot alter
//! them or use them elsewhere.
//!
//! A state is signed (HMAC-SHA256, rmcp's [`RequestStateCodec`], with a key
//! drawn for this process), bound to the caller, the method, what it names
//! (a tool, a prompt, a resource) and the arguments, and expires after the component's `input_timeout`. A retry
//! whose state is altered, was issued for another call or caller, or has
//! expired is refused (-32602) with what to do. The key is per process: a
//! retry must reach the server that asked (behind a load balancer, the
//! session's replica).

use std::time::Duration;

use rmcp::ErrorData;
use rmcp::model::{InputResponses, JsonObject, RequestStateCodec, RequestStateError, SealOptions};

use super::Principal;
use super::questions::Record;

/// Seals and opens the records of this process's calls.
pub(super) struct Rounds {
    codec: Option<RequestStateCodec>,
}

impl Rounds {
    /// A key of 32 random bytes for this process (without a random source,
    /// which no supported OS lacks, 2026 clients are never asked anything).
    pub(super) fn new() -> Rounds {
        let mut key = [0u8; 32];
        let codec = getrandom::fill(&mut key)
            .ok()
            .and_then(|()| RequestStateCodec::try_new(key.to_vec()).ok());
        if codec.is_none() {
            tracing::warn!(
                "no random source for the key that signs requestState: tools cannot ask \
                 2026-07-28 clients questions"
            );
        }
        Rounds { codec }
    }

    /// The answers a request carries: those of its (opened) `state` and
    /// its `responses` (`inputResponses`), which win over the state's for
    /// the same key.
    pub(super) fn open(
        &self,
        state: Option<&str>,
        responses: Option<&InputResponses>,
        binding: &[u8],
    ) -> Result<Record, ErrorData> {
        let mut record =
            match (state, &self.codec) {
                (None, _) => Record::new(),
                (Some(_), None) => return Err(refused("this server cannot open it")),
                (Some(state), Some(codec)) => codec
                    .open_json_with::<Record>(state, binding)
                    .map_err(|e| match e {
                        RequestStateError::Expired => refused(
                            "it has expired (the answers took longer than the tool's \
                             limits.input_timeout)",
                        ),
                        _ => refused(
                            "it was not issued for this call (altered, or issued for another \
                             tool, other arguments, another caller or another server process)",
                        ),
                    })?,
            };
        if let Some(responses) = responses {
            record.extend(responses.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(record)
    }

    /// `record` sealed for the retry of the call `binding` names, valid for
    /// `ttl` (`None`: this server cannot sign).
    pub(super) fn seal(&self, record: &Record, binding: &[u8], ttl: Duration) -> Option<String> {
        let options = SealOptions::new().associated_data(binding).ttl(ttl);
        self.codec.as_ref()?.seal_json_with(record, &options).ok()
    }
}

/// What a state is bound to: the caller, the method, what the request names
/// (a tool, a prompt, a resource URI) and its arguments (as JSON: a retry
/// sends the same object).
pub(super) fn binding(
    principal: &Principal,
    method: &str,
    name: &str,
    arguments: Option<&JsonObject>,
) -> Vec<u8> {
    let owner = principal.owner().map_or("", |o| o.as_ref());
    let arguments = arguments
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .unwrap_or_default();
    [owner, method, name, &arguments].join("\0").into_bytes()
}

fn refused(why: &str) -> ErrorData {
    ErrorData::invalid_params(
        format!(
            "the requestState of this retry cannot be used: {why}; send the request again \
             without requestState and inputResponses"
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::CallToolRequestParams;
    use serde_json::json;

    fn call(name: &str, arguments: serde_json::Value) -> CallToolRequestParams {
        let mut request = CallToolRequestParams::new(name.to_owned());
        request.arguments = arguments.as_object().cloned();
        request
    }

    fn bound(request: &CallToolRequestParams) -> Vec<u8> {
        binding(
            &Principal::default(),
            "tools/call",
            &request.name,
            request.arguments.as_ref(),
        )
    }

    fn open(
        rounds: &Rounds,
        request: &CallToolRequestParams,
        binding: &[u8],
    ) -> Result<Record, ErrorData> {
        rounds.open(
            request.request_state.as_deref(),
            request.input_responses.as_ref(),
            binding,
        )
    }

    #[test]
    fn a_sealed_record_opens_only_for_its_own_call() {
        let rounds = Rounds::new();
        let first = call("delete", json!({"path": "a"}));
        let bound_first = bound(&first);
        let record = Record::from([("ok".to_owned(), json!({"action": "accept"}))]);
        let state = rounds.seal(&record, &bound_first, Duration::from_secs(60));
        assert!(state.is_some());

        let mut retry = first.clone();
        retry.request_state = state.clone();
        retry.input_responses = Some([("more".to_owned(), json!(1))].into());
        let opened = open(&rounds, &retry, &bound_first).ok();
        assert_eq!(opened.as_ref().map(Record::len), Some(2));

        // Other arguments, another tool or an altered state: refused.
        let mut other = call("delete", json!({"path": "b"}));
        other.request_state = state.clone();
        assert!(open(&rounds, &other, &bound(&other)).is_err());
        // The same name and arguments under another method: refused.
        let prompt = binding(
            &Principal::default(),
            "prompts/get",
            "delete",
            first.arguments.as_ref(),
        );
        assert!(open(&rounds, &retry, &prompt).is_err());
        let mut altered = retry.clone();
        altered.request_state = state.map(|s| format!("{s}x"));
        assert!(open(&rounds, &altered, &bound_first).is_err());
        // Another process's key.
        assert!(open(&Rounds::new(), &retry, &bound_first).is_err());
    }

    #[test]
    fn an_expired_record_is_refused() {
        let rounds = Rounds::new();
        let mut request = call("ask", json!({}));
        let binding = bound(&request);
        request.request_state = rounds.seal(&Record::new(), &binding, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(20));
        let refused = open(&rounds, &request, &binding).err();
        assert!(refused.is_some_and(|e| e.message.contains("expired")));
    }
}
