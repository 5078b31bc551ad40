//! Tools written in Python and JavaScript, served and called like the Rust
//! ones.
//!
//! `guest-tools/py-units` is built with componentize-py and
//! `guest-tools/js-csv-stats` with jco and ComponentizeJS, by
//! `guest-tools/scripts/build-other-languages`, which `tests/artifacts`
//! runs (the toolchains come from `scripts/install-test-clients`). Neither
//! toolchain keeps WIT doc comments in the component; [`described`] writes
//! them in with `corral docs embed`. Each test serves one component with the
//! real binary and drives it through rmcp's client: the tool list (names,
//! descriptions, and schemas shaped from the WIT records, enums and
//! variants), calls that succeed, and calls that take the tool's `result`
//! error path.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Server, corral, error, ok};

/// The inputSchema of a listed tool, as JSON.
fn input_schema(tools: &[rmcp::model::Tool], name: &str) -> Value {
    let tool = tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} is not listed"));
    Value::Object((*tool.input_schema).clone())
}

/// The error answer of a call, parsed: a WIT `result` error comes back as
/// its JSON rendering.
fn error_value(result: &rmcp::model::CallToolResult) -> Value {
    let text = error(result);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The component at `component` with the doc comments of `wit` written in
/// by `corral docs embed`: the docs step of a tool built by another
/// language's toolchain. The copy goes to the test run's own directory, under
/// the same name each time, so that the compiled-component cache serves
/// every run after the first.
fn described(component: &Path, wit: &Path) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("languages");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(component.file_name().unwrap());
    let output = corral()
        .args(["docs", "embed", "--wit"])
        .arg(wit)
        .arg(component)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "corral docs embed failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// The description of a listed tool.
fn description<'a>(tools: &'a [rmcp::model::Tool], name: &str) -> &'a str {
    tools
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.description.as_deref())
        .unwrap_or_else(|| panic!("{name} has no description"))
}

/// The `wit/` folder of a tool in `guest-tools`.
fn wit_of(tool: &str) -> PathBuf {
    Path::new(corral_test_artifacts::GUEST_TOOLS_DIR)
        .join(tool)
        .join("wit")
}

/// A config serving `component` as component `name`.
fn config(name: &str, component: &Path) -> String {
    format!(
        "[components.{name}]\npath = {:?}\n",
        component.display().to_string()
    )
}

#[tokio::test]
async fn a_python_tool_is_typed_from_its_wit_and_called() {
    let units = described(corral_test_artifacts::py_units(), &wit_of("py-units"));
    let server = Server::start(&config("units", &units)).await;
    let tools = server.tools().await;

    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["convert", "list_units"],
        "the world's exports, and not componentize-py's own `init`"
    );
    assert!(
        description(&tools, "convert")
            .starts_with("Converts a quantity into another unit of the same dimension"),
        "the WIT doc comment: {}",
        description(&tools, "convert")
    );
    assert!(
        description(&tools, "list_units").starts_with("Lists the units `convert` understands"),
        "{}",
        description(&tools, "list_units")
    );
    let dimensions = json!([
        "length",
        "mass",
        "temperature",
        "volume",
        "speed",
        "time",
        "data"
    ]);
    let convert = input_schema(&tools, "convert");
    assert_eq!(convert["required"], json!(["quantity", "to"]));
    assert_eq!(
        convert["properties"]["quantity"],
        json!({
            "type": "object",
            "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
            "required": ["value", "unit"],
            "additionalProperties": false,
        }),
        "a WIT record becomes an object with its fields"
    );
    let rounding = &convert["properties"]["rounding"]["anyOf"][0]["oneOf"];
    assert_eq!(rounding[0], json!({"type": "string", "enum": ["exact"]}));
    assert_eq!(
        rounding[1]["properties"]["decimals"],
        json!({"type": "integer", "minimum": 0, "maximum": 255}),
        "a variant case with a payload is a one-key object"
    );
    assert_eq!(
        input_schema(&tools, "list_units")["properties"]["dimension"]["anyOf"][0],
        json!({"type": "string", "enum": dimensions}),
        "a WIT enum becomes a string enum"
    );

    let miles = ok(&server
        .call(
            "convert",
            json!({"quantity": {"value": 3.5, "unit": "km"}, "to": "miles"}),
        )
        .await);
    assert_eq!(miles["converted"]["unit"], "mi");
    let value = miles["converted"]["value"].as_f64().unwrap();
    assert!((value - 3500.0 / 1609.344).abs() < 1e-12, "{miles}");
    assert_eq!(miles["dimension"], "length");
    assert_eq!(miles["original"], json!({"value": 3.5, "unit": "km"}));

    let boiling = ok(&server
        .call(
            "convert",
            json!({
                "quantity": {"value": 212, "unit": "degF"},
                "to": "celsius",
                "rounding": {"decimals": 2},
            }),
        )
        .await);
    assert_eq!(
        boiling["converted"],
        json!({"value": 100.0, "unit": "degC"})
    );
    assert_eq!(boiling["summary"], "212 degF = 100 degC");

    let temperatures = ok(&server
        .call("list_units", json!({"dimension": "temperature"}))
        .await);
    let symbols: Vec<&str> = temperatures["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["K", "degC", "degF", "degR"]);

    assert_eq!(
        error_value(
            &server
                .call(
                    "convert",
                    json!({"quantity": {"value": 1, "unit": "kg"}, "to": "m"}),
                )
                .await
        ),
        json!({"incompatible_units": {
            "from": "kg", "from_dimension": "mass", "to": "m", "to_dimension": "length",
        }}),
        "the tool's own error, a variant case with a record"
    );
    assert_eq!(
        error_value(
            &server
                .call(
                    "convert",
                    json!({"quantity": {"value": 1, "unit": "furlong"}, "to": "m"}),
                )
                .await
        ),
        json!({"unknown_unit": "furlong"})
    );
    let cold = error_value(
        &server
            .call(
                "convert",
                json!({"quantity": {"value": -300, "unit": "degC"}, "to": "K"}),
            )
            .await,
    );
    assert!(
        cold["below_absolute_zero"].as_f64().unwrap() < 0.0,
        "{cold}"
    );
    let refused = error(
        &server
            .call("list_units", json!({"dimension": "colour"}))
            .await,
    );
    assert!(
        refused.starts_with("invalid arguments for tool \"list_units\" (nothing was run)"),
        "Corral checks the enum before the guest runs: {refused}"
    );
}

#[tokio::test]
async fn a_javascript_tool_is_typed_from_its_wit_and_called() {
    let csv = described(
        corral_test_artifacts::js_csv_stats(),
        &wit_of("js-csv-stats"),
    );
    let server = Server::start(&config("csv", &csv)).await;
    let tools = server.tools().await;

    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["summarize"]);
    assert!(
        description(&tools, "summarize").starts_with("Summarises CSV text column by column"),
        "the WIT doc comment: {}",
        description(&tools, "summarize")
    );
    let summarize = input_schema(&tools, "summarize");
    assert_eq!(summarize["required"], json!(["csv"]));
    let options = &summarize["properties"]["options"]["anyOf"][0];
    assert_eq!(options["required"], json!([]), "every field is an option");
    assert_eq!(
        options["properties"]["delimiter"]["anyOf"][0]["oneOf"],
        json!([
            {"type": "string", "enum": ["comma", "semicolon", "tab"]},
            {
                "type": "object",
                "properties": {"other": {"type": "string", "minLength": 1, "maxLength": 1}},
                "required": ["other"],
                "additionalProperties": false,
            },
        ]),
        "a variant: its cases without payload by name, `other(char)` as an object"
    );

    let summary = ok(&server
        .call(
            "summarize",
            json!({"csv": "name,age,member\nann,31,true\nbob,,false\n\"cy, jr\",40,TRUE\n"}),
        )
        .await);
    assert_eq!(summary["rows"], 3);
    let columns = summary["columns"].as_array().unwrap();
    let kinds: Vec<&str> = columns
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["text", "numeric", "boolean"]);
    assert_eq!(columns[0]["top"][2]["value"], "cy, jr", "a quoted field");
    assert_eq!(columns[1]["count"], 2);
    assert_eq!(columns[1]["missing"], 1);
    assert_eq!(
        columns[1]["numeric"],
        json!({"min": 31.0, "max": 40.0, "mean": 35.5, "median": 35.5, "std_dev": 4.5, "sum": 71.0})
    );
    assert_eq!(columns[0]["numeric"], Value::Null);

    let piped = ok(&server
        .call(
            "summarize",
            json!({
                "csv": "1|x\n2|x\n3|y\n",
                "options": {"delimiter": {"other": "|"}, "has_header": false, "top": 1},
            }),
        )
        .await);
    assert_eq!(piped["rows"], 3);
    assert_eq!(piped["columns"][0]["name"], "column_1");
    assert_eq!(piped["columns"][0]["numeric"]["sum"], 6.0);
    assert_eq!(
        piped["columns"][1]["top"],
        json!([{"value": "x", "count": 2}])
    );

    assert_eq!(
        error_value(
            &server
                .call(
                    "summarize",
                    json!({"csv": "a;b\n1;2\n3\n", "options": {"delimiter": "semicolon"}})
                )
                .await
        ),
        json!({"line": 3, "message": "row has 1 fields, the header has 2"}),
        "the tool's own error record, naming the line"
    );
    assert_eq!(
        error_value(
            &server
                .call("summarize", json!({"csv": "a\n\"open\n"}))
                .await
        ),
        json!({"line": 2, "message": "a quoted field is never closed"})
    );
    let refused = error(
        &server
            .call(
                "summarize",
                json!({"csv": "a\n1\n", "options": {"top": 300}}),
            )
            .await,
    );
    assert!(
        refused.starts_with("invalid arguments for tool \"summarize\" (nothing was run)"),
        "Corral checks the u8 range before the guest runs: {refused}"
    );
}

/// The Python tool logs each conversion through `corral:mcp/log`: the
/// official Python SDK, having asked for debug messages, receives it.
#[test]
fn a_python_tool_logs_to_the_client_through_corral_mcp() {
    let units = described(corral_test_artifacts::py_units(), &wit_of("py-units"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corral.toml");
    std::fs::write(&path, config("units", &units)).unwrap();
    let arguments = r#"{"quantity": {"value": 100, "unit": "C"}, "to": "F"}"#;
    let out = crate::clients::call_once(&path, "convert", arguments);
    let context = out.to_string();
    assert_eq!(out["is_error"], json!(false), "{context}");
    assert_eq!(
        out["logs"],
        json!([{
            "level": "debug",
            "data": "degree Celsius -> degree Fahrenheit through the base unit: 373.15",
            "logger": "units"
        }]),
        "{context}"
    );
}
