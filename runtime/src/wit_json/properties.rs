//! Properties of the codec over arbitrary WIT types (proptest).
//!
//! Types, values and JSON come from `corral-wit-arbitrary`, drawn from the
//! random bytes proptest gives each case (and shrinks on a failure, which
//! simplifies the types). Each case compiles a small component to get real
//! wasmtime `Type`s, so the default case count (256) keeps a run within
//! seconds; run more with `PROPTEST_CASES=10000 cargo test -p corral --lib
//! wit_json::properties`.
//!
//! - Any value encodes to JSON its `Output` schema accepts; a value without
//!   NaN or infinities also validates against the `Input` schema and
//!   decodes back to itself, and one with them is refused by both.
//! - The `Input` schema of a tool's arguments and the decoder accept
//!   exactly the same JSON, and what decodes encodes back to JSON that
//!   decodes to the same value.

use arbitrary::Unstructured;
use corral_wit_arbitrary::{self as arb, Types};
use proptest::prelude::*;
use serde_json::{Map, Value};
use wasmtime::component::{Type, Val};

use super::*;

/// Bytes drawn per case: enough for a few parameters of nested types.
const SEED_BYTES: usize = 4096;

fn types() -> &'static Types {
    static TYPES: std::sync::OnceLock<Types> = std::sync::OnceLock::new();
    TYPES.get_or_init(Types::new)
}

/// The parameters a case's bytes draw, compiled to wasmtime types.
fn draw_params(u: &mut Unstructured<'_>) -> Vec<(String, Type)> {
    let shapes = arb::params(u, 3).unwrap_or_default();
    types().params(&shapes).unwrap_or_else(|e| panic!("{e}"))
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{e}: {schema}"))
}

/// Encodes decoded arguments back into an arguments object.
fn encode_arguments(params: &[(String, Type)], vals: &[Val]) -> Map<String, Value> {
    params
        .iter()
        .zip(vals)
        .map(|((name, ty), val)| (json_name(name), encode(val, ty)))
        .collect()
}

proptest! {
    #[test]
    fn values_round_trip_through_json(bytes in prop::collection::vec(any::<u8>(), 0..SEED_BYTES)) {
        let mut u = Unstructured::new(&bytes);
        let params = draw_params(&mut u);
        for (_, ty) in &params {
            let Ok(val) = arb::val(&mut u, ty) else { break };
            let json = encode(&val, ty);
            let output = schema(ty, Direction::Output).unwrap();
            prop_assert!(validator(&output).is_valid(&json), "{json} against {output}");
            let input = schema(ty, Direction::Input).unwrap();
            let accepted = validator(&input).is_valid(&json);
            let decoded = decode(&[("v".into(), ty.clone())], Some(&Map::from_iter([("v".into(), json.clone())])));
            if arb::has_non_finite(&val) {
                prop_assert!(!accepted, "{json} has no finite input form, yet {input} accepts it");
                prop_assert!(decoded.is_err(), "{json} has no finite input form, yet it decodes");
            } else {
                prop_assert!(accepted, "{json} against {input}");
                let decoded = decoded.map_err(|e| TestCaseError::fail(format!("{json}: {e:?}")))?;
                prop_assert_eq!(arb::normalized(&decoded[0]), arb::normalized(&val), "through {}", json);
            }
        }
    }

    #[test]
    fn input_schema_and_decoder_accept_the_same_arguments(
        bytes in prop::collection::vec(any::<u8>(), 0..SEED_BYTES),
    ) {
        let mut u = Unstructured::new(&bytes);
        let params = draw_params(&mut u);
        let Ok(args) = arb::near_arguments(&mut u, &params) else { return Ok(()) };
        let input = object(params.iter().map(|(n, t)| (n.as_str(), t.clone())), Direction::Input).unwrap();
        let accepted = validator(&input).is_valid(&args);
        let decoded = decode(&params, args.as_object());
        prop_assert_eq!(
            accepted,
            decoded.is_ok(),
            "schema {} and decoder ({:?}) disagree on {}", input, decoded.as_ref().err(), args
        );
        if let Ok(vals) = decoded {
            let again = Value::Object(encode_arguments(&params, &vals));
            prop_assert!(validator(&input).is_valid(&again), "{again} against {input}");
            let redecoded = decode(&params, again.as_object())
                .map_err(|e| TestCaseError::fail(format!("{again}: {e:?}")))?;
            let normalized = |vals: &[Val]| vals.iter().map(arb::normalized).collect::<Vec<_>>();
            prop_assert_eq!(normalized(&redecoded), normalized(&vals));
        }
    }
}
