//! The fixture tools of the MCP conformance suites that a component can
//! provide. Names and texts follow the suites' scenario descriptions; the
//! host turns `test-simple-text` into the tool `test_simple_text`.

use std::thread::sleep;
use std::time::Duration;

wit_bindgen::generate!({ path: "wit", world: "conformance" });
corral_guest::package_docs!();

/// The pause between the steps of the "slow" tools, as the suites describe.
const STEP: Duration = Duration::from_millis(50);

struct Conformance;

impl Guest for Conformance {
    fn test_simple_text() -> String {
        "This is a simple text response for testing.".to_string()
    }

    fn test_error_handling() -> Result<String, String> {
        Err("This tool intentionally returns an error for testing".to_string())
    }

    fn test_tool_with_progress() -> String {
        sleep(STEP);
        sleep(STEP);
        "Tool with progress completed (no progress notifications: components cannot send them)"
            .to_string()
    }

    fn test_tool_with_logging() -> String {
        sleep(STEP);
        sleep(STEP);
        "Tool with logging completed (no log notifications: components cannot send them)"
            .to_string()
    }

    fn test_logging_tool() -> String {
        "Logging tool completed without logging".to_string()
    }
}

export!(Conformance);
