//! `corral audit`: a component's imports against its grants, for reviewers.
//!
//! For each component: what its WIT imports ask for, grouped by capability;
//! which capabilities are linked for real and which as refusals; what the
//! config grants; the effective reach in plain words; its tools with their
//! annotations; and a warning for every grant it cannot use. Every part
//! comes from the capability list ([`crate::capabilities::ALL`]), so the
//! audit describes exactly what the sandbox links. Imports are read from
//! the binary itself (no compilation needed), so a component that cannot
//! be loaded is still audited.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::capabilities::{Imports, OTHER, ToolHints};
use crate::config::ComponentConfig;
use crate::registry::load_component;
use crate::sandbox::Sandbox;

/// The version of the JSON shape; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The audit of one component. Serialised as the documented JSON shape.
#[derive(Debug, Serialize)]
pub struct ComponentAudit {
    /// The component's name in the config.
    pub name: String,
    /// The component file.
    pub path: String,
    /// Budgets of each call.
    pub limits: LimitsView,
    /// WIT imports by capability group (every group present, possibly empty;
    /// `other` holds what no capability provides).
    pub imports: BTreeMap<&'static str, Vec<String>>,
    /// For each capability the component imports: `granted` (linked) or
    /// `refused` (linked as a refusal: every use traps).
    pub linked: BTreeMap<&'static str, &'static str>,
    /// What the config grants, by config key (names, never secret values).
    pub grants: serde_json::Map<String, serde_json::Value>,
    /// The grants as text lines, in the order of their keys.
    #[serde(skip)]
    pub grant_lines: Vec<String>,
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
    /// How long a call waits for each answer from its client, in
    /// milliseconds; only for a component that may ask
    /// (`corral:mcp/client`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_timeout_ms: Option<u64>,
    /// Bytes of host memory a call may make the host hold.
    pub host_memory_bytes: u64,
    /// WASI resources held at once.
    pub handles: u32,
    /// Files and sockets open at once.
    pub descriptors: u32,
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
    let limits = &config.limits;
    let mut error = None;
    let names = match std::fs::read(&config.path) {
        Ok(bytes) => imports(&bytes).unwrap_or_else(|e| {
            error = Some(format!("not a readable component: {e}"));
            Vec::new()
        }),
        Err(e) => {
            error = Some(format!("cannot read {}: {e}", config.path.display()));
            Vec::new()
        }
    };
    let imports = Imports::new(names);
    let key = format!("components.{}", config.name);

    let mut linked = BTreeMap::new();
    let mut grants = Vec::new();
    let mut grant_lines = Vec::new();
    let mut reach = Vec::new();
    let mut warnings = Vec::new();
    for (capability, grant) in config.grants.iter() {
        let imported = capability
            .interfaces()
            .iter()
            .any(|group| imports.has(group.label));
        if imported {
            let how = if grant.granted() {
                "granted"
            } else {
                "refused"
            };
            linked.insert(capability.name(), how);
        }
        let part = grant.audit(&imports, &key);
        let order = part.view.first().map_or("", |(key, _)| *key);
        grant_lines.push((order, part.grants));
        grants.extend(part.view);
        reach.extend(part.reach);
        warnings.extend(part.warnings);
    }
    let by_label = imports.by_label();
    for other in &by_label[OTHER] {
        reach.push(format!(
            "imports {other}, which Corral does not provide: the component cannot be loaded"
        ));
    }

    let mut audit = ComponentAudit {
        name: config.name.clone(),
        path: config.path.display().to_string(),
        limits: LimitsView {
            memory_bytes: limits.memory,
            fuel: limits.fuel,
            timeout_ms: limits.timeout.as_millis() as u64,
            input_timeout_ms: imports
                .has("mcp client")
                .then_some(limits.input_timeout.as_millis() as u64),
            host_memory_bytes: limits.host_memory,
            handles: limits.handles,
            descriptors: limits.descriptors,
        },
        imports: by_label,
        linked,
        grants: grants
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        grant_lines: {
            // By key, as the JSON lists them.
            grant_lines.sort_by_key(|(key, _)| *key);
            grant_lines
                .into_iter()
                .flat_map(|(_, lines)| lines)
                .collect()
        },
        reach,
        tools: Vec::new(),
        warnings,
        error,
    };
    if audit.error.is_none() {
        match load_component(config, sandbox) {
            Ok(loaded) => {
                if let Some(served) = &loaded.served {
                    audit.reach.extend(served.describe());
                }
                audit.tools = loaded
                    .tools
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
                    let import = import.map_err(|e| e.to_string())?;
                    // A type bound by equality (componentize-py imports a
                    // world's types so) needs nothing from the host.
                    if !matches!(
                        import.ty,
                        wasmparser::ComponentTypeRef::Type(wasmparser::TypeBounds::Eq(_))
                    ) {
                        names.push(import.name.name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// The audits as text for a reviewer.
pub fn render_text(audits: &[ComponentAudit]) -> String {
    let mut out = String::new();
    for (i, a) in audits.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_one(&mut out, a);
    }
    out
}

fn render_one(out: &mut String, a: &ComponentAudit) {
    let size = |b: u64| bytesize::ByteSize(b).display().iec().to_string();
    let _ = writeln!(out, "component {} ({})", a.name, a.path);
    let l = &a.limits;
    let _ = write!(
        out,
        "  limits: memory {}, fuel {}, timeout {} ms",
        size(l.memory_bytes),
        l.fuel,
        l.timeout_ms
    );
    match l.input_timeout_ms {
        Some(wait) => {
            let _ = writeln!(
                out,
                ", waits at most {wait} ms for each answer from its client"
            );
        }
        None => out.push('\n'),
    }
    let _ = writeln!(
        out,
        "  host limits: host memory {}, handles {}, descriptors {}",
        size(l.host_memory_bytes),
        l.handles,
        l.descriptors
    );
    if let Some(error) = &a.error {
        let _ = writeln!(out, "  ERROR: {error}");
    }
    let _ = writeln!(out, "  imports:");
    let mut any = false;
    for label in Imports::labels() {
        let names = a.imports.get(label).map_or(&[][..], Vec::as_slice);
        if !names.is_empty() {
            any = true;
            let _ = writeln!(out, "    {label:<12} {}", names.join(", "));
        }
    }
    if !any {
        let _ = writeln!(out, "    (none)");
    }
    if !a.linked.is_empty() {
        let _ = writeln!(out, "  linked:");
        for (capability, how) in &a.linked {
            let _ = writeln!(out, "    {capability:<12} {how}");
        }
    }
    let _ = writeln!(out, "  grants:");
    if a.grant_lines.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for line in &a.grant_lines {
        let _ = writeln!(out, "    {line}");
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

/// The audits as the documented JSON document.
pub fn render_json(audits: &[ComponentAudit]) -> serde_json::Value {
    serde_json::json!({ "corral_audit": FORMAT_VERSION, "components": audits })
}
