//! Every WIT type, both ways, through a real guest: the `type-echo`
//! component returns its argument, so what comes back must equal what went
//! in, and must validate against the tool's output schema.

use serde_json::{Value, json};

use crate::support::{Server, error, ok, standard_config};

async fn echo_all(server: &Server, cases: &[(&str, Value)]) {
    let tools = server.tools().await;
    for (tool, value) in cases {
        let result = server.call(tool, json!({ "value": value })).await;
        let structured = ok(&result);
        // A record is structuredContent as it is; other values are wrapped.
        let expected = if *tool == "echo_record" {
            value.clone()
        } else {
            json!({ "result": value })
        };
        assert_eq!(structured, expected, "{tool}");
        let spec = tools.iter().find(|t| t.name == *tool).unwrap();
        let schema = Value::Object((*spec.output_schema.clone().unwrap()).clone());
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(
            validator.is_valid(&structured),
            "{tool}: {structured} against {schema}"
        );
        let input = Value::Object((*spec.input_schema).clone());
        assert!(
            jsonschema::validator_for(&input)
                .unwrap()
                .is_valid(&json!({ "value": value })),
            "{tool}: input {value} against {input}"
        );
    }
}

#[tokio::test]
async fn every_scalar_type_round_trips_at_its_bounds() {
    let server = Server::start(&standard_config()).await;
    echo_all(
        &server,
        &[
            ("echo_bool", json!(true)),
            ("echo_s8", json!(-128)),
            ("echo_s8", json!(127)),
            ("echo_u8", json!(255)),
            ("echo_s16", json!(-32768)),
            ("echo_u16", json!(65535)),
            ("echo_s32", json!(-2147483648i64)),
            ("echo_u32", json!(4294967295u64)),
            ("echo_s64", json!(i64::MIN)),
            ("echo_u64", json!(u64::MAX)),
            ("echo_f32", json!(0.1)),
            ("echo_f64", json!(-1.5e300)),
            ("echo_char", json!("🦀")),
            ("echo_string", json!("héllo\n\"quoted\"")),
        ],
    )
    .await;
}

#[tokio::test]
async fn every_compound_type_round_trips() {
    let server = Server::start(&standard_config()).await;
    let person = json!({
        "full_name": "Ada", "age_in_years": 36,
        "home_location": {"x_coordinate": -1, "y_coordinate": 2},
        "nick_name": null
    });
    echo_all(
        &server,
        &[
            ("echo_list", json!([1, 2, 4294967295u64])),
            ("echo_list", json!([])),
            ("echo_bytes", json!([0, 255])),
            ("echo_record", person),
            ("echo_tuple", json!(["x", 7, false])),
            ("echo_variant", json!("unit_circle")),
            ("echo_variant", json!({"circle_radius": 2.5})),
            (
                "echo_variant",
                json!({"named_point": {"x_coordinate": 3, "y_coordinate": 4}}),
            ),
            ("echo_enum", json!("amber_light")),
            ("echo_option", json!(null)),
            ("echo_option", json!("some text")),
            ("echo_nested_option", json!(null)),
            ("echo_nested_option", json!({"some": null})),
            ("echo_nested_option", json!({"some": 9})),
            ("echo_flags", json!([])),
            ("echo_flags", json!(["can_read", "can_execute"])),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_top_level_result_is_the_value_or_an_error_answer() {
    let server = Server::start(&standard_config()).await;
    let fine = server
        .call("echo_result", json!({"value": {"ok": "fine"}}))
        .await;
    assert_eq!(ok(&fine), json!({"result": "fine"}));
    let failed = server
        .call("echo_result", json!({"value": {"err": 42}}))
        .await;
    assert_eq!(error(&failed), "42");
}

#[tokio::test]
async fn many_arguments_with_kebab_names_and_an_omitted_option() {
    let server = Server::start(&standard_config()).await;
    let result = server
        .call(
            "echo_many",
            json!({"first_flag": true, "small_number": -5, "big_number": 18446744073709551615u64,
                   "some_text": "t", "light": "green_light"}),
        )
        .await;
    assert_eq!(
        ok(&result),
        json!({"first_flag": true, "small_number": -5, "big_number": 18446744073709551615u64,
               "some_text": "t", "maybe_char": null, "light": "green_light"})
    );
    let unit = server.call("echo_unit", json!({})).await;
    assert_eq!(ok(&unit), Value::Null);
}
