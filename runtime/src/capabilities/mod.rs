//! Capabilities: what a component may reach, one unit each.
//!
//! Every capability Corral provides is one module here. Its [`Capability`]
//! says how a grant is written in `[components.NAME]` and which WIT
//! interfaces it provides; its [`Grant`] is what one component was granted,
//! and covers every step of that grant's life: checked against the host at
//! start, linked into the component's linker, set up for each call,
//! described for a reviewer, reflected in the tools' annotations. All of its
//! methods are required, so a new capability cannot skip a step.
//!
//! [`ALL`] is the one list that names them: the config, `corral check`,
//! `corral audit`, the linker and the per-call state all iterate over it.
//! A component gets linked only the interfaces it imports and is granted;
//! an interface it imports without the grant is linked as a refusal
//! ([`denied`]): every call of it traps with a message naming the key that
//! would grant it, and nothing is allocated or opened for it.
//!
//! | unit | interfaces | granted by |
//! |---|---|---|
//! | [`files`] | `wasi:filesystem/*` | `dirs` |
//! | [`sockets`] | `wasi:sockets/*` | `network` |
//! | [`http`] | `wasi:http/*` | `network` |
//! | [`environment`] | `wasi:cli/environment` | `env`, `env_from_host` |
//! | [`stdio`] | `wasi:cli/std*`, `wasi:cli/terminal-*` | always (captured) |
//! | [`clocks`] | `wasi:clocks/*`, `wasi:random/*` | always |
//! | [`exit`] | `wasi:cli/exit` | always |
//! | [`io`] | `wasi:io/*` | always (the plumbing of the others) |
//! | [`config_store`] | `wasi:config/store` | `config`, `config_from_host` |
//! | [`mcp_types`] | `corral:mcp/types` | always (types only) |
//! | [`mcp_log`] | `corral:mcp/log` | always (to the caller, capped) |
//! | [`mcp_progress`] | `corral:mcp/progress` | always (to the caller, capped) |
//! | [`mcp_client`] | `corral:mcp/client` | always (questions to the caller, bounded) |
//! | [`mcp_task`] | `corral:mcp/task` | always (a task of the caller's, same limits) |
//! | [`arguments`] | (none) | never: no arguments, empty stdin |
//!
//! ## Adding a capability
//!
//! 1. Write `capabilities/NAME.rs`: a unit struct implementing
//!    [`Capability`] (its keys, its interfaces, parsing its keys) and a
//!    grant type implementing [`Grant`]. The compiler asks for each method.
//!    A capability no key controls (given to every component importing it,
//!    like `exit` or `corral:mcp/log`) returns the shared `always::Always`
//!    grant from `parse`, with its linking, its reach and whether it talks
//!    to the client.
//! 2. Add it to [`ALL`]; its place there is its place in the audit.
//! 3. If its host interfaces keep state during a call, add a field to
//!    [`CallState`] and fill it in [`Grant::prepare`].
//! 4. Test it through a real client (granted, refused without the grant)
//!    and in the audit goldens (`tests/all/audit.rs`).

mod always;
pub mod arguments;
pub mod asking;
pub mod client;
pub mod clocks;
pub mod config_store;
pub mod denied;
pub mod environment;
pub mod exit;
pub mod files;
pub mod http;
pub mod io;
pub mod mcp_client;
pub mod mcp_log;
pub mod mcp_progress;
pub mod mcp_task;
pub mod mcp_types;
pub mod sockets;
pub mod stdio;

mod call;
mod denials;
mod hints;
mod network;
mod section;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};

pub use call::{CallBudgets, CallSetup, CallState};
pub use denials::Denials;
pub use hints::{RawHints, ToolHints};
pub use network::{NetGrant, NetRule};
pub use section::{GrantError, Section};
pub use stdio::{CAPTURE_LIMIT, Captured};

/// A kind of access Corral can give a component.
pub trait Capability: Sync {
    /// Its name in messages, e.g. `files`.
    fn name(&self) -> &'static str;

    /// The keys of `[components.NAME]` it reads.
    fn keys(&self) -> &'static [&'static str];

    /// The WIT interfaces it provides, grouped as `corral audit` lists them.
    fn interfaces(&self) -> &'static [Interfaces];

    /// Reads its keys from one component's table. Only the shape is
    /// checked here (no file, variable or name is looked up), so parsing a
    /// config never touches the host.
    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError>;
}

/// What one component was granted of one capability.
pub trait Grant: Send + Sync + fmt::Debug {
    /// Checks the grant against the host at start (what `corral check`
    /// runs): granted directories exist, host variables are set, host names
    /// resolve. Returns the grant with what it found.
    fn validate(
        &self,
        section: &Section<'_>,
        host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError>;

    /// Whether its interfaces are linked for a component that imports them.
    /// `false` links them as a refusal.
    fn granted(&self) -> bool;

    /// Links its host interfaces into a component's linker.
    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()>;

    /// Sets up its part of one call.
    fn prepare(&self, call: &mut CallSetup) -> Result<(), String>;

    /// Whether its host functions talk to the call's client (log
    /// messages, progress), so that a call needs a [`client::ClientLink`].
    fn talks_to_client(&self) -> bool;

    /// Describes the grant for a reviewer, given what the component
    /// imports; `key` is `components.NAME`.
    fn audit(&self, imports: &Imports, key: &str) -> AuditPart;

    /// What the grant lets tools do, for their annotations.
    fn effects(&self) -> Effects;

    /// Host names the grant knows, each with the guest's name for the same
    /// thing (a granted directory's host path and its guest path), so that
    /// no answer tells a client where things are on the host.
    fn host_names(&self) -> Vec<(String, String)>;

    /// File descriptors the grant holds open for the process's life (a
    /// granted directory's), for the start-up check of the descriptor
    /// limit.
    fn held_descriptors(&self) -> u64;
}

/// The host a grant is checked against at start.
pub struct Host<'a> {
    /// The config file's directory: relative paths are relative to it.
    pub base: &'a Path,
    /// Looks a variable up in corral's own environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// One group of WIT interfaces, as the audit lists them.
#[derive(Debug)]
pub struct Interfaces {
    /// The audit's label, e.g. `filesystem`.
    pub label: &'static str,
    /// Interface names (`wasi:cli/environment`) or packages (`wasi:http/`,
    /// ending in `/`) in the group.
    pub names: &'static [&'static str],
}

impl Interfaces {
    /// Whether the import `import` (with or without `@version`) is in the group.
    pub fn covers(&self, import: &str) -> bool {
        let interface = import.split('@').next().unwrap_or(import);
        self.names.iter().any(|name| {
            if name.ends_with('/') {
                interface.starts_with(name)
            } else {
                interface == *name
            }
        })
    }
}

/// A capability's part of one component's audit.
#[derive(Debug, Default)]
pub struct AuditPart {
    /// Entries of the JSON `grants` object (names, never secret values).
    pub view: Vec<(&'static str, serde_json::Value)>,
    /// Lines of the text `grants:` list, e.g. `dir      data -> /data (ro)`.
    pub grants: Vec<String>,
    /// What the component can reach, in plain words.
    pub reach: Vec<String>,
    /// What a reviewer should look at: unused grants, risky ones.
    pub warnings: Vec<String>,
}

/// What a grant lets a tool do, for its annotations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// It may change or delete host files.
    pub writes: bool,
    /// It may talk to the outside world.
    pub open_world: bool,
}

impl Effects {
    fn or(self, other: Effects) -> Effects {
        Effects {
            writes: self.writes || other.writes,
            open_world: self.open_world || other.open_world,
        }
    }
}

/// Every capability, in the order `corral audit` lists them.
pub static ALL: [&dyn Capability; 15] = [
    &files::Files,
    &sockets::Sockets,
    &http::Http,
    &environment::Environment,
    &stdio::Stdio,
    &clocks::ClocksAndRandom,
    &exit::Exit,
    &io::Io,
    &config_store::ConfigStore,
    &mcp_types::McpTypes,
    &mcp_log::McpLog,
    &mcp_progress::McpProgress,
    &mcp_client::McpClient,
    &mcp_task::McpTask,
    &arguments::Arguments,
];

/// The keys of `[components.NAME]` that are not a capability's.
const COMPONENT_KEYS: &[&str] = &["path", "wit", "tool_prefix", "limits", "hints"];

/// A component's grants: one per capability, in the order of [`ALL`].
#[derive(Debug, Clone)]
pub struct Grants {
    units: Vec<Arc<dyn Grant>>,
}

impl Grants {
    /// Reads every capability's keys from `section`; a key no capability
    /// (and not the component itself) reads is an error naming it.
    pub fn parse(section: &Section<'_>) -> Result<Grants, GrantError> {
        for key in section.keys() {
            let known =
                COMPONENT_KEYS.contains(&key) || ALL.iter().any(|c| c.keys().contains(&key));
            if !known {
                let mut valid: Vec<&str> = COMPONENT_KEYS.to_vec();
                valid.extend(ALL.iter().flat_map(|c| c.keys().iter().copied()));
                valid.sort_unstable();
                valid.dedup();
                return Err(section.error(
                    key,
                    format!(
                        "unknown key `{key}`; a component takes {}",
                        valid.join(", ")
                    ),
                ));
            }
        }
        let units = ALL
            .iter()
            .map(|c| c.parse(section))
            .collect::<Result<_, _>>()?;
        Ok(Grants { units })
    }

    /// Nothing granted: a component audited or served without a config.
    pub fn none() -> Grants {
        let empty = Default::default();
        let section = Section::new("", "", &empty);
        Grants::parse(&section).unwrap_or(Grants { units: Vec::new() })
    }

    /// Checks every grant against the host (see [`Grant::validate`]).
    pub fn validate(&self, section: &Section<'_>, host: &Host<'_>) -> Result<Grants, GrantError> {
        let units = self
            .units
            .iter()
            .map(|g| g.validate(section, host))
            .collect::<Result<_, _>>()?;
        Ok(Grants { units })
    }

    /// Each capability with its grant, in the order of [`ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (&'static dyn Capability, &Arc<dyn Grant>)> {
        ALL.iter().copied().zip(&self.units)
    }

    /// File descriptors the grants hold open for the process's life.
    pub fn held_descriptors(&self) -> u64 {
        self.iter().map(|(_, grant)| grant.held_descriptors()).sum()
    }

    /// What the grants together let a tool do.
    pub fn effects(&self) -> Effects {
        self.units
            .iter()
            .fold(Effects::default(), |all, g| all.or(g.effects()))
    }

    /// `text` with every host name a grant knows replaced by the guest's
    /// name for it (longest first, so a path is never half replaced).
    pub fn redact(&self, text: &str) -> String {
        let mut names: Vec<(String, String)> =
            self.units.iter().flat_map(|g| g.host_names()).collect();
        names.sort_by_key(|(host, _)| std::cmp::Reverse(host.len()));
        let mut redacted = text.to_owned();
        for (host, guest) in names {
            if !host.is_empty() && redacted.contains(&host) {
                redacted = redacted.replace(&host, &guest);
            }
        }
        redacted
    }

    /// The grants, one line each (for `corral check`).
    pub fn describe(&self) -> Vec<String> {
        self.units
            .iter()
            .flat_map(|g| g.audit(&Imports::none(), "").grants)
            .collect()
    }
}

/// The WIT imports of one component.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    names: Vec<String>,
}

impl Imports {
    /// The imports named `names` (e.g. `wasi:cli/environment@0.2.6`).
    pub fn new(names: Vec<String>) -> Imports {
        Imports { names }
    }

    /// No import at all.
    pub fn none() -> Imports {
        Imports::default()
    }

    /// The imports of a compiled component. An imported type (a name
    /// bound to a type the component defines, as componentize-py writes
    /// for the types of a world) needs nothing from the host and is left
    /// out.
    pub fn of(component: &Component, engine: &Engine) -> Imports {
        Imports::new(
            component
                .component_type()
                .imports(engine)
                .filter(|(_, item)| !matches!(item.ty, ComponentItem::Type(_)))
                .map(|(name, _)| name.to_owned())
                .collect(),
        )
    }

    /// Whether some import is in the group labelled `label`.
    pub fn has(&self, label: &str) -> bool {
        let group = ALL
            .iter()
            .flat_map(|c| c.interfaces())
            .find(|i| i.label == label);
        group.is_some_and(|group| self.names.iter().any(|n| group.covers(n)))
    }

    /// Every import, by the label of its group; imports no capability
    /// provides are under `other`. Every label is present.
    pub fn by_label(&self) -> BTreeMap<&'static str, Vec<String>> {
        let mut labelled: BTreeMap<&'static str, Vec<String>> = ALL
            .iter()
            .flat_map(|c| c.interfaces())
            .map(|i| (i.label, Vec::new()))
            .collect();
        labelled.insert(OTHER, Vec::new());
        for name in &self.names {
            let label = ALL
                .iter()
                .flat_map(|c| c.interfaces())
                .find(|i| i.covers(name))
                .map_or(OTHER, |i| i.label);
            labelled.entry(label).or_default().push(name.clone());
        }
        labelled
    }

    /// The labels in the order the audit lists them.
    pub fn labels() -> impl Iterator<Item = &'static str> {
        ALL.iter()
            .flat_map(|c| c.interfaces())
            .map(|i| i.label)
            .chain(std::iter::once(OTHER))
    }

    /// Imports no capability provides.
    pub fn unprovided(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|n| !ALL.iter().flat_map(|c| c.interfaces()).any(|i| i.covers(n)))
            .map(String::as_str)
    }
}

/// The audit's label for imports no capability provides.
pub const OTHER: &str = "other";

/// One component's linker and the grants it links for real.
pub struct Linked {
    /// The linker, holding every import of the component.
    pub linker: Linker<CallState>,
    /// The grants whose interfaces are linked, in the order of [`ALL`]:
    /// these prepare each call.
    pub grants: Vec<Arc<dyn Grant>>,
    /// Whether the component imports `corral:mcp/task`: its tool calls may
    /// go on as tasks.
    pub may_go_on_as_task: bool,
}

impl Linked {
    /// Whether a call needs a link to its client (see
    /// [`Grant::talks_to_client`]).
    pub fn talks_to_client(&self) -> bool {
        self.grants.iter().any(|g| g.talks_to_client())
    }
}

/// Builds the linker of one component: each capability whose interfaces
/// it imports is linked for real when granted, as a refusal when not.
/// Fails, naming it, on an import no capability provides.
pub fn link(engine: &Engine, component: &Component, grants: &Grants) -> Result<Linked, LinkError> {
    let imports = Imports::of(component, engine);
    if let Some(import) = imports.unprovided().next() {
        return Err(LinkError::Unprovided(import.to_owned()));
    }
    let mut linker = Linker::new(engine);
    let mut linked = Vec::new();
    let mut refused: Vec<&'static dyn Capability> = Vec::new();
    for (capability, grant) in grants.iter() {
        let imported = capability
            .interfaces()
            .iter()
            .any(|group| imports.has(group.label));
        if !imported {
            continue;
        }
        if grant.granted() {
            grant
                .link(&mut linker)
                .map_err(|e| LinkError::Host(format!("{}: {e:#}", capability.name())))?;
            linked.push(grant.clone());
        } else {
            refused.push(capability);
        }
    }
    let is_refused = |import: &str| {
        refused
            .iter()
            .any(|c| c.interfaces().iter().any(|i| i.covers(import)))
    };
    denied::link(&mut linker, component, engine, is_refused)
        .map_err(|e| LinkError::Host(format!("{e:#}")))?;
    Ok(Linked {
        linker,
        grants: linked,
        may_go_on_as_task: imports.has("mcp task"),
    })
}

/// Why a component's imports cannot be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The component imports an interface no capability provides.
    #[error("it imports {0}, which Corral does not provide")]
    Unprovided(String),
    /// Linking failed on the host's side.
    #[error("linking failed: {0}")]
    Host(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_match_names_and_packages() {
        let group = Interfaces {
            label: "x",
            names: &["wasi:http/", "wasi:cli/environment"],
        };
        assert!(group.covers("wasi:http/types@0.2.3"));
        assert!(group.covers("wasi:cli/environment@0.2.0"));
        assert!(!group.covers("wasi:cli/exit@0.2.0"));
        assert!(!group.covers("wasi:httpx/types"));
    }

    #[test]
    fn every_capability_has_a_distinct_name_and_keys() {
        let mut names: Vec<&str> = ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
