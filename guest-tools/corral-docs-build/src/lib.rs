//! Build-script half of Corral's self-describing components.
//!
//! `wit-bindgen` compiles a world into the component but drops its doc
//! comments, and those comments are what a model reads as tool and parameter
//! descriptions. This crate parses the guest's `wit/` folder at build time and
//! writes the docs in the exact format `wit-parser` uses for the
//! `package-docs` custom section (a version byte, then JSON; see
//! [`PackageMetadata`]). The guest's `corral_guest::package_docs!()` then places
//! those bytes in a custom section of the component, where the Corral host and
//! `wasm-tools component wit` find them.
//!
//! A guest's `build.rs` has one line in its `main`:
//!
//! ```no_run
//! corral_docs_build::embed_package_docs("wit");
//! ```

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use wit_parser::{PackageMetadata, Resolve};

/// The file, inside `OUT_DIR`, that `corral_guest::package_docs!()` includes.
pub const OUTPUT_FILE: &str = "package-docs.bin";

/// Encodes the doc comments of the WIT package in `wit_dir` into
/// `$OUT_DIR/package-docs.bin`.
///
/// `wit_dir` is relative to the crate being built (its `CARGO_MANIFEST_DIR`),
/// usually `"wit"`; packages in `wit_dir/deps` are parsed for resolution but
/// only the main package's docs are encoded. Prints `cargo:rerun-if-changed`
/// for the folder and every WIT file that was read.
///
/// # Panics
///
/// Panics with a message naming the folder when the WIT does not parse or the
/// output cannot be written: this runs inside a build script, where a panic is
/// how a build step reports failure.
pub fn embed_package_docs(wit_dir: &str) {
    let wit_dir = manifest_dir().join(wit_dir);
    println!("cargo:rerun-if-changed={}", wit_dir.display());

    let mut resolve = Resolve::default();
    let (package, sources) = resolve.push_dir(&wit_dir).unwrap_or_else(|err| {
        panic!(
            "corral-docs-build: cannot parse the WIT package in {}: {err:#}",
            wit_dir.display()
        )
    });
    for path in sources.paths() {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let encoded = PackageMetadata::extract(&resolve, package)
        .encode()
        .unwrap_or_else(|err| {
            panic!(
                "corral-docs-build: cannot encode the doc comments of {}: {err:#}",
                resolve.packages[package].name
            )
        });

    let output = out_dir().join(OUTPUT_FILE);
    fs::write(&output, encoded).unwrap_or_else(|err| {
        panic!(
            "corral-docs-build: cannot write {}: {err}",
            output.display()
        )
    });
}

fn manifest_dir() -> PathBuf {
    env_path("CARGO_MANIFEST_DIR")
}

fn out_dir() -> PathBuf {
    env_path("OUT_DIR")
}

fn env_path(name: &str) -> PathBuf {
    let value = env::var_os(name).unwrap_or_else(|| {
        panic!("corral-docs-build: {name} is not set; call embed_package_docs from a build script")
    });
    Path::new(&value).to_path_buf()
}
