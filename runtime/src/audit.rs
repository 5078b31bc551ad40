//! `corral audit`: a component's imports against its grants, for reviewers.
//!
//! For each component: what its WIT imports ask for, grouped by capability;
//! what the config grants; the effective reach in plain words; its tools
//! with their annotations; and a warning for every grant it cannot use.
//! Imports are read from the binary itself (no compilation needed), so a
//! component that cannot be loaded is still audited.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::ComponentConfig;
use crate::grants::{DirMode, EnvSource, Grants, ToolHints};
use crate::registry::load_component;
use crate::sandbox::Sandbox;

/// The version of the JSON shape; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// What a component may ask the host for, by WIT import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `wasi:filesystem/*`
    Filesystem,
    /// `wasi:sockets/*`
    Sockets,
    /// `wasi:http/*`
    Http,
    /// `wasi:cli/environment`
    Environment,
    /// `wasi:cli/std{in,out,err}`, `wasi:cli/terminal-*`
    Stdio,
    /// `wasi:clocks/*`
    Clocks,
    /// `wasi:random/*`
    Random,
    /// `wasi:cli/exit`
    Exit,
    /// `wasi:io/*`: streams and polling, the plumbing of the others.
    Io,
    /// Anything else, which Corral does not provide.
    Other,
}

impl Capability {
    /// The capability an import name belongs to.
    pub fn of(import: &str) -> Capability {
        let interface = import.split('@').next().unwrap_or(import);
        match interface {
            i if i.starts_with("wasi:filesystem/") => Capability::Filesystem,
            i if i.starts_with("wasi:sockets/") => Capability::Sockets,
            i if i.starts_with("wasi:http/") => Capability::Http,
            "wasi:cli/environment" => Capability::Environment,
            "wasi:cli/exit" => Capability::Exit,
            i if i.starts_with("wasi:cli/") => Capability::Stdio,
            i if i.starts_with("wasi:clocks/") => Capability::Clocks,
            i if i.starts_with("wasi:random/") => Capability::Random,
            i if i.starts_with("wasi:io/") => Capability::Io,
            _ => Capability::Other,
        }
    }
}

/// The audit of one component. Serialised as the documented JSON shape.
#[derive(Debug, Serialize)]
pub struct ComponentAudit {
    /// The component's name in the config.
    pub name: String,
    /// The component file.
    pub path: String,
    /// Budgets of each call.
    pub limits: LimitsView,
    /// WIT imports by capability (every key present, possibly empty).
    pub imports: BTreeMap<Capability, Vec<String>>,
    /// What the config grants.
    pub grants: GrantsView,
    /// The effective reach, one plain sentence each.
    pub reach: Vec<String>,
    /// The tools and their annotations.
    pub tools: Vec<ToolView>,
    /// Unusable grants and other things a reviewer should look at.
    pub warnings: Vec<String>,
    /// Why the component cannot be served, if it cannot.
    pub error: Option<String>,
}

/// Budgets, in plain units.
#[derive(Debug, Serialize)]
pub struct LimitsView {
    /// Bytes of linear memory.
    pub memory_bytes: u64,
    /// Fuel units per call.
    pub fuel: u64,
    /// Deadline per call, in milliseconds.
    pub timeout_ms: u64,
}

/// Grants as data.
#[derive(Debug, Serialize)]
pub struct GrantsView {
    /// Directories.
    pub dirs: Vec<DirView>,
    /// Environment variable names (never values) and where they come from.
    pub env: Vec<EnvView>,
    /// `network.allow` entries, normalised.
    pub network: Vec<String>,
}

/// One directory grant.
#[derive(Debug, Serialize)]
pub struct DirView {
    /// The host path as configured.
    pub host: String,
    /// The guest path.
    pub guest: String,
    /// `ro` or `rw`.
    pub mode: DirMode,
}

/// One environment grant.
#[derive(Debug, Serialize)]
pub struct EnvView {
    /// The variable's name.
    pub name: String,
    /// `config` or `host`.
    pub source: &'static str,
}

/// One tool.
#[derive(Debug, Serialize)]
pub struct ToolView {
    /// The tool name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its annotations.
    pub annotations: ToolHints,
}

/// Audits one configured component.
pub fn audit_component(config: &ComponentConfig, sandbox: &Sandbox) -> ComponentAudit {
    let mut audit = ComponentAudit {
        name: config.name.clone(),
        path: config.path.display().to_string(),
        limits: LimitsView {
            memory_bytes: config.limits.memory,
            fuel: config.limits.fuel,
            timeout_ms: config.limits.timeout.as_millis() as u64,
        },
        imports: [
            Capability::Filesystem,
            Capability::Sockets,
            Capability::Http,
            Capability::Environment,
            Capability::Stdio,
            Capability::Clocks,
            Capability::Random,
            Capability::Exit,
            Capability::Io,
            Capability::Other,
        ]
        .into_iter()
        .map(|c| (c, Vec::new()))
        .collect(),
        grants: grants_view(&config.grants),
        reach: Vec::new(),
        tools: Vec::new(),
        warnings: Vec::new(),
        error: None,
    };
    match std::fs::read(&config.path) {
        Ok(bytes) => match imports(&bytes) {
            Ok(names) => {
                for name in names {
                    audit
                        .imports
                        .entry(Capability::of(&name))
                        .or_default()
                        .push(name);
                }
            }
            Err(e) => audit.error = Some(format!("not a readable component: {e}")),
        },
        Err(e) => audit.error = Some(format!("cannot read {}: {e}", config.path.display())),
    }
    if audit.error.is_none() {
        match load_component(config, sandbox) {
            Ok(tools) => {
                audit.tools = tools
                    .into_iter()
                    .map(|t| ToolView {
                        name: t.name,
                        description: t.description,
                        annotations: t.hints,
                    })
                    .collect();
            }
            Err(e) => audit.error = Some(e.to_string()),
        }
    }
    explain(&mut audit, config);
    audit
}

/// The names of a component binary's top-level imports.
fn imports(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    return Err("this is a core module, not a component".into());
                }
                depth += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    names.push(import.map_err(|e| e.to_string())?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

fn grants_view(grants: &Grants) -> GrantsView {
    GrantsView {
        dirs: grants
            .dirs
            .iter()
            .map(|d| DirView {
                host: d.host_as_written.clone(),
                guest: d.guest.clone(),
                mode: d.mode,
            })
            .collect(),
        env: grants
            .env
            .names()
            .map(|(name, source)| EnvView {
                name: name.to_owned(),
                source: match source {
                    EnvSource::Config => "config",
                    EnvSource::Host => "host",
                },
            })
            .collect(),
        network: grants.net.rules().iter().map(ToString::to_string).collect(),
    }
}

/// Fills in the reach and the warnings from imports and grants.
fn explain(audit: &mut ComponentAudit, config: &ComponentConfig) {
    let grants = &config.grants;
    let key = format!("components.{}", config.name);
    let imports = |c: Capability| !audit.imports[&c].is_empty();
    let (fs, sockets, http, env) = (
        imports(Capability::Filesystem),
        imports(Capability::Sockets),
        imports(Capability::Http),
        imports(Capability::Environment),
    );
    let (stdio, clocks, random, exit) = (
        imports(Capability::Stdio),
        imports(Capability::Clocks),
        imports(Capability::Random),
        imports(Capability::Exit),
    );
    let others = audit.imports[&Capability::Other].clone();
    let mut reach = Vec::new();
    let mut warnings = Vec::new();

    match (fs, grants.dirs.is_empty()) {
        (true, false) => reach.extend(grants.dirs.iter().map(|d| d.describe())),
        (true, true) => reach.push(
            "imports wasi:filesystem but has no directory grant: every file access is refused".into(),
        ),
        (false, false) => warnings.push(format!(
            "{key}.dirs is granted but the component does not import wasi:filesystem: the grant is unused"
        )),
        (false, true) => {}
    }
    let net = grants.net.rules();
    if sockets {
        if net.is_empty() {
            reach.push(
                "imports wasi:sockets but has no network grant: every connection is refused".into(),
            );
        } else {
            reach.extend(net.iter().map(|r| format!("may connect to {r} (sockets)")));
        }
    }
    if http {
        if net.is_empty() {
            reach.push(
                "imports wasi:http but has no network grant: every request is refused".into(),
            );
        } else {
            reach.extend(net.iter().map(|r| format!("may send HTTP requests to {r}")));
        }
    }
    if !net.is_empty() && !sockets && !http {
        warnings.push(format!(
            "{key}.network is granted but the component imports neither wasi:sockets nor wasi:http: the grant is unused"
        ));
    }
    match (env, grants.env.is_empty()) {
        (true, false) => reach.extend(grants.env.describe()),
        (true, true) => reach.push("reads its environment, which is empty: no variable is granted".into()),
        (false, false) => warnings.push(format!(
            "{key}.env is granted but the component does not import wasi:cli/environment: the grant is unused"
        )),
        (false, true) => {}
    }
    if stdio {
        reach.push("writes to stdout and stderr: captured (64 KiB each per call) and logged, never sent to the client".into());
    }
    if clocks {
        reach.push("reads the wall clock and the monotonic clock".into());
    }
    if random {
        reach.push("reads random numbers".into());
    }
    if exit {
        reach.push("may exit early: reported to the client as an error".into());
    }
    for other in &others {
        reach.push(format!(
            "imports {other}, which Corral does not provide: the component cannot be loaded"
        ));
    }
    reach.push("gets no command-line arguments and an empty stdin".into());
    if grants.dirs.iter().any(|d| d.mode == DirMode::ReadWrite) && fs {
        warnings.push(
            "a directory is granted read-write: the tools may change or delete files in it".into(),
        );
    }
    audit.reach = reach;
    audit.warnings.extend(warnings);
}

/// The audits as text for a reviewer.
pub fn render_text(audits: &[ComponentAudit]) -> String {
    let mut out = String::new();
    for (i, a) in audits.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "component {} ({})", a.name, a.path);
        let _ = writeln!(
            out,
            "  limits: memory {}, fuel {}, timeout {} ms",
            bytesize::ByteSize(a.limits.memory_bytes).display().iec(),
            a.limits.fuel,
            a.limits.timeout_ms
        );
        if let Some(error) = &a.error {
            let _ = writeln!(out, "  ERROR: {error}");
        }
        let _ = writeln!(out, "  imports:");
        let mut any = false;
        for (capability, names) in &a.imports {
            if !names.is_empty() {
                any = true;
                let label = serde_json::to_value(capability)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {label:<12} {}", names.join(", "));
            }
        }
        if !any {
            let _ = writeln!(out, "    (none)");
        }
        let _ = writeln!(out, "  grants:");
        let g = &a.grants;
        if g.dirs.is_empty() && g.env.is_empty() && g.network.is_empty() {
            let _ = writeln!(out, "    (none)");
        }
        for d in &g.dirs {
            let _ = writeln!(out, "    dir      {} -> {} ({})", d.host, d.guest, d.mode);
        }
        for e in &g.env {
            let _ = writeln!(out, "    env      {} (from {})", e.name, e.source);
        }
        for n in &g.network {
            let _ = writeln!(out, "    network  {n}");
        }
        let _ = writeln!(out, "  reach:");
        for line in &a.reach {
            let _ = writeln!(out, "    - {line}");
        }
        let _ = writeln!(out, "  tools:");
        for t in &a.tools {
            let h = &t.annotations;
            let mut flags = Vec::new();
            if h.read_only {
                flags.push("read-only");
            }
            if h.destructive {
                flags.push("destructive");
            }
            if h.open_world {
                flags.push("open-world");
            }
            if h.idempotent == Some(true) {
                flags.push("idempotent");
            }
            let summary = t
                .description
                .as_deref()
                .and_then(|d| d.lines().next())
                .unwrap_or("(no description)");
            let _ = writeln!(out, "    {} [{}] {summary}", t.name, flags.join(", "));
        }
        if !a.warnings.is_empty() {
            let _ = writeln!(out, "  warnings:");
            for w in &a.warnings {
                let _ = writeln!(out, "    ! {w}");
            }
        }
    }
    out
}

/// The audits as the documented JSON document.
pub fn render_json(audits: &[ComponentAudit]) -> serde_json::Value {
    serde_json::json!({ "corral_audit": FORMAT_VERSION, "components": audits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_grouped_by_capability() {
        assert_eq!(
            Capability::of("wasi:filesystem/types@0.2.3"),
            Capability::Filesystem
        );
        assert_eq!(
            Capability::of("wasi:cli/environment@0.2.0"),
            Capability::Environment
        );
        assert_eq!(Capability::of("wasi:cli/stderr@0.2.0"), Capability::Stdio);
        assert_eq!(Capability::of("wasi:cli/exit@0.2.0"), Capability::Exit);
        assert_eq!(
            Capability::of("wasi:http/outgoing-handler@0.2.0"),
            Capability::Http
        );
        assert_eq!(Capability::of("acme:secret/keys"), Capability::Other);
    }
}
