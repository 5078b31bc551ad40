//! Configuration values: runtime settings a component reads by key through
//! `wasi:config/store` (`config = { key = "value" }`, and
//! `config_from_host = ["NAME"]` to pass a variable of corral's own
//! environment under its name). Values never appear in logs, audits or
//! `Debug` output; a component that imports the interface without the
//! grant gets it linked as a refusal.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The configuration-values capability.
pub struct ConfigStore;

/// A call's configuration values (shared, read-only).
#[derive(Clone)]
pub(crate) struct CallConfig(Arc<WasiConfigVariables>);

impl Default for CallConfig {
    /// No values, shared by every call that has none (no allocation per call).
    fn default() -> Self {
        static EMPTY: std::sync::OnceLock<Arc<WasiConfigVariables>> = std::sync::OnceLock::new();
        CallConfig(
            EMPTY
                .get_or_init(|| Arc::new(WasiConfigVariables::new()))
                .clone(),
        )
    }
}

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Config,
    Host,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Host => "host",
        }
    }
}

#[derive(Clone)]
struct Value {
    key: String,
    source: Source,
    value: Option<String>,
}

/// The keys granted to one component.
#[derive(Clone, Default)]
struct ConfigGrant {
    values: Vec<Value>,
    /// The values, once validated.
    vars: CallConfig,
}

impl fmt::Debug for ConfigGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys only: values may be secrets.
        f.debug_list()
            .entries(self.values.iter().map(|v| (&v.key, v.source)))
            .finish()
    }
}

impl Capability for ConfigStore {
    fn name(&self) -> &'static str {
        "config"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["config", "config_from_host"]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "config",
            names: &["wasi:config/"],
        }]
    }

    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        let literal: BTreeMap<String, String> = section.get("config")?.unwrap_or_default();
        let from_host: Vec<String> = section.get("config_from_host")?.unwrap_or_default();
        let mut values: Vec<Value> = literal
            .into_iter()
            .map(|(key, value)| Value {
                key,
                source: Source::Config,
                value: Some(value),
            })
            .collect();
        for key in from_host {
            if values.iter().any(|v| v.key == key) {
                return Err(section.error(
                    "config_from_host",
                    format!("{key:?} is also set in {}; keep one", section.key("config")),
                ));
            }
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(section.error(
                    "config_from_host",
                    format!("{key:?} is not a valid variable name"),
                ));
            }
            values.push(Value {
                key,
                source: Source::Host,
                value: None,
            });
        }
        Ok(Arc::new(ConfigGrant {
            values,
            vars: CallConfig::default(),
        }))
    }
}

impl Grant for ConfigGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        section: &Section<'_>,
        host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        let mut grant = self.clone();
        for value in grant.values.iter_mut().filter(|v| v.source == Source::Host) {
            let found = (host.env)(&value.key).ok_or_else(|| {
                section.error(
                    "config_from_host",
                    format!(
                        "the host environment has no variable {:?} (set it before starting \
                         corral, or remove it from the list)",
                        value.key
                    ),
                )
            })?;
            value.value = Some(found);
        }
        let vars = grant
            .values
            .iter()
            .filter_map(|v| v.value.clone().map(|value| (v.key.clone(), value)));
        grant.vars = CallConfig(Arc::new(WasiConfigVariables::from_iter(vars)));
        Ok(Arc::new(grant))
    }

    fn granted(&self) -> bool {
        !self.values.is_empty()
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        wasmtime_wasi_config::add_to_linker(linker, |s: &mut CallState| {
            WasiConfig::from(&*s.config.0)
        })
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        call.config = self.vars.clone();
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, key: &str) -> AuditPart {
        let view = self
            .values
            .iter()
            .map(|v| serde_json::json!({"name": v.key, "source": v.source.label()}))
            .collect();
        let mut part = AuditPart {
            view: vec![("config", serde_json::Value::Array(view))],
            grants: self
                .values
                .iter()
                .map(|v| format!("config   {} (from {})", v.key, v.source.label()))
                .collect(),
            ..AuditPart::default()
        };
        let keys: Vec<&str> = self.values.iter().map(|v| v.key.as_str()).collect();
        match (imports.has("config"), keys.is_empty()) {
            (true, false) => part.reach.push(format!(
                "reads {} configuration key{} ({}); the values are never shown",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" },
                keys.join(", ")
            )),
            (true, true) => part.reach.push(
                "imports wasi:config but no configuration key is granted: every read is refused"
                    .into(),
            ),
            (false, false) => part.warnings.push(format!(
                "{key}.config is granted but the component does not import wasi:config: the grant is unused"
            )),
            (false, true) => {}
        }
        part
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
