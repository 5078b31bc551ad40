//! The MCP handler: `tools/list` and `tools/call` over the registry.
//!
//! A call goes: look the tool up → decode and check the arguments (the
//! guest does not run for an invalid call) → run it in the sandbox → render
//! the value, the WIT `result` error or the trap as a tool result. Every
//! failure a tool can have is an `isError` result, never a protocol error,
//! so the model reads it; only an unknown tool name is a protocol error.
//! A guest's log messages and progress reports go out while it runs
//! ([`notices`](super::notices)); resources, prompts and completion are
//! answered by [`served`](super::served).

// Logging is deprecated by SEP-2577, yet clients of both generations use it.
#![allow(deprecated)]

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use rmcp::task_manager::TaskExit;
use tokio_util::sync::CancellationToken;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
    CompleteRequestParams, CompleteResult, ContentBlock, GetPromptRequestParams, GetPromptResponse,
    GetTaskParams, GetTaskResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, PromptsCapability,
    ReadResourceRequestParams, ReadResourceResponse, ResourcesCapability, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter,
    TASKS_EXTENSION_ID, Tool, ToolAnnotations, UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::budget::{Budget, Exceeded};
use crate::capabilities::Captured;
use crate::config::ServerSettings;
use crate::registry::{Answer, Catalog, Registry, ToolSpec};
use crate::sandbox::{CallError, CallReport};
use crate::wit_json::{Limit, TooLarge};

use super::metrics::{Held, ToolSeries};
use super::notices::SessionLevel;
use super::questions::{self, Attended};
use super::rounds::Rounds;
use super::served::wire;
use super::talk::{Asked, Talk};
use super::tasks::{Backgrounded, Tasking, Tasks};
use super::{Metrics, Principal};

/// The MCP server over one registry; cheap to clone (one per session).
#[derive(Clone)]
pub struct CorralServer {
    pub(super) shared: Arc<Shared>,
    /// The log level this session's client set.
    pub(super) level: SessionLevel,
}

pub(super) struct Shared {
    registry: Registry,
    /// What the components serve besides tools.
    pub(super) catalog: Arc<Catalog>,
    metrics: Metrics,
    /// Each tool's metric series, in the registry's order.
    series: Vec<ToolSeries>,
    pub(super) max_result_size: u64,
    info: ServerConfig,
    tools: Vec<Tool>,
    /// Seals the answers of 2026 requests that ask their client.
    pub(super) rounds: Rounds,
    /// Calls that went on as tasks.
    pub(super) tasks: Arc<Tasks>,
}

/// How a call ended: with its answer, or waiting for its client's answers
/// to questions, which come with the retried request (2026 rounds).
enum Ran {
    /// The answer; `failed` when the tool did not produce one (a trap, a
    /// budget): a task then ends `failed` rather than `completed`.
    Answer {
        answer: Answer,
        failed: bool,
    },
    Retry(Attended),
}

impl Ran {
    /// An answer the tool did not produce.
    fn failed(answer: Answer) -> Ran {
        Ran::Answer {
            answer,
            failed: true,
        }
    }
}

impl CorralServer {
    /// A server offering the tools of `registry`, configured by `settings`.
    pub fn new(registry: Registry, settings: &ServerSettings) -> CorralServer {
        let tools = registry.tools().iter().map(|t| describe(t)).collect();
        let catalog = registry.catalog().clone();
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        if registry.tools().iter().any(|t| t.program.talks_to_client()) {
            capabilities.logging = Some(Default::default());
        }
        if catalog.serves_resources() {
            let mut resources = ResourcesCapability::default();
            // Subscriptions are accepted; a served resource changes only
            // when the component does, so no update is ever sent.
            resources.subscribe = Some(true);
            capabilities.resources = Some(resources);
        }
        if catalog.serves_prompts() {
            capabilities.prompts = Some(PromptsCapability::default());
        }
        if catalog.completes() {
            capabilities.completions = Some(Default::default());
        }
        if registry
            .tools()
            .iter()
            .any(|t| t.program.may_go_on_as_task())
        {
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .insert(TASKS_EXTENSION_ID.to_owned(), Default::default());
        }
        let mut info = ServerConfig::new(capabilities).with_server_info(Implementation::new(
            &settings.name,
            env!("CARGO_PKG_VERSION"),
        ));
        if let Some(instructions) = &settings.instructions {
            info = info.with_instructions(instructions);
        }
        let metrics = Metrics::default();
        let series = registry
            .tools()
            .iter()
            .map(|t| metrics.tool(&t.name))
            .collect();
        CorralServer {
            shared: Arc::new(Shared {
                registry,
                catalog,
                metrics,
                series,
                max_result_size: settings.max_result_size,
                info,
                tools,
                rounds: Rounds::new(),
                tasks: Arc::default(),
            }),
            level: SessionLevel::default(),
        }
    }

    /// The server for a new session: the same tools, its own log level.
    pub fn for_session(&self) -> CorralServer {
        CorralServer {
            shared: self.shared.clone(),
            level: SessionLevel::default(),
        }
    }

    /// The call metrics of this server.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Runs one call of `tool` and renders its answer, talking to its
    /// client through `talk`; with `tasking` it may go on as a task, which
    /// is returned to take the answer.
    async fn run(
        &self,
        tool: &ToolSpec,
        series: &ToolSeries,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        talk: &mut Talk<'_>,
        tasking: Option<Tasking>,
    ) -> (Ran, Option<Backgrounded>) {
        // A slot first: a waiting call holds its JSON request, never its
        // decoded arguments.
        let waiting = Held::new(&self.shared.metrics.open.calls_waiting);
        let reserved = tool.program.reserve(&context.ct).await;
        drop(waiting);
        let slot = match reserved {
            Ok(slot) => slot,
            Err(error) => {
                tracing::info!(tool = %tool.name, outcome = error.kind(), "call not run: {error}");
                self.shared.metrics.record(series, error.kind(), 0.0, 0, 0);
                return (Ran::failed(Answer::error(error.to_string())), None);
            }
        };
        let args = match tool.arguments(request.arguments.as_ref()) {
            Ok(args) => args,
            Err(errors) => {
                tracing::info!(tool = %tool.name, outcome = "invalid_arguments", "refused a call before running it");
                self.shared
                    .metrics
                    .record(series, "invalid_arguments", 0.0, 0, 0);
                let list: Vec<String> = errors.iter().map(|e| format!("- {e}")).collect();
                let answer = Answer::error(format!(
                    "invalid arguments for tool {:?} (nothing was run):\n{}\nSee the tool's inputSchema for the expected shape.",
                    tool.name,
                    list.join("\n")
                ));
                return (Ran::failed(answer), None);
            }
        };
        let running = Held::new(&self.shared.metrics.open.calls_running);
        // A call that may go on as a task stops with its task, not its
        // request.
        let cancel = tasking
            .as_ref()
            .map_or_else(|| context.ct.clone(), |t| t.stop.clone());
        let (report, mut attended) = talk
            .run(context, &self.level, tasking, |link| {
                tool.program
                    .call(slot, &tool.export, &args, tool.has_result(), link, &cancel)
            })
            .await;
        let task = attended.task.take();
        drop(running);
        if attended.ended_call() {
            tracing::info!(tool = %tool.name, outcome = "input_required", "call waits for its client's answers");
            self.shared.metrics.record(
                series,
                "input_required",
                report.duration.as_secs_f64(),
                report.fuel_used,
                report.peak_memory,
            );
            return (Ran::Retry(attended), task);
        }
        let mut report = report;
        log_output(&tool.name, "stdout", &report.stdout);
        log_output(&tool.name, "stderr", &report.stderr);
        let max_text = usize::try_from(self.shared.max_result_size).unwrap_or(usize::MAX);
        let too_large = |size: String| {
            Answer::error(format!(
                "the result is too large to send: {size} of text, and this server sends at most \
                 {} (call the tool with a smaller input, or raise server.max_result_size)",
                bytesize::ByteSize(self.shared.max_result_size)
                    .display()
                    .iec(),
            ))
        };
        let mut result_too_large = false;
        let answer = match &report.outcome {
            Ok(value) => {
                // Encoding is bounded while it happens, and what it
                // allocates counts against the call's host memory.
                let account = &report.host_memory;
                let stop = || account.exceeded();
                let limit = Limit {
                    max_text,
                    stop: &stop,
                };
                match account.charge_while(|| tool.answer(value.as_ref(), &limit)) {
                    Ok(answer) if answer.size() > max_text => {
                        result_too_large = true;
                        too_large(
                            bytesize::ByteSize(answer.size() as u64)
                                .display()
                                .iec()
                                .to_string(),
                        )
                    }
                    Ok(answer) => answer,
                    Err(TooLarge) if account.exceeded() => {
                        result_too_large = true;
                        Answer::error(
                            CallError::budget(
                                tool.program.name(),
                                Exceeded {
                                    budget: Budget::HostMemory,
                                    limit: account.limit(),
                                },
                            )
                            .to_string(),
                        )
                    }
                    Err(TooLarge) => {
                        result_too_large = true;
                        too_large("more than that".into())
                    }
                }
            }
            Err(error) => Answer::error(tool.program.redact(&error.to_string())),
        };
        let mut answer = answer;
        let outcome = match (&report.outcome, answer.is_error) {
            (_, _) if !report.denials.is_empty() => "denied",
            (Err(e), _) => e.kind(),
            (Ok(_), true) if result_too_large => "result_too_large",
            (Ok(_), true) => "tool_error",
            (Ok(_), false) => "ok",
        };
        answer.denials = std::mem::take(&mut report.denials);
        self.shared.metrics.record(
            series,
            outcome,
            report.duration.as_secs_f64(),
            report.fuel_used,
            report.peak_memory,
        );
        log_call(&tool.name, outcome, &report);
        let failed = report.outcome.is_err();
        let peak = report.host_memory.peak();
        drop(report);
        crate::budget::return_to_system(peak);
        (Ran::Answer { answer, failed }, task)
    }
}

/// The per-call log line, under the target [`CALLS_TARGET`]: at `info`
/// for a call that did not end well, at `debug` for one that did. Every
/// call is counted in the metrics either way; a success's line costs
/// about 20,000 instructions (formatting, the timestamp, the write), an
/// eighth of a small call (bench/RESULTS.md), for a line few operators
/// read. `RUST_LOG=info,corral::calls=debug` logs every call.
fn log_call(tool: &str, outcome: &str, report: &CallReport) {
    let duration_us = u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX);
    let (fuel, memory) = (report.fuel_used, report.peak_memory);
    if outcome == "ok" {
        tracing::debug!(target: CALLS_TARGET, tool, outcome, duration_us, fuel, memory, "call finished");
    } else {
        tracing::info!(target: CALLS_TARGET, tool, outcome, duration_us, fuel, memory, "call finished");
    }
}

/// The log target of the per-call lines (see [`log_call`]).
const CALLS_TARGET: &str = "corral::calls";

fn describe(tool: &ToolSpec) -> Tool {
    let mut t = Tool::new_with_raw(
        tool.name.clone(),
        tool.description.clone().map(Into::into),
        tool.input_schema.clone(),
    );
    if let Some(schema) = &tool.output_schema {
        t = t.with_raw_output_schema(schema.clone());
    }
    let hints = tool.hints;
    let mut annotations = ToolAnnotations::new()
        .read_only(hints.read_only)
        .destructive(hints.destructive)
        .open_world(hints.open_world);
    if let Some(idempotent) = hints.idempotent {
        annotations = annotations.idempotent(idempotent);
    }
    t = t.with_annotations(annotations);
    t
}

/// Who sent the request: over HTTP, what the bearer token allows; over
/// stdio, everything.
pub(super) fn principal(context: &RequestContext<RoleServer>) -> Principal {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
        .cloned()
        .unwrap_or_default()
}

/// Logs what a guest wrote, as one event whose text is escaped in every
/// log format: a guest cannot start a line of its own in the server's log.
fn log_output(tool: &str, stream: &str, captured: &Captured) {
    if captured.text.is_empty() {
        return;
    }
    tracing::info!(
        target: "corral::guest",
        tool,
        stream,
        dropped_bytes = captured.dropped,
        output = ?captured.text.trim_end(),
        "guest output"
    );
}

impl ServerHandler for CorralServer {
    fn get_info(&self) -> ServerConfig {
        self.shared.info.clone()
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(self.served_resources(&context))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(self.served_templates(&context))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Box::pin(self.read_served(request, &context)).await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(self.served_prompts(&context))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Box::pin(self.fill_prompt(request, &context)).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Box::pin(self.complete_served(request, &context)).await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // Resource subscriptions are accepted (the SDK keeps only what the
        // capabilities advertise); as with `resources/subscribe`, no update
        // is ever sent.
        let mut accepted = SubscriptionFilter::default();
        accepted
            .resource_subscriptions
            .clone_from(&requested.resource_subscriptions);
        Some(accepted)
    }

    async fn subscribe(
        &self,
        _request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn unsubscribe(
        &self,
        _request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.level.set(request.level);
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let principal = principal(&context);
        let tools = self
            .shared
            .tools
            .iter()
            .filter(|t| principal.allows(&t.name))
            .cloned()
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let task = self
            .shared
            .tasks
            .get(&request.task_id, &principal(&context))?;
        Ok(GetTaskResult::new(task))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let principal = principal(&context);
        self.shared
            .tasks
            .update(&request.task_id, &principal, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared
            .tasks
            .cancel(&request.task_id, &principal(&context))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let index = self.shared.registry.index_of(name)?;
        self.shared.tools.get(index).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let visible = principal(&context).allows(&request.name);
        let found = self
            .shared
            .registry
            .index_of(&request.name)
            .filter(|_| visible)
            .and_then(|i| Some((i, self.shared.registry.tools().get(i)?)));
        let Some((index, tool)) = found else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool {:?}: tools/list names the tools this server offers",
                    request.name
                ),
                None,
            ));
        };
        let may_go_on_as_task = tool.program.may_go_on_as_task()
            && context
                .client_capabilities()
                .is_some_and(|c| c.supports_tasks());
        if !may_go_on_as_task {
            return self.respond(index, request, context, None).await;
        }
        // The call runs on a tokio task of its own, so that it can go on
        // once its client has the answer (an MCP task). Until then, a
        // request that is dropped stops it.
        let stop = CancellationToken::new();
        let abandoned = stop.clone().drop_guard();
        let (tasking, became) = Tasking::new(
            self.shared.tasks.clone(),
            &principal(&context),
            stop.clone(),
            tool.program.limits().timeout,
        );
        let server = self.clone();
        let handling = tokio::spawn(async move {
            let _ended = stop.drop_guard();
            server.respond(index, request, context, Some(tasking)).await
        });
        let response = tokio::select! {
            biased;
            Ok(task) = became => Ok(CallToolResponse::Task(task)),
            answer = handling => answer.unwrap_or_else(|_| {
                Err(ErrorData::internal_error(
                    "the server failed while running the tool (retry; if it persists, the \
                     server's log says more)",
                    None,
                ))
            }),
        };
        abandoned.disarm();
        response
    }
}

impl CorralServer {
    /// Answers a call of the tool at `index` of the registry; with
    /// `tasking`, the call may go on as a task, and its answer then ends
    /// the task.
    async fn respond(
        &self,
        index: usize,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
        tasking: Option<Tasking>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (Some(tool), Some(series)) = (
            self.shared.registry.tools().get(index),
            self.shared.series.get(index),
        ) else {
            return Err(ErrorData::internal_error("the tool is gone (a bug)", None));
        };
        // A 2026 client's answers to the tool's earlier questions, from a
        // retry: refused before anything runs when its state is not this
        // call's.
        let asked = Asked {
            method: "tools/call",
            name: &request.name,
            arguments: request.arguments.as_ref(),
            state: request.request_state.as_deref(),
            responses: request.input_responses.as_ref(),
        };
        let mut talk = Talk::open(&self.shared.rounds, Some(&tool.program), &context, &asked)?;
        // A panic anywhere below becomes an error answer: an unanswered
        // request would hold its place among the requests in flight. The
        // call's future is boxed: the request's own future, which the
        // runtime moves when it spawns it, stays small (unboxed, moving it
        // was 8 % of a sequential call's server CPU).
        let ran = AssertUnwindSafe(Box::pin(
            self.run(tool, series, &request, &context, &mut talk, tasking),
        ))
        .catch_unwind()
        .await;
        let (answer, failed, task) = match ran {
            Ok((Ran::Answer { answer, failed }, task)) => (answer, failed, task),
            Ok((Ran::Retry(attended), task)) => {
                let what = format!("tool {:?}", tool.name);
                // Before 2026 a client cannot take -32021: the model reads
                // what is lacking in a tool error.
                let response = if !talk.stateless()
                    && let Some(lacking) = questions::lacking(&attended, &what)
                {
                    Ok(CallToolResult::error(vec![ContentBlock::text(lacking.message)]).into())
                } else {
                    talk.end(attended, &what).map(Into::into)
                };
                if let Some(task) = task {
                    let error = match &response {
                        Err(error) => error.clone(),
                        Ok(_) => {
                            ErrorData::internal_error(what + " ended waiting for answers", None)
                        }
                    };
                    task.finish(Err(TaskExit::Error(error)));
                }
                return response;
            }
            Err(_) => {
                tracing::error!(tool = %tool.name, "the server failed while running a call (a bug)");
                self.shared.metrics.record(series, "host", 0.0, 0, 0);
                let answer = Answer::error(
                    "internal error: the server failed while running the tool (retry; if it \
                     persists, the server's log says more)",
                );
                (answer, true, None)
            }
        };
        // Denials explain an error, so they join its text; next to a
        // success they are a note of their own.
        let denials = answer.denials.join("\n");
        let content = match (answer.content, answer.denials.is_empty(), answer.is_error) {
            (Some(content), true, _) => content.into_iter().map(wire).collect(),
            (Some(content), false, _) => content
                .into_iter()
                .map(wire)
                .chain([ContentBlock::text(denials)])
                .collect(),
            (None, true, _) => vec![ContentBlock::text(answer.text)],
            (None, false, true) => {
                vec![ContentBlock::text(format!("{}\n{denials}", answer.text))]
            }
            (None, false, false) => {
                vec![ContentBlock::text(answer.text), ContentBlock::text(denials)]
            }
        };
        let mut result = if answer.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        result.structured_content = answer.structured;
        if let Some(task) = task {
            // A task that produced no result failed; a tool error is a
            // result (`completed`, `isError`).
            let outcome = if failed {
                let text = answer_text(&result);
                Err(TaskExit::Error(ErrorData::internal_error(text, None)))
            } else {
                Ok(result.clone())
            };
            task.finish(outcome);
        }
        Ok(result.into())
    }
}

/// The text of a result's content, for a failed task's error message.
fn answer_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}
