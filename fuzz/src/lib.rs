//! The bodies of Corral's fuzz targets, as plain functions.
//!
//! `cargo fuzz` drives them with libFuzzer (`fuzz_targets/`), and `cargo
//! test` replays the checked-in seeds through them (`tests/seeds.rs`), so a
//! machine without `cargo fuzz` still runs every target on every input that
//! once found a bug. Each function panics exactly when it finds one: a
//! panic in the code under test, or a broken property.
//!
//! - [`wit_json`]: arbitrary WIT types and JSON through the codec.
//! - [`config`]: arbitrary text through the config parser.
//! - [`component`]: arbitrary bytes through `corral audit` and loading.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Unstructured;
use corral::audit::{audit_component, render_json, render_text};
use corral::config::{ComponentConfig, Config, PoolShare};
use corral::sandbox::{Sandbox, SandboxSettings};
use corral::wit_json::{self, Direction, json_name};
use corral_wit_arbitrary::{self as arb, Types};
use serde_json::{Map, Value};

/// The codec on arbitrary WIT types: draws up to three parameters of
/// arbitrary types, then arguments for them (JSON shaped like the types
/// with defects, or the rest of the input read as JSON text), and values of
/// them.
///
/// Properties: nothing panics; the `Input` schema of the arguments and the
/// decoder accept the same objects; what decodes encodes back to JSON that
/// decodes to the same value; every value encodes to JSON its `Output`
/// schema accepts.
pub fn wit_json(data: &[u8]) {
    static TYPES: OnceLock<Types> = OnceLock::new();
    let mut u = Unstructured::new(data);
    let Ok(shapes) = arb::params(&mut u, 3) else {
        return;
    };
    let params = TYPES
        .get_or_init(Types::new)
        .params(&shapes)
        .unwrap_or_else(|e| panic!("a drawn type does not compile: {e}"));
    let input = wit_json::object(
        params.iter().map(|(n, t)| (n.as_str(), t.clone())),
        Direction::Input,
    )
    .unwrap_or_else(|e| panic!("no input schema: {e}"));
    let input = validator(&input);

    let args = if u.ratio(1, 4).unwrap_or(false) {
        let rest = u.len();
        serde_json::from_slice(u.bytes(rest).unwrap_or_default()).unwrap_or(Value::Null)
    } else {
        arb::near_arguments(&mut u, &params).unwrap_or(Value::Null)
    };
    if let Value::Object(args) = &args {
        let decoded = wit_json::decode(&params, Some(args));
        assert_eq!(
            input.is_valid(&Value::Object(args.clone())),
            decoded.is_ok(),
            "the input schema and the decoder disagree on {args:?}: {:?}",
            decoded.as_ref().err()
        );
        if let Ok(vals) = decoded {
            let again: Map<String, Value> = params
                .iter()
                .zip(&vals)
                .map(|((name, ty), val)| (json_name(name), wit_json::encode(val, ty)))
                .collect();
            let redecoded = wit_json::decode(&params, Some(&again))
                .unwrap_or_else(|e| panic!("{again:?} was encoded, yet does not decode: {e:?}"));
            let normalized = |vals: &[_]| vals.iter().map(arb::normalized).collect::<Vec<_>>();
            assert_eq!(
                normalized(&redecoded),
                normalized(&vals),
                "through {again:?}"
            );
        }
    }

    for (_, ty) in &params {
        let Ok(val) = arb::val(&mut u, ty) else {
            break;
        };
        let json = wit_json::encode(&val, ty);
        let output = wit_json::schema(ty, Direction::Output)
            .unwrap_or_else(|e| panic!("no output schema: {e}"));
        assert!(
            validator(&output).is_valid(&json),
            "{json} does not match {output}"
        );
    }
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{e}: {schema}"))
}

/// The config parser on arbitrary text, validation included: relative
/// paths are resolved against a scratch directory holding `data/` and
/// `out/`, and `*_from_host` names starting with `CORRAL_FUZZ` have
/// values. Property: an error, never a panic.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config_path = scratch().join("corral.toml");
    let host_env = |name: &str| {
        name.starts_with("CORRAL_FUZZ")
            .then(|| format!("value of {name}"))
    };
    // Either outcome is fine; rendering the error must not panic either.
    if let Err(e) = Config::parse_with_env(text, &config_path, host_env) {
        let _ = e.to_string();
    }
}

/// A directory for the config target's relative paths and the component
/// target's files, made once per process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("corral-fuzz-{}", std::process::id()));
        for sub in ["data", "out"] {
            std::fs::create_dir_all(dir.join(sub))
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        dir
    })
}

/// `corral audit` and loading on arbitrary bytes as a component file:
/// import reading, the package-docs section, the pool-share check, wasmtime's
/// compilation and linking, and the tools' schemas. Property: the audit
/// always comes back (with an error in it for a bad component) and
/// renders, never a panic.
pub fn component(data: &[u8]) {
    let path = scratch().join("component.wasm");
    std::fs::write(&path, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let config = ComponentConfig::standalone(&path);
    // A sandbox per input: it keeps every component it compiled, which is
    // right for a server's few and would grow without bound here.
    let sandbox = Sandbox::new(SandboxSettings {
        max_concurrent_calls: 1,
        max_memory: config.limits.memory,
        cache_dir: None,
        cache_max_size: 0,
        queue_timeout: Duration::from_secs(1),
        share: PoolShare::default(),
    })
    .unwrap_or_else(|e| panic!("no sandbox: {e}"));
    let audit = audit_component(&config, &sandbox);
    let _ = render_text(std::slice::from_ref(&audit));
    let _ = render_json(&[audit]);
}
