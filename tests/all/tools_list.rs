//! `tools/list`: every exported function is a tool, typed from its WIT and
//! described by its doc comment.

use serde_json::{Value, json};

use crate::support::Server;

fn schema(value: &std::sync::Arc<serde_json::Map<String, Value>>) -> Value {
    Value::Object((**value).clone())
}

#[tokio::test]
async fn example_tools_are_listed_typed_and_described() {
    let server = Server::standard().await;
    let tools = server.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "add",
        "divide",
        "analyze_code",
        "supported_languages",
        "statistics",
        "slugify",
        "regex_find",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let examples = tools
        .iter()
        .filter(|t| {
            !t.name.starts_with("echo_")
                && ![
                    "spin",
                    "fill_forever",
                    "remember",
                    "allocate",
                    "recurse",
                    "panic",
                    "forge_stdout",
                    "huge_string",
                    "noisy",
                    "ok",
                    "live_counters",
                ]
                .contains(&t.name.as_ref())
        })
        .count();
    assert!(
        examples >= 10,
        "at least ten example tools, got {examples}: {names:?}"
    );
    for tool in &tools {
        let description = tool.description.as_deref().unwrap_or("");
        assert!(
            description.len() > 20,
            "{} has a real description: {description:?}",
            tool.name
        );
        assert!(
            jsonschema::meta::is_valid(&schema(&tool.input_schema)),
            "{}",
            tool.name
        );
        if let Some(output) = &tool.output_schema {
            assert!(jsonschema::meta::is_valid(&schema(output)), "{}", tool.name);
        }
    }
    let add = tools.iter().find(|t| t.name == "add").unwrap();
    assert!(
        add.description
            .as_deref()
            .unwrap()
            .starts_with("Adds two whole numbers")
    );
    assert_eq!(
        schema(&add.input_schema),
        json!({
            "type": "object",
            "properties": {
                "a": {"type": "integer", "minimum": -2147483648i64, "maximum": 2147483647},
                "b": {"type": "integer", "minimum": -2147483648i64, "maximum": 2147483647},
            },
            "required": ["a", "b"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        schema(add.output_schema.as_ref().unwrap())["properties"]["result"],
        json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
    );
}

#[tokio::test]
async fn records_enums_and_flags_are_typed_in_snake_case() {
    let server = Server::standard().await;
    let tools = server.tools().await;
    let analyze = tools.iter().find(|t| t.name == "analyze_code").unwrap();
    let input = schema(&analyze.input_schema);
    assert_eq!(
        input["properties"]["language"]["enum"],
        json!(["python", "javascript", "rust"])
    );
    let output = schema(analyze.output_schema.as_ref().unwrap());
    assert_eq!(output["type"], "object", "a record result is not wrapped");
    assert_eq!(
        output["properties"]["quality_score"],
        json!({"type": "integer", "minimum": 0, "maximum": 255})
    );
    let regex = tools.iter().find(|t| t.name == "regex_find").unwrap();
    let options = &schema(&regex.input_schema)["properties"]["options"];
    assert_eq!(options["type"], "array");
    assert_eq!(
        options["items"]["enum"],
        json!(["ignore_case", "multi_line"])
    );
    let slugify = tools.iter().find(|t| t.name == "slugify").unwrap();
    assert_eq!(
        schema(&slugify.input_schema)["required"],
        json!(["text"]),
        "an option argument may be left out"
    );
}

#[tokio::test]
async fn functions_using_resources_are_skipped_with_a_warning() {
    let server = Server::standard().await;
    let tools = server.tools().await;
    for skipped in ["make_counter", "read_counter"] {
        assert!(
            !tools.iter().any(|t| t.name == skipped),
            "{skipped} must not be a tool"
        );
    }
    assert!(
        tools.iter().any(|t| t.name == "live_counters"),
        "the interface's other functions remain"
    );
    let stderr = server.stderr();
    assert!(
        stderr.contains("make-counter") && stderr.contains("skipping function"),
        "{stderr}"
    );
    assert!(stderr.contains("read-counter"), "{stderr}");
}
