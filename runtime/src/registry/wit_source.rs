//! Tool descriptions from WIT source, for components built by any toolchain.
//!
//! wit-bindgen, componentize-py and jco keep a world's types in the
//! component but drop its doc comments. Two ways bring them back without a
//! Corral build step: `corral docs embed --wit DIR in.wasm -o out.wasm`
//! writes them into the component as the standard `package-docs` section
//! ([`embed`]), and `wit = "DIR"` in a component's config makes Corral read
//! them from the folder at start, after checking that the folder describes
//! the functions the component exports ([`WitSource::describes`]).

use std::collections::BTreeSet;
use std::path::Path;

use wit_parser::{PackageMetadata, Resolve, WorldItem};

use super::docs::{PackageDocs, SECTION};

/// A WIT package read from its source folder.
pub struct WitSource {
    /// The doc comments, in the `package-docs` section's format.
    section: Vec<u8>,
    /// `(plain interface name or None for a world's own functions, function
    /// name)` of every function the package's interfaces and worlds hold.
    functions: BTreeSet<(Option<String>, String)>,
    /// The package's name, e.g. `corral:text-tools@0.1.0`.
    name: String,
}

impl WitSource {
    /// Parses the WIT package in `dir` (with its `deps/` folder). The error
    /// names the folder and what did not parse.
    pub fn read(dir: &Path) -> Result<WitSource, String> {
        let mut resolve = Resolve::default();
        let (package, _) = resolve.push_dir(dir).map_err(|e| format!("{e:#}"))?;
        let section = PackageMetadata::extract(&resolve, package)
            .encode()
            .map_err(|e| format!("cannot encode its doc comments: {e:#}"))?;
        let mut functions = BTreeSet::new();
        let pkg = &resolve.packages[package];
        for (name, id) in &pkg.interfaces {
            for func in resolve.interfaces[*id].functions.keys() {
                functions.insert((Some(name.clone()), func.clone()));
            }
        }
        for id in pkg.worlds.values() {
            for (key, item) in &resolve.worlds[*id].exports {
                match item {
                    WorldItem::Function(func) => {
                        functions.insert((None, func.name.clone()));
                    }
                    WorldItem::Interface { id, .. } => {
                        let name = resolve.name_world_key(key);
                        let plain = super::load::plain_interface_name(&name).to_owned();
                        for func in resolve.interfaces[*id].functions.keys() {
                            functions.insert((Some(plain.clone()), func.clone()));
                        }
                    }
                    WorldItem::Type { .. } => {}
                }
            }
        }
        Ok(WitSource {
            section,
            functions,
            name: pkg.name.to_string(),
        })
    }

    /// The package's name, e.g. `corral:text-tools@0.1.0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `package-docs` section's contents.
    pub fn section(&self) -> &[u8] {
        &self.section
    }

    /// The doc comments, as Corral reads them from a component.
    pub fn docs(&self) -> Result<PackageDocs, String> {
        PackageDocs::decode(&self.section)
    }

    /// Whether the package declares function `func`, exported by a world
    /// directly (`interface` is `None`) or in the interface with that plain
    /// name (`text` for `corral:text-tools/text@0.1.0`).
    pub fn describes(&self, interface: Option<&str>, func: &str) -> bool {
        self.functions
            .contains(&(interface.map(str::to_owned), func.to_owned()))
    }
}

/// Writes `docs` (a `package-docs` section's contents) into `component`:
/// the section goes first after the header, where Corral and `wasm-tools`
/// find it before any older one, and the component's own top-level
/// `package-docs` sections are dropped. Everything else is kept byte for
/// byte.
pub fn embed(component: &[u8], docs: &[u8]) -> Result<Vec<u8>, String> {
    const HEADER: usize = 8;
    if !wasmparser::Parser::is_component(component) {
        return Err(if wasmparser::Parser::is_core_wasm(component) {
            "this is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
             (or wrap it with `wasm-tools component new`)"
                .into()
        } else {
            "this is not a WebAssembly component".into()
        });
    }
    let mut out = Vec::with_capacity(component.len() + docs.len() + 32);
    out.extend_from_slice(&component[..HEADER]);
    out.push(wasm_encoder::SectionId::Custom as u8);
    wasm_encoder::Encode::encode(
        &wasm_encoder::CustomSection {
            name: SECTION.into(),
            data: docs.into(),
        },
        &mut out,
    );
    // `BinaryReader::new(data, offset)` reads `data` from its start;
    // `offset` only labels positions, so each reader gets the rest.
    let mut reader = wasmparser::BinaryReader::new(&component[HEADER..], HEADER);
    while !reader.eof() {
        let start = reader.original_position();
        let truncated = |e: wasmparser::BinaryReaderError| format!("the component is damaged: {e}");
        let id = reader.read_u8().map_err(truncated)?;
        let size = reader.read_var_u32().map_err(truncated)? as usize;
        let body = reader.original_position();
        let end = body
            .checked_add(size)
            .filter(|end| *end <= component.len())
            .ok_or("the component is damaged: a section runs past its end")?;
        let ours = id == wasm_encoder::SectionId::Custom as u8
            && wasmparser::BinaryReader::new(&component[body..end], body)
                .read_string()
                .is_ok_and(|name| name == SECTION);
        if !ours {
            out.extend_from_slice(&component[start..end]);
        }
        reader = wasmparser::BinaryReader::new(&component[end..], end);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wit(dir: &Path) {
        std::fs::write(
            dir.join("tools.wit"),
            "package demo:tools@0.1.0;\n\n\
             /// Maths.\n\
             interface maths {\n    /// Adds two numbers.\n    add: func(a: s32, b: s32) -> s32;\n}\n\n\
             world tools {\n    export maths;\n    /// Says hello.\n    export hello: func(name: string) -> string;\n}\n",
        )
        .unwrap();
    }

    #[test]
    fn reads_docs_and_functions_from_source() {
        let dir = tempfile::tempdir().unwrap();
        write_wit(dir.path());
        let wit = WitSource::read(dir.path()).unwrap();
        assert_eq!(wit.name(), "demo:tools@0.1.0");
        assert!(wit.describes(Some("maths"), "add"));
        assert!(wit.describes(None, "hello"));
        assert!(!wit.describes(None, "add"));
        let docs = wit.docs().unwrap();
        assert_eq!(
            docs.function(Some("maths"), "add"),
            Some("Adds two numbers.")
        );
        assert_eq!(docs.function(None, "hello"), Some("Says hello."));
    }

    #[test]
    fn a_broken_folder_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.wit"),
            "package a:b;\ninterface x { f: func( }\n",
        )
        .unwrap();
        let error = WitSource::read(dir.path()).err().unwrap();
        assert!(
            error.contains("expected an identifier or string, found '}'"),
            "{error}"
        );
    }

    #[test]
    fn embedding_replaces_the_section_and_keeps_the_rest() {
        let component = wat::parse_str(
            "(component (core module (func (export \"f\"))) (@custom \"package-docs\" \"\\01{}\"))",
        )
        .unwrap();
        let once = embed(&component, b"\x01{\"worlds\":{}}").unwrap();
        let twice = embed(&once, b"\x01{}").unwrap();
        let sections: Vec<Vec<u8>> = wasmparser::Parser::new(0)
            .parse_all(&twice)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(s) if s.name() == SECTION => {
                    Some(s.data().to_vec())
                }
                _ => None,
            })
            .collect();
        assert_eq!(sections, [b"\x01{}".to_vec()]);
        wasmparser::Validator::new().validate_all(&twice).unwrap();
        assert!(embed(b"\0asm\x01\0\0\0", b"").unwrap_err().contains("core"));
        assert!(embed(b"hello", b"").is_err());
        let mut cut = component.clone();
        cut.truncate(component.len() - 3);
        assert!(embed(&cut, b"").unwrap_err().contains("damaged"));
    }
}
