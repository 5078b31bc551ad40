//! Calls that go on as tasks (`corral:mcp/task`, the MCP tasks extension)
//! and prompts that ask their client, through rmcp's client against the
//! real binary over streamable HTTP: a task is its caller's alone, answers
//! its questions through `tasks/update`, stops when cancelled (freeing its
//! call slot) and keeps the call's budgets; a client without the extension
//! gets an ordinary call, or the error that says to declare it. The tools
//! are the conformance component's task fixtures.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities,
    ElicitRequestParams, ElicitResult, ElicitationAction, GetPromptRequestParams, GetTaskParams,
    Implementation, InitializeRequestParams, ProtocolVersion, TaskStatus, UpdateTaskParams,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::{Value, json};

use crate::front_door::{Corral, FULL_TOKEN, GUARD, OTHER_TOKEN, config};

/// A client that declares what `tasks` and `forms` say, and accepts every
/// form with `answer`.
#[derive(Clone)]
struct TestClient {
    tasks: bool,
    forms: bool,
    answer: Value,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> InitializeRequestParams {
        let mut capabilities = ClientCapabilities::default();
        if self.tasks {
            capabilities = ClientCapabilities::builder().enable_tasks().build();
        }
        if self.forms {
            capabilities.elicitation = Some(Default::default());
        }
        InitializeRequestParams::new(capabilities, Implementation::new("corral-tasks-test", "1"))
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(self.answer.clone()))
    }
}

/// The conformance component served over HTTP with the test tokens, its
/// `limits` table as given, `max_concurrent_calls` as given.
fn server(limits: &str, slots: u32) -> Corral {
    let config = config(
        &format!("max_concurrent_calls = {slots}"),
        "",
        "tokens_file = \"TOKENS_FILE\"",
    );
    Corral::http(&format!(
        "{config}\n[components.conformance]\npath = \"{}\"\nlimits = {limits}\n",
        corral_test_artifacts::conformance().display()
    ))
}

/// A client of `server` with `token`, in the 2026-07-28 protocol (`None`:
/// 2025-11-25, with a session).
async fn client(
    server: &Corral,
    token: &str,
    handler: TestClient,
    version: Option<ProtocolVersion>,
) -> RunningService<RoleClient, TestClient> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(server.mcp()).auth_header(token),
    );
    let mode = match version {
        Some(version) => ClientLifecycleMode::Discover {
            preferred_versions: vec![version],
        },
        None => ClientLifecycleMode::Initialize,
    };
    handler.serve_with_lifecycle(transport, mode).await.unwrap()
}

/// A 2026-07-28 client of `server` with the full token that takes tasks.
async fn owner_2026(server: &Corral) -> RunningService<RoleClient, TestClient> {
    let version = Some(ProtocolVersion::V_2026_07_28);
    client(server, FULL_TOKEN, tasks_client(), version).await
}

fn tasks_client() -> TestClient {
    TestClient {
        tasks: true,
        forms: true,
        answer: json!({"confirm": true}),
    }
}

fn call(tool: &str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

/// Calls `tool` and returns the id of the task it became.
async fn task_of(
    client: &RunningService<RoleClient, TestClient>,
    tool: &str,
    args: Value,
) -> String {
    match client.call_tool_once(call(tool, args)).await.unwrap() {
        CallToolResponse::Task(task) => task.task.task_id,
        other => panic!("{tool} did not become a task: {other:?}"),
    }
}

/// Polls the task `id` until it is `status` (or a terminal one); returns
/// its last state as JSON.
async fn until_status(
    client: &RunningService<RoleClient, TestClient>,
    id: &str,
    status: TaskStatus,
) -> Value {
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        let task = client.get_task(GetTaskParams::new(id)).await.unwrap();
        let now = &task.task.task.status;
        let terminal = matches!(
            now,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        );
        if *now == status || terminal {
            return serde_json::to_value(&task).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for task {id} to be {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_long_call_goes_on_as_a_task_only_its_caller_sees() {
    let server = server("{}", 4);
    let v2026 = Some(ProtocolVersion::V_2026_07_28);
    let owner = client(&server, FULL_TOKEN, tasks_client(), v2026.clone()).await;
    let other = client(&server, OTHER_TOKEN, tasks_client(), v2026).await;
    let id = task_of(&owner, "slow_compute", json!({"seconds": 1, "label": "x"})).await;

    // Another caller learns nothing of it, and can neither answer nor
    // cancel it.
    let refused = other.get_task(GetTaskParams::new(&id)).await.unwrap_err();
    assert!(
        refused.to_string().contains("no task has the id"),
        "{refused}"
    );
    assert!(other.cancel_task(CancelTaskParams::new(&id)).await.is_err());
    let update = UpdateTaskParams::new(&id, Default::default());
    assert!(other.update_task(update).await.is_err());

    let done = until_status(&owner, &id, TaskStatus::Completed).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["content"][0]["text"], "Computed x in 1 s",
        "{done}"
    );

    // A short call of the same tool stays an ordinary one.
    let quick = owner.call_tool_once(call("slow_compute", json!({"seconds": 0, "label": "y"})));
    assert!(matches!(
        quick.await.unwrap(),
        CallToolResponse::Complete(_)
    ));
}

#[tokio::test]
async fn a_task_asks_through_tasks_update_and_a_cancelled_one_frees_its_slot() {
    // One call slot: the cancelled task must give it back for the next call.
    let server = server("{ timeout = \"120s\" }", 1);
    let owner = owner_2026(&server).await;
    let id = task_of(&owner, "confirm_delete", json!({"filename": "a.txt"})).await;
    let waiting = until_status(&owner, &id, TaskStatus::InputRequired).await;
    let form = &waiting["inputRequests"]["confirm_delete"];
    assert_eq!(form["method"], "elicitation/create", "{waiting}");
    let answer = json!({"action": "accept", "content": {"confirm": true}});
    let responses = [("confirm_delete".to_owned(), answer)].into();
    owner
        .update_task(UpdateTaskParams::new(&id, responses))
        .await
        .unwrap();
    let done = until_status(&owner, &id, TaskStatus::Completed).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "Deleted a.txt",
        "{done}"
    );

    let id = task_of(
        &owner,
        "slow_compute",
        json!({"seconds": 100, "label": "z"}),
    )
    .await;
    owner.cancel_task(CancelTaskParams::new(&id)).await.unwrap();
    let cancelled = until_status(&owner, &id, TaskStatus::Cancelled).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    // Its slot is free: the server's one slot answers the next call.
    let next = owner.call_tool_once(call("greet", json!({"name": "next"})));
    match next.await.unwrap() {
        CallToolResponse::Complete(result) => assert!(result.is_error != Some(true)),
        other => panic!("greet: {other:?}"),
    }
}

#[tokio::test]
async fn a_task_keeps_the_calls_budgets() {
    let server = server("{ timeout = \"1s\" }", 2);
    let owner = owner_2026(&server).await;
    let id = task_of(
        &owner,
        "slow_compute",
        json!({"seconds": 100, "label": "t"}),
    )
    .await;
    let ended = until_status(&owner, &id, TaskStatus::Failed).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    let message = ended["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("time"), "{ended}");

    // A trap is a failed task too; a tool error is a completed one.
    let id = task_of(&owner, "protocol_error_job", json!({})).await;
    let trapped = until_status(&owner, &id, TaskStatus::Failed).await;
    assert_eq!(trapped["status"], "failed", "{trapped}");
    let id = task_of(&owner, "failing_job", json!({})).await;
    let failed = until_status(&owner, &id, TaskStatus::Completed).await;
    assert_eq!(failed["result"]["isError"], true, "{failed}");
}

#[tokio::test]
async fn a_client_without_tasks_gets_an_ordinary_call_or_is_told_to_declare_them() {
    let server = server("{}", 4);
    let plain = TestClient {
        tasks: false,
        ..tasks_client()
    };
    for version in [Some(ProtocolVersion::V_2026_07_28), None] {
        let client = client(&server, FULL_TOKEN, plain.clone(), version.clone()).await;
        let optional =
            client.call_tool_once(call("slow_compute", json!({"seconds": 1, "label": "o"})));
        match optional.await.unwrap() {
            CallToolResponse::Complete(result) => {
                assert_eq!(
                    result.content[0].as_text().unwrap().text,
                    "Computed o in 1 s"
                );
            }
            other => panic!("{version:?}: {other:?}"),
        }
        let required = client.call_tool_once(call("failing_job", json!({}))).await;
        match (version.is_some(), required) {
            // 2026-07-28: -32021, naming the extension.
            (true, Err(error)) => {
                let text = format!("{error:?}");
                assert!(text.contains("io.modelcontextprotocol/tasks"), "{text}");
            }
            // 2025-11-25: a tool error the model reads.
            (false, Ok(CallToolResponse::Complete(result))) => {
                assert_eq!(result.is_error, Some(true));
                let text = &result.content[0].as_text().unwrap().text;
                assert!(text.contains("io.modelcontextprotocol/tasks"), "{text}");
            }
            (_, other) => panic!("{version:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_2025_session_takes_tasks_and_prompts_ask_their_client() {
    let server = server("{}", 4);
    let handler = TestClient {
        answer: json!({"context": "from the test"}),
        ..tasks_client()
    };
    let session = client(&server, FULL_TOKEN, handler, None).await;
    let id = task_of(
        &session,
        "slow_compute",
        json!({"seconds": 1, "label": "s"}),
    )
    .await;
    let done = until_status(&session, &id, TaskStatus::Completed).await;
    assert_eq!(done["status"], "completed", "{done}");

    // A prompt asks the user by a server-to-client request, and is filled
    // in with the answer.
    let prompt = GetPromptRequestParams::new("test_input_required_result_prompt");
    let filled = session.get_prompt(prompt).await.unwrap();
    let text = serde_json::to_string(&filled).unwrap();
    assert!(text.contains("from the test"), "{text}");
}
