//! The questions a running call asks its client (`corral:mcp/client`), in
//! the protocol the client speaks.
//!
//! Clients of 2025-11-25 and earlier get server-to-client requests
//! (`elicitation/create`, `sampling/createMessage`, `roots/list`), all the
//! questions of a round at once, while the guest waits. Clients of
//! 2026-07-28 get none (that protocol has no server-to-client requests):
//! each question is answered from the client's answers to earlier rounds
//! ([`Record`]); a question without one ends the call with an
//! input-required result that asks it, and the client's retry runs the
//! tool again with every answer so far (see [`rounds`](super::rounds)).

#![allow(deprecated)] // Sampling and roots are deprecated by SEP-2577, yet still spoken.

use std::collections::BTreeMap;

use rmcp::model::TASKS_EXTENSION_ID;
use rmcp::model::{
    ClientCapabilities, CreateMessageRequest, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    ErrorCode, InputRequest, InputRequests, ListRootsRequest, ListRootsResult, SamplingMessage,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::task_manager::{TaskContext, TaskExit};
use rmcp::{ErrorData, RoleServer};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::capabilities::asking::{Answers, Asking, Needed, Reply, Turn};
use crate::capabilities::client::Notices;

use super::tasks::{Backgrounded, Tasking};
use crate::capabilities::mcp_client::wit::{
    Answer, AskError, Form, FormAction, FormReply, Question, QuestionKind, Role, Root, Sampled,
    Sampling,
};

/// The answers a 2026 client gave in earlier rounds of one call, by the
/// guest's key: each as the client sent it (an `ElicitResult`,
/// `CreateMessageResult` or `ListRootsResult` in JSON).
pub(super) type Record = BTreeMap<String, Value>;

/// How a call's questions reach its client.
enum Mode {
    /// Server-to-client requests, answered while the guest waits.
    Requests(Peer<RoleServer>),
    /// Answers from the record; a question without one is asked in an
    /// input-required result.
    Rounds(Record),
    /// The call is a task: its questions wait in the task until the client
    /// answers them (`tasks/update`).
    Task(TaskContext),
}

/// What answering a call's questions left: in the rounds mode, the
/// questions still to ask and every answer so far.
#[derive(Default)]
pub(super) struct Attended {
    /// Questions the client must answer before a retry (`None`: the call
    /// got every answer it asked for).
    pub(super) needed: Option<InputRequests>,
    /// The answers so far (rounds mode only).
    pub(super) record: Record,
    /// Why a recorded answer cannot be used (not the shape of its
    /// question's answer): the retry is refused with this reason.
    pub(super) malformed: Option<String>,
    /// What the call requires and the client lacks.
    pub(super) lacking: Vec<Needed>,
    /// The task the call became, which takes its answer.
    pub(super) task: Option<Backgrounded>,
}

impl Attended {
    /// Whether the call ended for its client rather than with an answer.
    pub(super) fn ended_call(&self) -> bool {
        self.needed.is_some() || self.malformed.is_some() || !self.lacking.is_empty()
    }
}

/// Runs `call` while forwarding what it sends its client (`notices`) and
/// answering what it asks: by requests, from `record` (a 2026 client's
/// answers so far), or in its task once it is one (`tasking`). Everything
/// ends when the call's store is gone, so everything the guest sent goes
/// out before the answer.
pub(super) async fn alongside<T>(
    call: impl Future<Output = T>,
    mut notices: Notices,
    context: &RequestContext<RoleServer>,
    record: Option<Record>,
    tasking: Option<Tasking>,
) -> (T, Attended) {
    let token = context.meta.get_progress_token();
    let asked = notices.questions.take();
    // Cancelled when the call goes on as a task: its request is answered.
    let answered = CancellationToken::new();
    let forward = super::notices::forward(notices, context.peer.clone(), token, answered.clone());
    let mode = match record {
        Some(record) => Mode::Rounds(record),
        None => Mode::Requests(context.peer.clone()),
    };
    let attend = async move {
        match asked {
            Some(asked) => attend(asked, mode, tasking, &context.ct, &answered).await,
            None => Attended::default(),
        }
    };
    let (report, (), attended) = tokio::join!(call, forward, attend);
    (report, attended)
}

/// The kinds of question a client with `capabilities` answers.
pub(super) fn answers(capabilities: Option<&ClientCapabilities>) -> Answers {
    capabilities.map_or_else(Answers::default, |c| Answers {
        elicit: c.elicitation.is_some(),
        sample: c.sampling.is_some(),
        roots: c.roots.is_some(),
        tasks: c.supports_tasks(),
    })
}

/// Answers every turn of the call, until the call's side of the link is
/// gone. While the call is a [`Tasking`] one and not yet a task, the
/// request's cancellation stops it.
async fn attend(
    mut turns: mpsc::Receiver<Turn>,
    mut mode: Mode,
    mut tasking: Option<Tasking>,
    request: &CancellationToken,
    answered: &CancellationToken,
) -> Attended {
    let mut task = None;
    loop {
        let turn = match &tasking {
            Some(t) if task.is_none() && !t.stop.is_cancelled() => tokio::select! {
                turn = turns.recv() => turn,
                () = request.cancelled() => {
                    t.stop.cancel();
                    continue;
                }
            },
            _ => turns.recv().await,
        };
        let asking = match turn {
            None => break,
            Some(Turn::Background(backgrounding)) => {
                if task.is_none()
                    && let Some(t) = tasking.take()
                    && let Some(started) = t.start()
                {
                    mode = Mode::Task(started.context.clone());
                    task = Some(started);
                    answered.cancel();
                }
                let _ = backgrounding.reply.send(task.is_some());
                continue;
            }
            Some(Turn::Ask(asking)) => asking,
        };
        let asking = match unless_lacking(asking) {
            Ok(asking) => asking,
            Err(lacking) => {
                return Attended {
                    lacking,
                    task,
                    ..Attended::default()
                };
            }
        };
        match &mode {
            Mode::Requests(peer) => {
                let asked = asking.questions.iter().map(|(_, q)| request_of(peer, q));
                answer_while_waited(asking.reply, asked).await;
            }
            Mode::Task(context) => {
                let asked = asking.questions.iter().map(|(k, q)| in_task(context, k, q));
                answer_while_waited(asking.reply, asked).await;
            }
            Mode::Rounds(record) => {
                let mut needed = InputRequests::new();
                let mut answers = Vec::with_capacity(asking.questions.len());
                for (key, question) in &asking.questions {
                    match record.get(key) {
                        Some(recorded) => match recorded_answer(question, recorded) {
                            Ok(answer) => answers.push(Ok(answer)),
                            Err(why) => {
                                let _ = asking.reply.send(Reply::Retry);
                                return Attended {
                                    malformed: Some(format!(
                                        "inputResponses[{key:?}] is not an answer to the \
                                         question asked under that key: {why}"
                                    )),
                                    ..Attended::default()
                                };
                            }
                        },
                        None => match input_request(question) {
                            Ok(request) => {
                                needed.insert(key.clone(), request);
                                answers.push(Err(AskError::Failed("not answered yet".into())));
                            }
                            Err(error) => answers.push(Err(error)),
                        },
                    }
                }
                if needed.is_empty() {
                    let _ = asking.reply.send(Reply::Answers(answers));
                } else {
                    let _ = asking.reply.send(Reply::Retry);
                    let Mode::Rounds(record) = mode else {
                        return Attended::default();
                    };
                    return Attended {
                        needed: Some(needed),
                        record,
                        ..Attended::default()
                    };
                }
            }
        }
    }
    Attended {
        record: match mode {
            Mode::Rounds(record) => record,
            _ => Record::new(),
        },
        task,
        ..Attended::default()
    }
}

/// Sends the answers of `asked` to the guest, unless it stopped waiting (its
/// input timeout, its call stopped): then the questions are abandoned.
async fn answer_while_waited(
    mut reply: oneshot::Sender<Reply>,
    asked: impl Iterator<Item = impl Future<Output = Result<Answer, AskError>>>,
) {
    let answers = tokio::select! {
        answers = futures::future::join_all(asked) => Some(answers),
        () = reply.closed() => None,
    };
    if let Some(answers) = answers {
        let _ = reply.send(Reply::Answers(answers));
    }
}

/// Asks one question in the call's task, and waits for the client's
/// `tasks/update`.
async fn in_task(
    context: &TaskContext,
    key: &str,
    question: &Question,
) -> Result<Answer, AskError> {
    let request = input_request(question)?;
    match context.request_input(key, request).await {
        Ok(value) => recorded_answer(question, &value).map_err(|why| {
            AskError::Invalid(format!(
                "the client's answer is not an answer to the question: {why}"
            ))
        }),
        Err(TaskExit::Cancelled) => Err(AskError::Failed("the task was cancelled".into())),
        Err(TaskExit::Error(error)) => Err(AskError::Failed(error.message.into_owned())),
    }
}

/// What a request's component requires of its client and the client does
/// not declare.
pub(super) struct Lacking {
    /// What is lacking, and what to do, for the client.
    pub(super) message: String,
    needed: Vec<Needed>,
}

impl Lacking {
    /// The protocol's error for it: -32021 with `requiredCapabilities`.
    pub(super) fn into_error(self) -> ErrorData {
        let mut required = serde_json::Map::new();
        for needed in self.needed {
            match needed {
                Needed::Answers(kind) => {
                    required.insert(capability_name(kind).to_owned(), serde_json::json!({}));
                }
                Needed::Tasks => {
                    let mut extensions = serde_json::Map::new();
                    extensions.insert(TASKS_EXTENSION_ID.to_owned(), serde_json::json!({}));
                    required.insert("extensions".to_owned(), Value::Object(extensions));
                }
            }
        }
        ErrorData::new(
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            self.message,
            Some(serde_json::json!({ "requiredCapabilities": required })),
        )
    }
}

/// What the client of a request of `what` (say, `tool "delete"`) lacks, if
/// the request ended for that.
pub(super) fn lacking(attended: &Attended, what: &str) -> Option<Lacking> {
    if attended.lacking.is_empty() {
        return None;
    }
    let names = capability_names(&attended.lacking);
    let message = format!(
        "{what} needs a client that declares the capabilities {} (the client did not declare \
         them: declare them, or use another {})",
        names.join(", "),
        what.split(' ').next().unwrap_or("one"),
    );
    Some(Lacking {
        message,
        needed: attended.lacking.clone(),
    })
}

/// The capabilities a client must declare to give what `needed` names, as
/// MCP names them.
fn capability_names(needed: &[Needed]) -> Vec<&'static str> {
    needed
        .iter()
        .map(|needed| match needed {
            Needed::Answers(kind) => capability_name(*kind),
            Needed::Tasks => TASKS_EXTENSION_ID,
        })
        .collect()
}

/// The capability a client declares to answer questions of `kind`.
fn capability_name(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Elicit => "elicitation",
        QuestionKind::Sample => "sampling",
        QuestionKind::ListRoots => "roots",
    }
}

/// `asking`, unless it requires what the client lacks: then the call ends,
/// and what it lacks is the result.
fn unless_lacking(asking: Asking) -> Result<Asking, Vec<Needed>> {
    if asking.lacking.is_empty() {
        return Ok(asking);
    }
    let _ = asking.reply.send(Reply::Retry);
    Err(asking.lacking)
}

/// Asks one question by a server-to-client request.
async fn request_of(peer: &Peer<RoleServer>, question: &Question) -> Result<Answer, AskError> {
    let failed =
        |e: rmcp::ServiceError| AskError::Failed(format!("the client answered with an error: {e}"));
    match question {
        Question::Elicit(form) => peer
            .create_elicitation(elicit_params(form)?)
            .await
            .map(form_reply)
            .map_err(failed),
        Question::Sample(sampling) => peer
            .create_message(sample_params(sampling))
            .await
            .map(sampled)
            .map_err(failed),
        Question::ListRoots => peer.list_roots().await.map(roots).map_err(failed),
    }
}

/// One question as an input request of an input-required result.
fn input_request(question: &Question) -> Result<InputRequest, AskError> {
    Ok(match question {
        Question::Elicit(form) => {
            InputRequest::Elicitation(ElicitRequest::new(elicit_params(form)?))
        }
        Question::Sample(sampling) => {
            InputRequest::CreateMessage(CreateMessageRequest::new(sample_params(sampling)))
        }
        Question::ListRoots => InputRequest::ListRoots(ListRootsRequest::default()),
    })
}

/// The answer the client gave earlier to `question`, as the guest reads it.
fn recorded_answer(question: &Question, recorded: &Value) -> Result<Answer, String> {
    let wrong = |e: serde_json::Error| e.to_string();
    match question {
        Question::Elicit(_) => serde_json::from_value::<ElicitResult>(recorded.clone())
            .map(form_reply)
            .map_err(wrong),
        Question::Sample(_) => serde_json::from_value::<CreateMessageResult>(recorded.clone())
            .map(sampled)
            .map_err(wrong),
        Question::ListRoots => serde_json::from_value::<ListRootsResult>(recorded.clone())
            .map(roots)
            .map_err(wrong),
    }
}

fn elicit_params(form: &Form) -> Result<ElicitRequestParams, AskError> {
    let requested_schema: ElicitationSchema = serde_json::from_str(&form.schema).map_err(|e| {
        AskError::Invalid(format!(
            "the form's schema is not a form's (a JSON object schema whose properties are \
             strings, numbers, integers, booleans or enums): {e}"
        ))
    })?;
    Ok(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: form.message.clone(),
        requested_schema,
    })
}

fn sample_params(sampling: &Sampling) -> CreateMessageRequestParams {
    let messages = sampling
        .messages
        .iter()
        .map(|m| match m.role {
            Role::User => SamplingMessage::user_text(m.text.clone()),
            Role::Assistant => SamplingMessage::assistant_text(m.text.clone()),
        })
        .collect();
    let mut params = CreateMessageRequestParams::new(messages, sampling.max_tokens);
    if let Some(system) = &sampling.system_prompt {
        params = params.with_system_prompt(system.clone());
    }
    if let Some(temperature) = sampling.temperature {
        params = params.with_temperature(temperature);
    }
    params
}

fn form_reply(result: ElicitResult) -> Answer {
    Answer::Form(FormReply {
        action: match result.action {
            ElicitationAction::Accept => FormAction::Accept,
            ElicitationAction::Decline => FormAction::Decline,
            _ => FormAction::Cancel,
        },
        content: result.content.map(|c| c.to_string()),
    })
}

fn sampled(result: CreateMessageResult) -> Answer {
    let text = result
        .message
        .content
        .clone()
        .into_vec()
        .iter()
        .filter_map(|block| block.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    Answer::Sampled(Sampled {
        role: match result.message.role {
            rmcp::model::Role::User => Role::User,
            _ => Role::Assistant,
        },
        text,
        model: result.model,
        stop_reason: result.stop_reason,
    })
}

fn roots(result: ListRootsResult) -> Answer {
    Answer::Roots(
        result
            .roots
            .into_iter()
            .map(|r| Root {
                uri: r.uri,
                name: r.name,
            })
            .collect(),
    )
}
