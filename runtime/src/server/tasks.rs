//! Calls that go on as tasks (the MCP tasks extension, SEP-2663): a tool
//! that calls `corral:mcp/task.background` while its client declared the
//! extension answers with a task at once and goes on; the client polls
//! `tasks/get`, answers its questions with `tasks/update` and may stop it
//! with `tasks/cancel`.
//!
//! rmcp's [`TaskManager`] keeps each task's status, questions and result.
//! This module adds what a server of strangers' tools needs: a task is its
//! caller's (another bearer token is told no such task exists), at most
//! [`MAX_TASKS`] are kept at once (beyond that a call goes on as an
//! ordinary one), and a task's call keeps its call slot and every budget,
//! so tasks add no way around `max_concurrent_calls` or a limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::ErrorData;
use rmcp::model::{CallToolResult, CreateTaskResult, DetailedTask};
use rmcp::task_manager::{
    DEFAULT_POLL_INTERVAL_MS, DEFAULT_TASK_TTL_MS, TaskContext, TaskExit, TaskManager, TaskOptions,
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::Principal;

/// Tasks kept at once, running or finished and not yet expired.
pub(super) const MAX_TASKS: usize = 1024;

/// How long a finished task is kept.
const TTL: Duration = Duration::from_millis(DEFAULT_TASK_TTL_MS);

/// What the answer of a task's call becomes: its result (`completed`), a
/// failure (`failed`) or nothing (`cancelled`).
pub(super) type Outcome = Result<CallToolResult, TaskExit>;

/// The server's tasks, with their owners.
#[derive(Default)]
pub(super) struct Tasks {
    manager: TaskManager,
    /// Each task's owner (the caller's principal) and creation.
    owners: Mutex<HashMap<String, (String, Instant)>>,
}

impl Tasks {
    /// Starts a task for a call of `owner`, whose answer comes later
    /// through the returned sender; `None` when [`MAX_TASKS`] are kept.
    fn start(
        &self,
        owner: &str,
    ) -> Option<(CreateTaskResult, TaskContext, oneshot::Sender<Outcome>)> {
        let mut owners = self.owners.lock().ok()?;
        let now = Instant::now();
        // Kept while the manager keeps the task (running, or finished less
        // than its TTL ago).
        owners.retain(|id, _| self.manager.get_task(id).is_ok());
        if owners.len() >= MAX_TASKS {
            tracing::warn!(
                max = MAX_TASKS,
                "a call asked to go on as a task and did not: the server keeps at most this many"
            );
            return None;
        }
        let (done, answer) = oneshot::channel::<Outcome>();
        let mut context = None;
        let options = TaskOptions::new()
            .with_ttl_ms(DEFAULT_TASK_TTL_MS)
            .with_poll_interval_ms(DEFAULT_POLL_INTERVAL_MS);
        let task = self.manager.spawn(options, |task_context| {
            context = Some(task_context);
            Box::pin(async move {
                answer.await.unwrap_or_else(|_| {
                    Err(TaskExit::Error(ErrorData::internal_error(
                        "the call ended without an answer (a bug in the server)",
                        None,
                    )))
                })
            })
        });
        owners.insert(task.task_id.clone(), (owner.to_owned(), now));
        Some((CreateTaskResult::new(task), context?, done))
    }

    /// `tasks/get`: the task `id`, if it is `principal`'s.
    pub(super) fn get(&self, id: &str, principal: &Principal) -> Result<DetailedTask, ErrorData> {
        self.owned(id, principal)?;
        self.manager.get_task(id)
    }

    /// `tasks/update`: answers to the task's questions.
    pub(super) fn update(
        &self,
        id: &str,
        principal: &Principal,
        responses: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) -> Result<(), ErrorData> {
        self.owned(id, principal)?;
        self.manager.update_task(id, responses)
    }

    /// `tasks/cancel`: stops the task's call.
    pub(super) fn cancel(&self, id: &str, principal: &Principal) -> Result<(), ErrorData> {
        self.owned(id, principal)?;
        self.manager.cancel_task(id)
    }

    /// Refuses a task that is not `principal`'s as the protocol refuses an
    /// unknown one (-32602): another caller learns nothing of it.
    fn owned(&self, id: &str, principal: &Principal) -> Result<(), ErrorData> {
        let owner = owner(principal);
        let owned = self
            .owners
            .lock()
            .map(|owners| owners.get(id).is_some_and(|(o, _)| *o == owner))
            .unwrap_or(false);
        if owned {
            Ok(())
        } else {
            Err(ErrorData::invalid_params(
                format!(
                    "no task has the id {id:?} (it finished more than {} minutes ago, or was \
                     never this caller's)",
                    TTL.as_secs() / 60
                ),
                None,
            ))
        }
    }
}

fn owner(principal: &Principal) -> String {
    principal
        .owner()
        .map_or_else(String::new, |o| o.to_string())
}

/// How one tool call may go on as a task: given to calls of components that
/// import `corral:mcp/task` whose client declared the extension.
pub(super) struct Tasking {
    pub(super) tasks: Arc<Tasks>,
    /// The caller, who alone may see the task.
    pub(super) owner: String,
    /// Takes the task the client gets as the call's answer.
    pub(super) became: oneshot::Sender<CreateTaskResult>,
    /// Stops the call: with its request until it is a task, then with the
    /// task's cancellation.
    pub(super) stop: CancellationToken,
}

impl Tasking {
    /// A tasking for a call of `principal`; the receiver hears of the task.
    pub(super) fn new(
        tasks: Arc<Tasks>,
        principal: &Principal,
        stop: CancellationToken,
    ) -> (Tasking, oneshot::Receiver<CreateTaskResult>) {
        let (became, task) = oneshot::channel();
        let tasking = Tasking {
            tasks,
            owner: owner(principal),
            became,
            stop,
        };
        (tasking, task)
    }

    /// Makes the call a task: the client gets it as the answer, and a
    /// cancelled task stops the call. `None` when no task can be kept.
    pub(super) fn start(self) -> Option<(TaskContext, oneshot::Sender<Outcome>)> {
        let (created, context, done) = self.tasks.start(&self.owner)?;
        let stop = self.stop;
        let cancelled = context.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cancelled.cancelled() => stop.cancel(),
                () = stop.cancelled() => {}
            }
        });
        if self.became.send(created).is_err() {
            // The request is gone: nobody can poll the task.
            return None;
        }
        Some((context, done))
    }
}

/// The task a call became, which takes the call's answer.
pub(super) struct Backgrounded {
    /// The task, as the call's questions see it.
    pub(super) context: TaskContext,
    /// Takes the call's answer.
    pub(super) done: oneshot::Sender<Outcome>,
}

impl Backgrounded {
    /// Ends the task with `outcome`: cancelled when the client cancelled it.
    pub(super) fn finish(self, outcome: Outcome) {
        let outcome = if self.context.is_cancel_requested() {
            Err(TaskExit::Cancelled)
        } else {
            outcome
        };
        let _ = self.done.send(outcome);
    }
}
