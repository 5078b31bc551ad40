//! Unit tests of the codec: each WIT type's schema, JSON → `Val` → JSON
//! round trips, and the refusal messages. Types come from tiny WAT
//! components that import a function `f` taking the type under test.

use serde_json::{Value, json};
use wasmtime::component::{Component, Type, Val, types::ComponentItem};
use wasmtime::{Config, Engine};

use super::*;

/// The type of parameter `v` of `f` in a component whose named types are
/// `defs` (each `(name, definition)`; later ones may refer to earlier ones
/// as `$name`) and whose parameter type is `param`.
fn ty(defs: &[(&str, &str)], param: &str) -> Type {
    let mut wat = String::from("(component\n");
    for (name, def) in defs {
        wat.push_str(&format!(
            "(type ${name}-def {def})\n(import \"{name}\" (type ${name} (eq ${name}-def)))\n"
        ));
    }
    wat.push_str(&format!("(import \"f\" (func (param \"v\" {param})))\n)"));
    let engine = Engine::new(&Config::new()).unwrap();
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    let component = Component::new(&engine, bytes).unwrap_or_else(|e| panic!("{e:?}\n{wat}"));
    match component
        .component_type()
        .get_import(&engine, "f")
        .unwrap()
        .ty
    {
        ComponentItem::ComponentFunc(f) => f.params().next().unwrap().1,
        other => panic!("unexpected {other:?}"),
    }
}

fn prim(name: &str) -> Type {
    ty(&[], name)
}

fn decode_one(ty: &Type, value: Value) -> Result<Val, Vec<ArgError>> {
    let args = json!({ "v": value });
    decode(&[("v".into(), ty.clone())], args.as_object()).map(|mut v| v.remove(0))
}

fn errors(ty: &Type, value: Value) -> Vec<String> {
    decode_one(ty, value)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Decoding then encoding gives back the same JSON, and that JSON is valid
/// against both the input and the output schema.
fn round_trip(ty: &Type, value: Value) {
    let val = decode_one(ty, value.clone()).unwrap_or_else(|e| panic!("{value}: {e:?}"));
    assert_eq!(encode(&val, ty), value);
    for direction in [Direction::Input, Direction::Output] {
        let schema = schema(ty, direction).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&value), "{value} against {schema}");
    }
}

fn refused_by_schema(ty: &Type, value: Value) {
    let schema = schema(ty, Direction::Input).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        !validator.is_valid(&value),
        "{value} should not match {schema}"
    );
    assert!(decode_one(ty, value).is_err());
}

#[test]
fn bool_both_ways() {
    let t = prim("bool");
    assert_eq!(
        schema(&t, Direction::Input).unwrap(),
        json!({"type": "boolean"})
    );
    round_trip(&t, json!(true));
    assert_eq!(
        errors(&t, json!(1)),
        ["v: expected a boolean, got number 1"]
    );
}

#[test]
fn integers_have_exact_bounds() {
    let cases: [(&str, i128, i128); 8] = [
        ("s8", i8::MIN.into(), i8::MAX.into()),
        ("u8", 0, u8::MAX.into()),
        ("s16", i16::MIN.into(), i16::MAX.into()),
        ("u16", 0, u16::MAX.into()),
        ("s32", i32::MIN.into(), i32::MAX.into()),
        ("u32", 0, u32::MAX.into()),
        ("s64", i64::MIN.into(), i64::MAX.into()),
        ("u64", 0, u64::MAX.into()),
    ];
    for (name, min, max) in cases {
        let t = prim(name);
        let s = schema(&t, Direction::Input).unwrap();
        assert_eq!(s["type"], "integer");
        assert_eq!(s["minimum"].to_string(), min.to_string(), "{name}");
        assert_eq!(s["maximum"].to_string(), max.to_string(), "{name}");
        round_trip(&t, serde_json::from_str(&min.to_string()).unwrap());
        round_trip(&t, serde_json::from_str(&max.to_string()).unwrap());
        let above: Value = serde_json::from_str(&(max + 1).to_string()).unwrap_or(json!(1e20));
        let msg = errors(&t, above.clone());
        assert_eq!(
            msg,
            [format!("v: {above} is out of range for {name}")],
            "{name}"
        );
        // One below s64's minimum has no float of its own: serde_json reads
        // it as -2^63, s64's minimum (see the next test).
        if min < 0 && name != "s64" {
            let below: Value = serde_json::from_str(&(min - 1).to_string()).unwrap_or(json!(-1e20));
            assert!(decode_one(&t, below).is_err());
        }
    }
}

#[test]
fn a_float_is_not_an_integer() {
    let t = prim("s32");
    assert_eq!(
        errors(&t, json!(1.5)),
        ["v: expected an integer (s32), got 1.5"]
    );
    assert_eq!(
        errors(&t, json!("7")),
        ["v: expected an integer (s32), got string \"7\""]
    );
}

#[test]
fn floats_both_ways_and_non_finite_outputs() {
    let t = prim("f64");
    round_trip(&t, json!(1.25));
    round_trip(&t, json!(-3.5));
    assert_eq!(encode(&Val::Float64(f64::NAN), &t), json!("NaN"));
    assert_eq!(
        encode(&Val::Float64(f64::NEG_INFINITY), &t),
        json!("-Infinity")
    );
    let out = schema(&t, Direction::Output).unwrap();
    assert!(
        jsonschema::validator_for(&out)
            .unwrap()
            .is_valid(&json!("Infinity"))
    );
    let f32t = prim("f32");
    round_trip(&f32t, json!(0.1));
    assert_eq!(
        errors(&f32t, json!(1e300)),
        ["v: 1e300 is out of range for f32"]
    );
}

/// Found by `properties::input_schema_and_decoder_accept_the_same_arguments`:
/// the schema was a bare `number`, so it promised what the decoder refused.
#[test]
fn an_f32_out_of_range_is_refused_by_the_schema_too() {
    let t = prim("f32");
    refused_by_schema(&t, json!(1e300));
    refused_by_schema(&t, json!(-3.4028236e38));
    // f32::MAX as results spell it: the bound itself, and it decodes exactly.
    round_trip(&t, json!(3.4028235e38));
    assert_eq!(
        decode_one(&t, json!(-3.4028235e38)).unwrap(),
        Val::Float32(f32::MIN)
    );
    round_trip(&prim("f64"), json!(1e300));
}

/// Found by the same property: JSON Schema's `integer` includes `7.0` and
/// `1e3`, which the decoder used to call out of range.
#[test]
fn whole_numbers_written_as_floats_are_integers() {
    let t = prim("u16");
    assert_eq!(decode_one(&t, json!(7.0)).unwrap(), Val::U16(7));
    assert_eq!(decode_one(&t, json!(1e3)).unwrap(), Val::U16(1000));
    let schema = schema(&t, Direction::Input).unwrap();
    assert!(
        jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&json!(7.0))
    );
    refused_by_schema(&t, json!(65536.0));
    refused_by_schema(&t, json!(7.5));
    refused_by_schema(&prim("u64"), json!(1.8446744073709552e19));
    refused_by_schema(&prim("s64"), json!(-9.3e18));
    // Past 2^53 a JSON integer too wide for 64 bits is read as the nearest
    // float; the schema and the decoder see the same number.
    let s64_below: Value = serde_json::from_str("-9223372036854775809").unwrap();
    assert_eq!(
        decode_one(&prim("s64"), s64_below).unwrap(),
        Val::S64(i64::MIN)
    );
    assert_eq!(
        errors(&prim("s8"), json!(128.0)),
        ["v: 128.0 is out of range for s8"]
    );
}

/// Found by the same property: `{"point": null}` decoded although the
/// schema offers a payload-less case only as its name.
#[test]
fn a_case_without_payload_is_only_its_name() {
    let t = ty(
        &[("shape", "(variant (case \"point\") (case \"circle\" f64))")],
        "$shape",
    );
    refused_by_schema(&t, json!({"point": null}));
    assert_eq!(
        errors(&t, json!({"point": null})),
        ["v: case \"point\" takes no payload: write it as the string \"point\""]
    );
    // A result's side without a payload is still written with null.
    round_trip(
        &ty(&[("r", "(result (error string))")], "$r"),
        json!({"ok": null}),
    );
}

#[test]
fn char_is_one_character() {
    let t = prim("char");
    round_trip(&t, json!("é"));
    round_trip(&t, json!("🦀"));
    refused_by_schema(&t, json!("ab"));
    refused_by_schema(&t, json!(""));
}

#[test]
fn string_list_and_bytes() {
    round_trip(&prim("string"), json!("hello"));
    let t = ty(&[("l", "(list u8)")], "$l");
    round_trip(&t, json!([0, 255, 7]));
    assert_eq!(
        errors(&t, json!([1, 256])),
        ["v[1]: 256 is out of range for u8"]
    );
    refused_by_schema(&t, json!("bytes"));
}

#[test]
fn records_use_snake_case_and_name_the_path() {
    let t = ty(
        &[
            (
                "inner",
                "(record (field \"x-pos\" s32) (field \"label\" (option string)))",
            ),
            (
                "outer",
                "(record (field \"rect\" $inner) (field \"depth\" u8))",
            ),
        ],
        "$outer",
    );
    let s = schema(&t, Direction::Input).unwrap();
    assert_eq!(s["required"], json!(["rect", "depth"]));
    assert_eq!(s["properties"]["rect"]["required"], json!(["x_pos"]));
    assert_eq!(s["additionalProperties"], json!(false));
    round_trip(&t, json!({"rect": {"x_pos": 1, "label": "a"}, "depth": 2}));
    // An option field may be left out and comes back as null.
    let val = decode_one(&t, json!({"rect": {"x_pos": 1}, "depth": 2})).unwrap();
    assert_eq!(
        encode(&val, &t),
        json!({"rect": {"x_pos": 1, "label": null}, "depth": 2})
    );
    assert_eq!(
        errors(&t, json!({"rect": {"x_pos": 5000000000u64, "extra": 1}})),
        [
            "v.rect.x_pos: 5000000000 is out of range for s32",
            "v.rect.extra: unknown field (expected one of: x_pos, label)",
            "v.depth: missing required field",
        ]
    );
}

#[test]
fn tuples_are_fixed_length_arrays() {
    let t = ty(&[("t", "(tuple string u8 bool)")], "$t");
    let s = schema(&t, Direction::Input).unwrap();
    assert_eq!(s["prefixItems"].as_array().unwrap().len(), 3);
    round_trip(&t, json!(["a", 1, true]));
    refused_by_schema(&t, json!(["a", 1]));
    refused_by_schema(&t, json!(["a", 1, true, 4]));
}

#[test]
fn variants_are_names_or_single_key_objects() {
    let t = ty(
        &[(
            "shape",
            "(variant (case \"point\") (case \"circle-of\" f64) (case \"named\" string))",
        )],
        "$shape",
    );
    round_trip(&t, json!("point"));
    round_trip(&t, json!({"circle_of": 2.5}));
    refused_by_schema(&t, json!({"circle_of": 1, "named": "x"}));
    refused_by_schema(&t, json!("circle_of"));
    assert_eq!(
        errors(&t, json!("square")),
        ["v: \"square\" is not a case; expected one of: point, circle_of, named"]
    );
}

#[test]
fn enums_and_flags_use_snake_case_names() {
    let e = ty(&[("e", "(enum \"sha-256\" \"crc32\")")], "$e");
    assert_eq!(
        schema(&e, Direction::Input).unwrap()["enum"],
        json!(["sha_256", "crc32"])
    );
    round_trip(&e, json!("sha_256"));
    refused_by_schema(&e, json!("md5"));
    let f = ty(&[("fl", "(flags \"ignore-case\" \"multi-line\")")], "$fl");
    round_trip(&f, json!([]));
    round_trip(&f, json!(["ignore_case", "multi_line"]));
    refused_by_schema(&f, json!(["ignore_case", "ignore_case"]));
    refused_by_schema(&f, json!(["global"]));
}

#[test]
fn options_are_null_or_the_value_and_nested_options_stay_distinct() {
    let t = ty(&[("o", "(option string)")], "$o");
    round_trip(&t, json!(null));
    round_trip(&t, json!("x"));
    let nested = ty(&[("i", "(option u32)"), ("o", "(option $i)")], "$o");
    round_trip(&nested, json!(null));
    round_trip(&nested, json!({"some": null}));
    round_trip(&nested, json!({"some": 3}));
    refused_by_schema(&nested, json!(3));
}

#[test]
fn results_are_ok_or_err_objects() {
    let t = ty(&[("r", "(result string (error u32))")], "$r");
    round_trip(&t, json!({"ok": "fine"}));
    round_trip(&t, json!({"err": 4}));
    refused_by_schema(&t, json!({"ok": "a", "err": 1}));
    let unit = ty(&[("r", "(result (error string))")], "$r");
    round_trip(&unit, json!({"ok": null}));
}

#[test]
fn missing_and_extra_arguments_are_named() {
    let params = [
        ("first-name".to_owned(), prim("string")),
        ("age".to_owned(), prim("u8")),
    ];
    let args = json!({"age": 3, "nickname": "x"});
    let errs = decode(&params, args.as_object()).unwrap_err();
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "first_name: missing required argument",
            "nickname: unknown argument (expected one of: first_name, age)",
        ]
    );
    assert!(decode(&[], None).unwrap().is_empty());
}

#[test]
fn resources_have_no_schema() {
    let wat = r#"(component
        (import "r" (type $r (sub resource)))
        (import "f" (func (param "v" (own $r))))
    )"#;
    let engine = Engine::new(&Config::new()).unwrap();
    let component = Component::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
    let ComponentItem::ComponentFunc(f) = component
        .component_type()
        .get_import(&engine, "f")
        .unwrap()
        .ty
    else {
        panic!()
    };
    let t = f.params().next().unwrap().1;
    assert_eq!(
        schema(&t, Direction::Input),
        Err(Unsupported("a resource handle"))
    );
}

#[test]
fn one_plan_decodes_many_calls_independently() {
    let plan = Arguments::new(&[
        ("first-name".to_owned(), prim("string")),
        (
            "tags".to_owned(),
            ty(&[("tag", "(flags \"a-b\" \"c\")")], "(list $tag)"),
        ),
    ]);
    let bad = json!({"first_name": 1, "tags": [["c", "c"]], "other": 2});
    let text: Vec<String> = plan
        .decode(bad.as_object())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [
            "first_name: expected a string, got number 1",
            "tags[0][1]: flag \"c\" is given twice",
            "other: unknown argument (expected one of: first_name, tags)",
        ]
    );
    // The failed call left nothing behind: the next one decodes cleanly.
    let good = json!({"first_name": "Ada", "tags": [["a_b"], []]});
    let vals = plan.decode(good.as_object()).unwrap();
    assert_eq!(vals[0], Val::String("Ada".into()));
    assert_eq!(
        vals[1],
        Val::List(vec![Val::Flags(vec!["a-b".into()]), Val::Flags(vec![])])
    );
}
