//! The MCP handler: the same tool names, schemas and answers as Corral
//! serving `calc.wasm` and `code_analyzer.wasm`, and the `type_echo` test
//! component's `echo_string` and `echo_list` (the size sweep's tools). `analyze_code` runs the
//! `code-analysis` crate and encodes its result the way Corral encodes the
//! WIT record, so the JSON and its text block are byte-identical to Corral's.

use std::sync::{Arc, LazyLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};

use code_analysis::{Analysis, Finding, Language, Severity};

/// The server; it has no state.
#[derive(Clone, Copy)]
pub struct NativeServer;

static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| {
    let finding = json!({
        "additionalProperties": false,
        "properties": {
            "line": {"maximum": 4294967295u32, "minimum": 0, "type": "integer"},
            "message": {"type": "string"},
            "rule": {"type": "string"},
            "severity": {"enum": ["info", "warning", "high"], "type": "string"}
        },
        "required": ["line", "rule", "message", "severity"],
        "type": "object"
    });
    let u32_schema = json!({"maximum": 4294967295u32, "minimum": 0, "type": "integer"});
    vec![
        tool(
            "add",
            "Adds two whole numbers and returns their exact sum.",
            json!({
                "additionalProperties": false,
                "properties": {
                    "a": {"maximum": i32::MAX, "minimum": i32::MIN, "type": "integer"},
                    "b": {"maximum": i32::MAX, "minimum": i32::MIN, "type": "integer"}
                },
                "required": ["a", "b"],
                "type": "object"
            }),
            json!({
                "additionalProperties": false,
                "properties": {"result": {"maximum": i64::MAX, "minimum": i64::MIN, "type": "integer"}},
                "required": ["result"],
                "type": "object"
            }),
        ),
        tool(
            "analyze_code",
            "Reviews source code for maintainability and security problems and \
             returns a quality score with a list of findings.",
            json!({
                "additionalProperties": false,
                "properties": {
                    "code": {"type": "string"},
                    "language": {"enum": ["python", "javascript", "rust"], "type": "string"}
                },
                "required": ["code", "language"],
                "type": "object"
            }),
            json!({
                "additionalProperties": false,
                "properties": {
                    "functions": u32_schema,
                    "lines_of_code": u32_schema,
                    "max_nesting_depth": u32_schema,
                    "quality_score": {"maximum": 255, "minimum": 0, "type": "integer"},
                    "suggestions": {"items": finding, "type": "array"},
                    "vulnerabilities": {"items": finding, "type": "array"}
                },
                "required": ["quality_score", "lines_of_code", "functions",
                             "max_nesting_depth", "suggestions", "vulnerabilities"],
                "type": "object"
            }),
        ),
        tool(
            "echo_string",
            "Returns `value` unchanged.",
            json!({
                "additionalProperties": false,
                "properties": {"value": {"type": "string"}},
                "required": ["value"],
                "type": "object"
            }),
            json!({
                "additionalProperties": false,
                "properties": {"result": {"type": "string"}},
                "required": ["result"],
                "type": "object"
            }),
        ),
        tool(
            "echo_list",
            "Returns the list of numbers `value` unchanged.",
            json!({
                "additionalProperties": false,
                "properties": {"value": {"items": u32_schema, "type": "array"}},
                "required": ["value"],
                "type": "object"
            }),
            json!({
                "additionalProperties": false,
                "properties": {"result": {"items": u32_schema, "type": "array"}},
                "required": ["result"],
                "type": "object"
            }),
        ),
    ]
});

fn tool(name: &'static str, description: &'static str, input: Value, output: Value) -> Tool {
    let (Value::Object(input), Value::Object(output)) = (input, output) else {
        unreachable!("schemas are objects")
    };
    Tool::new_with_raw(name, Some(description.into()), input)
        .with_raw_output_schema(Arc::new(output))
        .with_annotations(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .open_world(false),
        )
}

/// What a call answers: the structured value and its text block, or the
/// text of an `isError` result.
type Answer = Result<(Value, String), String>;

fn add(args: &Map<String, Value>) -> Answer {
    let operand = |name: &str| {
        args.get(name)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("invalid arguments for tool \"add\": {name} must be an s32"))
    };
    let sum = i64::from(operand("a")?) + i64::from(operand("b")?);
    Ok((json!({ "result": sum }), sum.to_string()))
}

/// `echo_string`: the string back, as Corral answers a `string` result.
fn echo_string(args: &Map<String, Value>) -> Answer {
    match args.get("value").and_then(Value::as_str) {
        Some(value) => Ok((json!({ "result": value }), value.to_owned())),
        None => Err("invalid arguments for tool \"echo_string\": value must be a string".into()),
    }
}

/// `echo_list`: the `list<u32>` back (checked element by element, as
/// Corral lowers it), its text block the JSON array.
fn echo_list(args: &Map<String, Value>) -> Answer {
    let invalid =
        || "invalid arguments for tool \"echo_list\": value must be a list of u32".to_owned();
    let items = args
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    let list = items
        .iter()
        .map(|item| {
            item.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(invalid)
        })
        .collect::<Result<Vec<u32>, String>>()?;
    let value = Value::from(list);
    let text = value.to_string();
    Ok((json!({ "result": value }), text))
}

fn analyze_code(args: &Map<String, Value>) -> Answer {
    let code = args.get("code").and_then(Value::as_str);
    let language = args
        .get("language")
        .and_then(Value::as_str)
        .and_then(language);
    match (code, language) {
        (Some(code), Some(language)) => {
            let analysis = analysis_json(&code_analysis::analyze(code, language));
            let text = analysis.to_string();
            Ok((analysis, text))
        }
        _ => Err(
            "invalid arguments for tool \"analyze_code\": give code (a string) \
                  and language (python, javascript or rust)"
                .to_owned(),
        ),
    }
}

/// The language named as Corral spells the WIT enum case in JSON.
fn language(name: &str) -> Option<Language> {
    match name {
        "python" => Some(Language::Python),
        "javascript" => Some(Language::Javascript),
        "rust" => Some(Language::Rust),
        _ => None,
    }
}

/// The `analysis` record as Corral encodes it: an object with the WIT
/// field names in snake_case, enum cases as their names. Corral's text block
/// is this value serialized compactly (`Value::to_string`).
fn analysis_json(analysis: &Analysis) -> Value {
    let findings = |list: &[Finding]| list.iter().map(finding_json).collect::<Vec<_>>();
    json!({
        "quality_score": analysis.quality_score,
        "lines_of_code": analysis.lines_of_code,
        "functions": analysis.functions,
        "max_nesting_depth": analysis.max_nesting_depth,
        "suggestions": findings(&analysis.suggestions),
        "vulnerabilities": findings(&analysis.vulnerabilities),
    })
}

fn finding_json(finding: &Finding) -> Value {
    let severity = match finding.severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::High => "high",
    };
    json!({
        "line": finding.line,
        "rule": finding.rule,
        "message": finding.message,
        "severity": severity,
    })
}

impl ServerHandler for NativeServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("native-server", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(TOOLS.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        TOOLS.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let empty = Map::new();
        let args = request.arguments.as_ref().unwrap_or(&empty);
        let answer = match request.name.as_ref() {
            "add" => add(args),
            "analyze_code" => analyze_code(args),
            "echo_string" => echo_string(args),
            "echo_list" => echo_list(args),
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "unknown tool {other:?}: tools/list names the tools this server offers"
                    ),
                    None,
                ));
            }
        };
        let result = match answer {
            Ok((value, text)) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(value);
                result
            }
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        Ok(result.into())
    }
}
