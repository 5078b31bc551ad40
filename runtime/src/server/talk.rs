//! A request whose component may talk to its client (`corral:mcp` log,
//! progress and client imports): a tool call, a prompt or a resource read.
//!
//! [`Talk::open`] opens the answers a 2026 retry carries (refused before
//! anything runs when they are not this request's); [`Talk::run`] runs the
//! component with its client link while its notices go out and its
//! questions are answered; [`Talk::end`] turns a request that ended for its
//! client into the input-required result that asks what is still needed,
//! or the error that says why it cannot go on.

use std::time::Duration;

use rmcp::model::{InputRequiredResult, InputResponses, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::capabilities::client::{self, ClientLink};
use crate::sandbox::Program;

use super::handler::principal;
use super::notices::{self, SessionLevel};
use super::questions::{self, Attended, Record};
use super::rounds::{self, Rounds};
use super::tasks::Tasking;

/// What a request names and carries, for binding its answers to it.
pub(super) struct Asked<'r> {
    /// The method (`tools/call`, `prompts/get`, `resources/read`).
    pub(super) method: &'static str,
    /// What it names: a tool, a prompt, a resource URI.
    pub(super) name: &'r str,
    /// Its arguments, if the method has them.
    pub(super) arguments: Option<&'r JsonObject>,
    /// The `requestState` of a retry.
    pub(super) state: Option<&'r str>,
    /// The `inputResponses` of a retry.
    pub(super) responses: Option<&'r InputResponses>,
}

/// One request's conversation with its client.
pub(super) struct Talk<'s> {
    rounds: &'s Rounds,
    /// Whether the component imports anything that talks to the client.
    talks: bool,
    /// Whether the client speaks 2026-07-28 or later (no server-to-client
    /// requests: questions are asked in input-required results).
    stateless: bool,
    /// What a sealed state of this request is bound to (2026 only).
    binding: Option<Vec<u8>>,
    /// The answers so far (2026 only), until [`Talk::run`] takes them.
    record: Option<Record>,
    /// How long a sealed state stays valid: the component's input timeout.
    input_timeout: Duration,
}

impl<'s> Talk<'s> {
    /// The conversation of `asked`, served by `program` (`None`: nothing
    /// serves it, and nothing talks). A retry's answers that are not this
    /// request's are refused (-32602).
    pub(super) fn open(
        rounds: &'s Rounds,
        program: Option<&Program>,
        context: &RequestContext<RoleServer>,
        asked: &Asked<'_>,
    ) -> Result<Talk<'s>, ErrorData> {
        let talks = program.is_some_and(Program::talks_to_client);
        let stateless = stateless(context);
        let binding = (stateless && talks).then(|| {
            rounds::binding(
                &principal(context),
                asked.method,
                asked.name,
                asked.arguments,
            )
        });
        let record = match &binding {
            Some(binding) => Some(rounds.open(asked.state, asked.responses, binding)?),
            None => None,
        };
        Ok(Talk {
            rounds,
            talks,
            stateless,
            binding,
            record,
            input_timeout: program.map_or(Duration::ZERO, |p| p.limits().input_timeout),
        })
    }

    /// Whether the client speaks 2026-07-28 or later.
    pub(super) fn stateless(&self) -> bool {
        self.stateless
    }

    /// Runs the component (`call`, given its client link when it talks),
    /// forwarding its notices and answering its questions until it ends;
    /// with `tasking`, it may go on as a task.
    pub(super) async fn run<T, F>(
        &mut self,
        context: &RequestContext<RoleServer>,
        level: &SessionLevel,
        tasking: Option<Tasking>,
        call: impl FnOnce(Option<ClientLink>) -> F,
    ) -> (T, Attended)
    where
        F: Future<Output = T>,
    {
        if !self.talks {
            return (call(None).await, Attended::default());
        }
        let (link, notices) = client::link(notices::wanted(context, level));
        let record = self.record.take();
        questions::alongside(call(Some(link)), notices, context, record, tasking).await
    }

    /// The input-required result of a request of `what` (say, `tool
    /// "delete"`) that ended for its client, with the answers so far sealed;
    /// or why it cannot go on: its recorded answers were malformed (-32602),
    /// or the client lacks a capability the component requires (-32021).
    pub(super) fn end(
        &self,
        attended: Attended,
        what: &str,
    ) -> Result<InputRequiredResult, ErrorData> {
        if let Some(why) = attended.malformed {
            return Err(ErrorData::invalid_params(why, None));
        }
        if let Some(lacking) = questions::lacking(&attended, what) {
            return Err(lacking.into_error());
        }
        let state = self.binding.as_ref().and_then(|binding| {
            self.rounds
                .seal(&attended.record, binding, self.input_timeout)
        });
        Ok(InputRequiredResult::new(attended.needed, state))
    }
}

/// Whether `context`'s client speaks 2026-07-28 or later: a protocol
/// without `initialize`, server-to-client requests or sessions.
pub(super) fn stateless(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|version| !version.has_initialize())
}
