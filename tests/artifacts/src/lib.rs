//! Paths of the guest components the tests run, built from `guest-tools/`.
//!
//! The build script runs `cargo build --release --target wasm32-wasip2` on
//! the separate `guest-tools` workspace whenever a guest's sources change, so
//! a plain `cargo test` on a fresh checkout builds every component it needs.
//! Each function returns the absolute path of one component; if the guest
//! build failed, the function panics with the end of cargo's output and the
//! command that reproduces the failure, so only the tests that need a
//! component fail, and they say why.
//!
//! ```no_run
//! let calc = corral_test_artifacts::calc();
//! assert!(calc.ends_with("calc.wasm"));
//! ```

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/gen.rs"));
