//! Doc comments embedded in a component.
//!
//! wit-bindgen does not keep WIT doc comments in the component it builds, so
//! guests embed them themselves: a custom section named `package-docs`,
//! in wit-parser's `PackageMetadata` format (a version byte, then JSON),
//! written by `guest-tools/corral-docs-build` at build time. The section may
//! sit at the top level of the component or inside one of its core modules
//! (where a `#[link_section]` static puts it). See the README's "Write your
//! first tool".

use std::collections::HashMap;

use serde::Deserialize;

/// The custom section holding the docs.
pub(super) const SECTION: &str = "package-docs";

/// The doc comments of one component's WIT package.
#[derive(Debug, Default, Deserialize)]
pub struct PackageDocs {
    #[serde(default)]
    worlds: HashMap<String, WorldDocs>,
    #[serde(default)]
    interfaces: HashMap<String, InterfaceDocs>,
}

#[derive(Debug, Default, Deserialize)]
struct WorldDocs {
    #[serde(default)]
    funcs: HashMap<String, FuncDocs>,
    #[serde(default)]
    func_exports: HashMap<String, FuncDocs>,
    #[serde(default)]
    interfaces: HashMap<String, InterfaceDocs>,
    #[serde(default)]
    interface_exports: HashMap<String, InterfaceDocs>,
}

#[derive(Debug, Default, Deserialize)]
struct InterfaceDocs {
    #[serde(default)]
    funcs: HashMap<String, FuncDocs>,
}

/// wit-parser writes either a bare string (format v0) or an object (v1).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FuncDocs {
    Full {
        #[serde(default)]
        docs: Option<String>,
    },
    Bare(Option<String>),
}

impl FuncDocs {
    fn text(&self) -> Option<&str> {
        match self {
            FuncDocs::Full { docs } | FuncDocs::Bare(docs) => docs.as_deref(),
        }
        .map(str::trim)
        .filter(|d| !d.is_empty())
    }
}

impl PackageDocs {
    /// Reads the docs of a component binary. `Ok(None)` when it has no
    /// `package-docs` section; an error when the section is malformed.
    pub fn from_component(bytes: &[u8]) -> Result<Option<PackageDocs>, String> {
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            let Ok(payload) = payload else { break };
            if let wasmparser::Payload::CustomSection(section) = payload
                && section.name() == SECTION
            {
                return PackageDocs::decode(section.data()).map(Some);
            }
        }
        Ok(None)
    }

    pub(super) fn decode(data: &[u8]) -> Result<PackageDocs, String> {
        match data.split_first() {
            Some((0 | 1, json)) => serde_json::from_slice(json)
                .map_err(|e| format!("the {SECTION} section is not valid JSON: {e}")),
            Some((version, _)) => Err(format!("unknown {SECTION} format version {version}")),
            None => Err(format!("the {SECTION} section is empty")),
        }
    }

    /// The doc comment of function `func`, exported by the world directly
    /// (`interface` is `None`) or by the interface named `interface` (the
    /// plain name, e.g. `text` for `corral:text-tools/text@0.1.0`).
    pub fn function(&self, interface: Option<&str>, func: &str) -> Option<&str> {
        let Some(iface) = interface else {
            return self.worlds.values().find_map(|w| {
                w.func_exports
                    .get(func)
                    .or_else(|| w.funcs.get(func))
                    .and_then(FuncDocs::text)
            });
        };
        let in_package = self.interfaces.get(iface);
        let in_worlds = self
            .worlds
            .values()
            .flat_map(|w| [w.interface_exports.get(iface), w.interfaces.get(iface)]);
        std::iter::once(in_package)
            .chain(in_worlds)
            .flatten()
            .find_map(|i| i.funcs.get(func).and_then(FuncDocs::text))
    }

    /// How many functions have a doc comment.
    pub fn described(&self) -> usize {
        let interfaces = self.interfaces.values().chain(
            self.worlds
                .values()
                .flat_map(|w| w.interfaces.values().chain(w.interface_exports.values())),
        );
        let in_interfaces = interfaces.flat_map(|i| i.funcs.values());
        let in_worlds = self
            .worlds
            .values()
            .flat_map(|w| w.funcs.values().chain(w.func_exports.values()));
        in_interfaces
            .chain(in_worlds)
            .filter(|f| f.text().is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_world_and_interface_functions_in_both_formats() {
        let json = br#"{
            "worlds": {"w": {"func_exports": {"add": {"docs": "Adds."}}, "funcs": {"old": "Old style."}}},
            "interfaces": {"text": {"funcs": {"slugify": {"docs": " Makes a slug.\n"}}}}
        }"#;
        let mut data = vec![1];
        data.extend_from_slice(json);
        let docs = PackageDocs::decode(&data).unwrap();
        assert_eq!(docs.function(None, "add"), Some("Adds."));
        assert_eq!(docs.function(None, "old"), Some("Old style."));
        assert_eq!(
            docs.function(Some("text"), "slugify"),
            Some("Makes a slug.")
        );
        assert_eq!(docs.function(Some("text"), "missing"), None);
    }

    #[test]
    fn malformed_sections_are_errors() {
        assert!(PackageDocs::decode(&[]).is_err());
        assert!(PackageDocs::decode(&[7, b'{', b'}']).is_err());
        assert!(PackageDocs::decode(&[1, b'x']).is_err());
    }
}
