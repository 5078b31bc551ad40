//! Unit tests of config parsing and validation.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/corral/corral.toml"))
}

#[test]
fn defaults_fill_every_silent_field() {
    let config = parse("[components.calc]\npath = \"calc.wasm\"\n").unwrap();
    assert_eq!(config.server.name, "corral");
    let calc = config.component("calc").unwrap();
    assert_eq!(calc.path, Path::new("/etc/corral/calc.wasm"));
    assert_eq!(calc.limits, Limits::default());
    assert_eq!(calc.path_line, Some(2));
}

#[test]
fn component_limits_override_defaults_field_by_field() {
    let config = parse(
        r#"
        [defaults.limits]
        memory = "32MiB"
        timeout = "2s"

        [components.a]
        path = "/a.wasm"
        limits = { fuel = 1000, timeout = "500ms" }
        "#,
    )
    .unwrap();
    let a = &config.components[0].limits;
    assert_eq!(a.memory, 32 * 1024 * 1024);
    assert_eq!(a.fuel, 1000);
    assert_eq!(a.timeout, Duration::from_millis(500));
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let err = parse("[components.a]\npath = \"a.wasm\"\nmemroy = \"1MiB\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("memroy"), "{err}");
    assert!(err.contains("limits"), "expected fields are listed: {err}");
}

#[test]
fn bad_memory_size_says_what_to_write() {
    let err = parse("[components.a]\npath = \"a.wasm\"\nlimits = { memory = \"lots\" }\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("64MiB"), "{err}");
}

#[test]
fn zero_fuel_and_zero_timeout_are_refused() {
    let err = parse("[defaults.limits]\nfuel = 0\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 1"), "{err}");
    let err = parse("[defaults.limits]\ntimeout = \"0s\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn missing_path_is_an_error() {
    let err = parse("[components.a]\n").unwrap_err().to_string();
    assert!(err.contains("path"), "{err}");
}

#[test]
fn missing_file_says_what_to_pass() {
    let err = Config::load(Path::new("/nonexistent/corral.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/corral.toml"), "{err}");
    assert!(err.contains("--config"), "{err}");
}

#[test]
fn bad_tool_prefix_is_refused() {
    let err = parse("[components.a]\npath = \"a.wasm\"\ntool_prefix = \"a b\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tool_prefix"), "{err}");
}

#[test]
fn no_debug_output_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corral.toml");
    let text = "[server.auth]\ntokens_env = \"TOKENS\"\n\
                [components.c]\npath = \"c.wasm\"\n\
                env = { API_KEY = \"literal-secret-1\" }\nenv_from_host = [\"HOST_SECRET\"]\n\
                config = { password = \"literal-secret-2\" }\nconfig_from_host = [\"HOST_CONFIG\"]\n";
    let config =
        Config::parse_with_env(text, &path, |name| Some(format!("host-secret-of-{name}"))).unwrap();
    let shown = format!("{config:?}");
    assert!(shown.contains("API_KEY"), "{shown}");
    for secret in ["literal-secret", "host-secret"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}
