//! Environment grants: named variables only, either written in the config or
//! passed through by name from the host. The host environment is never
//! passed wholesale, and values never appear in logs or audits.

/// Where a granted variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvSource {
    /// Written in the config file.
    Config,
    /// Read from the host environment at start (`env_from_host`).
    Host,
}

/// The variables a component sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvGrant {
    vars: Vec<(String, String, EnvSource)>,
}

impl EnvGrant {
    /// Builds the grant from the config's `env` table and `env_from_host`
    /// list; `host` looks a variable up in the host environment. `key` is
    /// the component's config key prefix for messages.
    pub fn new(
        literal: impl IntoIterator<Item = (String, String)>,
        from_host: &[String],
        host: impl Fn(&str) -> Option<String>,
        key: &str,
    ) -> Result<EnvGrant, String> {
        let mut vars: Vec<(String, String, EnvSource)> = literal
            .into_iter()
            .map(|(k, v)| (k, v, EnvSource::Config))
            .collect();
        for name in from_host {
            if vars.iter().any(|(k, _, _)| k == name) {
                return Err(format!(
                    "{key}.env_from_host: {name:?} is also set in {key}.env; keep one"
                ));
            }
            let value = host(name).ok_or_else(|| {
                format!(
                    "{key}.env_from_host: the host environment has no variable {name:?} \
                     (set it before starting corral, or remove it from the list)"
                )
            })?;
            vars.push((name.clone(), value, EnvSource::Host));
        }
        for (name, _, _) in &vars {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(format!("{key}.env: {name:?} is not a valid variable name"));
            }
        }
        Ok(EnvGrant { vars })
    }

    /// Name/value pairs to give the guest.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v, _)| (k.as_str(), v.as_str()))
    }

    /// Names and sources, without values.
    pub fn names(&self) -> impl Iterator<Item = (&str, EnvSource)> {
        self.vars.iter().map(|(k, _, s)| (k.as_str(), *s))
    }

    /// Whether no variable is granted.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// One line per variable, without its value.
    pub fn describe(&self) -> Vec<String> {
        self.names()
            .map(|(name, source)| match source {
                EnvSource::Config => {
                    format!("sees environment variable {name} (value set in the config)")
                }
                EnvSource::Host => {
                    format!("sees environment variable {name} (value passed from the host)")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_variables_are_passed_by_name_only() {
        let host = |name: &str| (name == "TOKEN").then(|| "secret".to_owned());
        let grant = EnvGrant::new(
            [("A".into(), "1".into())],
            &["TOKEN".into()],
            host,
            "components.x",
        )
        .unwrap();
        assert_eq!(
            grant.pairs().collect::<Vec<_>>(),
            [("A", "1"), ("TOKEN", "secret")]
        );
        assert!(grant.describe().iter().all(|l| !l.contains("secret")));
        let err = EnvGrant::new([], &["MISSING".into()], host, "components.x").unwrap_err();
        assert!(
            err.contains("components.x.env_from_host") && err.contains("MISSING"),
            "{err}"
        );
    }
}
