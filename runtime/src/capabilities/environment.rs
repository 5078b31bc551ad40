//! Environment: named variables only (`env`, `env_from_host`), either
//! written in the config or passed through by name from corral's own
//! environment. The host environment is never passed wholesale, and values
//! never appear in logs, audits or `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli::environment;

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The environment capability.
pub struct Environment;

/// Where a granted variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Written in the config file.
    Config,
    /// Read from corral's environment at start (`env_from_host`).
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

/// One granted variable.
#[derive(Clone)]
struct Var {
    name: String,
    source: Source,
    /// `None` until a host variable is read at validation.
    value: Option<String>,
}

/// The variables a component sees.
#[derive(Clone, Default)]
struct EnvGrant {
    vars: Vec<Var>,
}

impl fmt::Debug for EnvGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be secrets.
        f.debug_list()
            .entries(self.vars.iter().map(|v| (&v.name, v.source)))
            .finish()
    }
}

impl Capability for Environment {
    fn name(&self) -> &'static str {
        "environment"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["env", "env_from_host"]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "environment",
            names: &["wasi:cli/environment"],
        }]
    }

    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        let literal: BTreeMap<String, String> = section.get("env")?.unwrap_or_default();
        let from_host: Vec<String> = section.get("env_from_host")?.unwrap_or_default();
        let mut vars: Vec<Var> = literal
            .into_iter()
            .map(|(name, value)| Var {
                name,
                source: Source::Config,
                value: Some(value),
            })
            .collect();
        for name in from_host {
            if vars.iter().any(|v| v.name == name) {
                return Err(section.error(
                    "env_from_host",
                    format!("{name:?} is also set in {}; keep one", section.key("env")),
                ));
            }
            vars.push(Var {
                name,
                source: Source::Host,
                value: None,
            });
        }
        for var in &vars {
            let name = &var.name;
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                let key = match var.source {
                    Source::Config => "env",
                    Source::Host => "env_from_host",
                };
                return Err(section.error(key, format!("{name:?} is not a valid variable name")));
            }
        }
        Ok(Arc::new(EnvGrant { vars }))
    }
}

impl Grant for EnvGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        section: &Section<'_>,
        host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        let mut grant = self.clone();
        for var in grant.vars.iter_mut().filter(|v| v.source == Source::Host) {
            let value = (host.env)(&var.name).ok_or_else(|| {
                section.error(
                    "env_from_host",
                    format!(
                        "the host environment has no variable {:?} (set it before starting \
                         corral, or remove it from the list)",
                        var.name
                    ),
                )
            })?;
            var.value = Some(value);
        }
        Ok(Arc::new(grant))
    }

    fn granted(&self) -> bool {
        // Linked even when empty: the guest reads an empty environment.
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        environment::add_to_linker::<CallState, WasiCli>(linker, CallState::cli)
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        for var in &self.vars {
            if let Some(value) = &var.value {
                call.wasi.env(&var.name, value);
            }
        }
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, key: &str) -> AuditPart {
        let imported = imports.has("environment");
        let view = self
            .vars
            .iter()
            .map(|v| serde_json::json!({"name": v.name, "source": v.source.label()}))
            .collect();
        let mut part = AuditPart {
            view: vec![("env", serde_json::Value::Array(view))],
            grants: self
                .vars
                .iter()
                .map(|v| format!("env      {} (from {})", v.name, v.source.label()))
                .collect(),
            ..AuditPart::default()
        };
        match (imported, self.vars.is_empty()) {
            (true, false) => part.reach.extend(self.vars.iter().map(|v| match v.source {
                Source::Config => format!(
                    "sees environment variable {} (value set in the config)",
                    v.name
                ),
                Source::Host => format!(
                    "sees environment variable {} (value passed from the host)",
                    v.name
                ),
            })),
            (true, true) => part.reach.push(
                "reads its environment, which is empty: no variable is granted".into(),
            ),
            (false, false) => part.warnings.push(format!(
                "{key}.env is granted but the component does not import wasi:cli/environment: the grant is unused"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn section_of(toml_text: &str) -> BTreeMap<String, toml::Spanned<serde_json::Value>> {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn host_variables_are_passed_by_name_only() {
        let text = "env = { A = \"1\" }\nenv_from_host = [\"TOKEN\"]\n";
        let entries = section_of(text);
        let section = Section::new("x", text, &entries);
        let grant = Environment.parse(&section).unwrap();
        let host_env = |name: &str| (name == "TOKEN").then(|| "secret".to_owned());
        let host = Host {
            base: std::path::Path::new("/"),
            env: &host_env,
        };
        let grant = grant.validate(&section, &host).unwrap();
        let audit = grant.audit(&Imports::none(), "components.x");
        assert!(!format!("{grant:?} {audit:?}").contains("secret"));
        let mut call = CallSetup::new("x".into(), None);
        grant.prepare(&mut call).unwrap();

        let missing_text = "env_from_host = [\"MISSING\"]\n";
        let entries = section_of(missing_text);
        let section = Section::new("x", missing_text, &entries);
        let err = Environment
            .parse(&section)
            .unwrap()
            .validate(&section, &host)
            .unwrap_err();
        assert_eq!(err.key, "components.x.env_from_host");
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("MISSING"), "{err}");
    }
}
