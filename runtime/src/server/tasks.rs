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
use std::time::Duration;

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

/// Bytes of finished tasks' results kept at once (as JSON): beyond, a
/// task fails saying its result could not be kept.
pub(super) const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;

/// How long a finished task is kept; a running one may take this long
/// beyond its call's `timeout` (time spent waiting for answers included)
/// before it expires and its tool is stopped.
const TTL: Duration = Duration::from_millis(DEFAULT_TASK_TTL_MS);

/// What the answer of a task's call becomes: its result (`completed`), a
/// failure (`failed`) or nothing (`cancelled`).
pub(super) type Outcome = Result<CallToolResult, TaskExit>;

/// The server's tasks, with their owners.
#[derive(Default)]
pub(super) struct Tasks {
    manager: TaskManager,
    /// Each task's owner (the caller's principal) and the size of its
    /// kept result.
    owners: Mutex<HashMap<String, Owned>>,
}

/// What the server knows of one of its tasks.
struct Owned {
    owner: String,
    kept_bytes: usize,
}

impl Tasks {
    /// Starts a task for a call of `owner` limited to `timeout`, whose
    /// answer comes later through the returned sender; a dropped task (it
    /// ended or expired) cancels `stop`. `None` when [`MAX_TASKS`] are kept.
    fn start(
        &self,
        owner: &str,
        timeout: Duration,
        stop: CancellationToken,
    ) -> Option<(CreateTaskResult, TaskContext, oneshot::Sender<Outcome>)> {
        let mut owners = self.owners.lock().ok()?;
        self.forget_gone(&mut owners);
        if owners.len() >= MAX_TASKS {
            tracing::warn!(
                max = MAX_TASKS,
                "a call asked to go on as a task and did not: the server keeps at most this many"
            );
            return None;
        }
        let (done, answer) = oneshot::channel::<Outcome>();
        let mut context = None;
        let ttl = TTL.saturating_add(timeout);
        let options = TaskOptions::new()
            .with_ttl_ms(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .with_poll_interval_ms(DEFAULT_POLL_INTERVAL_MS);
        let task = self.manager.spawn(options, |task_context| {
            context = Some(task_context);
            Box::pin(async move {
                // Dropped when the task ends or expires: either way the
                // tool has nothing more to do.
                let _stop = stop.drop_guard();
                answer.await.unwrap_or_else(|_| {
                    Err(TaskExit::Error(ErrorData::internal_error(
                        "the call ended without an answer (a bug in the server)",
                        None,
                    )))
                })
            })
        });
        let owned = Owned {
            owner: owner.to_owned(),
            kept_bytes: 0,
        };
        owners.insert(task.task_id.clone(), owned);
        Some((CreateTaskResult::new(task), context?, done))
    }

    /// Forgets the tasks the manager no longer keeps (expired).
    fn forget_gone(&self, owners: &mut HashMap<String, Owned>) {
        owners.retain(|id, _| self.manager.get_task(id).is_ok());
    }

    /// Whether a result of `bytes` may be kept for the task `id`, counting
    /// it if so.
    fn keep(&self, id: &str, bytes: usize) -> bool {
        let Ok(mut owners) = self.owners.lock() else {
            return false;
        };
        self.forget_gone(&mut owners);
        let kept: usize = owners.values().map(|o| o.kept_bytes).sum();
        if kept.saturating_add(bytes) > MAX_KEPT_BYTES {
            return false;
        }
        if let Some(owned) = owners.get_mut(id) {
            owned.kept_bytes = bytes;
        }
        true
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
            .map(|owners| owners.get(id).is_some_and(|o| o.owner == owner))
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
    /// The call's `limits.timeout`.
    timeout: Duration,
}

impl Tasking {
    /// A tasking for a call of `principal`; the receiver hears of the task.
    pub(super) fn new(
        tasks: Arc<Tasks>,
        principal: &Principal,
        stop: CancellationToken,
        timeout: Duration,
    ) -> (Tasking, oneshot::Receiver<CreateTaskResult>) {
        let (became, task) = oneshot::channel();
        let tasking = Tasking {
            tasks,
            owner: owner(principal),
            became,
            stop,
            timeout,
        };
        (tasking, task)
    }

    /// Makes the call a task: the client gets it as the answer, and a
    /// cancelled or expired task stops the call. `None` when no task can be
    /// kept.
    pub(super) fn start(self) -> Option<Backgrounded> {
        let stop = self.stop;
        let (created, context, done) = self.tasks.start(&self.owner, self.timeout, stop.clone())?;
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
        Some(Backgrounded {
            context,
            done,
            tasks: self.tasks,
        })
    }
}

/// The task a call became, which takes the call's answer.
pub(super) struct Backgrounded {
    /// The task, as the call's questions see it.
    pub(super) context: TaskContext,
    /// Takes the call's answer.
    done: oneshot::Sender<Outcome>,
    tasks: Arc<Tasks>,
}

impl Backgrounded {
    /// Ends the task with `outcome`: cancelled when the client cancelled it.
    pub(super) fn finish(self, outcome: Outcome) {
        let outcome = match outcome {
            _ if self.context.is_cancel_requested() => Err(TaskExit::Cancelled),
            Ok(result) => {
                let bytes = serde_json::to_vec(&result).map_or(usize::MAX, |json| json.len());
                if self.tasks.keep(self.context.task_id(), bytes) {
                    Ok(result)
                } else {
                    Err(TaskExit::Error(ErrorData::internal_error(
                        format!(
                            "the result ({}) cannot be kept: this server keeps at most {} of \
                             task results at once (call again later, or without tasks)",
                            bytesize::ByteSize(bytes as u64).display().iec(),
                            bytesize::ByteSize(MAX_KEPT_BYTES as u64).display().iec(),
                        ),
                        None,
                    )))
                }
            }
            failed => failed,
        };
        let _ = self.done.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(tasks: &Tasks) -> (String, oneshot::Sender<Outcome>) {
        let stop = CancellationToken::new();
        let (created, context, done) = tasks
            .start("", Duration::from_secs(1), stop)
            .unwrap_or_else(|| panic!("no task"));
        assert_eq!(created.task.task_id, context.task_id());
        (created.task.task_id, done)
    }

    #[tokio::test]
    async fn results_are_kept_within_the_byte_budget() {
        let tasks = Tasks::default();
        let (first, _done) = started(&tasks);
        let (second, _done2) = started(&tasks);
        assert!(tasks.keep(&first, MAX_KEPT_BYTES - 10));
        // The budget is shared: the second result does not fit beside it.
        assert!(!tasks.keep(&second, 11));
        assert!(tasks.keep(&second, 10));
    }

    #[tokio::test]
    async fn a_task_is_its_owners_only() {
        let tasks = Tasks::default();
        let (id, _done) = started(&tasks);
        assert!(tasks.get(&id, &Principal::default()).is_ok());
        let refused = tasks.get("no-such-task", &Principal::default());
        assert!(refused.is_err_and(|e| e.message.contains("no task has the id")));
    }

    #[tokio::test]
    async fn an_ended_task_stops_its_call() {
        let tasks = Tasks::default();
        let stop = CancellationToken::new();
        let started = tasks.start("", Duration::from_secs(1), stop.clone());
        let (_, _, done) = started.unwrap_or_else(|| panic!("no task"));
        let _ = done.send(Err(TaskExit::Cancelled));
        tokio::time::timeout(Duration::from_secs(10), stop.cancelled())
            .await
            .unwrap_or_else(|_| panic!("the call was not stopped"));
    }
}
