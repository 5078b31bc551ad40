//! What a component may reach: directories, environment variables and
//! network hosts, as the operator granted them.
//!
//! This is the bottom layer: plain data with its parsing, its checks and its
//! plain-words description, and no wasmtime type. The config builds grants
//! from `corral.toml`, the sandbox enforces them through WASI, and `corral
//! audit` describes them. Nothing else creates a grant: no MCP request,
//! header or tool can widen what the config file says.

mod dirs;
mod env;
mod net;

pub use dirs::{DirGrant, DirMode, RawDir};
pub use env::{EnvGrant, EnvSource};
pub use net::{NetGrant, NetRule};

/// Everything one component was granted.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Preopened directories.
    pub dirs: Vec<DirGrant>,
    /// Environment variables the guest sees.
    pub env: EnvGrant,
    /// Hosts and networks the guest may connect to.
    pub net: NetGrant,
}

impl Grants {
    /// Whether any granted directory is writable.
    pub fn writes_files(&self) -> bool {
        self.dirs.iter().any(|d| d.mode == DirMode::ReadWrite)
    }

    /// Whether any network access is granted.
    pub fn uses_network(&self) -> bool {
        !self.net.is_empty()
    }

    /// The reach of these grants in plain words, one line each.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.dirs.iter().map(DirGrant::describe).collect();
        lines.extend(self.env.describe());
        lines.extend(self.net.describe());
        lines
    }
}

/// Tool annotation hints as the config may write them (`hints = {…}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHints {
    read_only: Option<bool>,
    destructive: Option<bool>,
    idempotent: Option<bool>,
    open_world: Option<bool>,
}

/// The annotations every tool of a component carries: derived from the
/// grants, then made stricter (never looser) by the config's hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ToolHints {
    /// Nothing writable and no network: the tool cannot change anything.
    pub read_only: bool,
    /// A writable directory is granted: the tool may overwrite or delete.
    pub destructive: bool,
    /// Only when the config says so.
    pub idempotent: Option<bool>,
    /// Network is granted: the tool talks to the outside world.
    pub open_world: bool,
}

impl RawHints {
    /// Combines the config's hints with what `grants` imply; a hint that
    /// claims more safety than the grants give is an error naming `key`.
    pub fn resolve(&self, grants: &Grants, key: &str) -> Result<ToolHints, String> {
        let derived = ToolHints {
            read_only: !grants.writes_files() && !grants.uses_network(),
            destructive: grants.writes_files(),
            idempotent: None,
            open_world: grants.uses_network(),
        };
        let looser = |name: &str, why: &str| {
            Err(format!(
                "{key}.hints.{name} claims more safety than the grants allow ({why}); remove it"
            ))
        };
        if self.read_only == Some(true) && !derived.read_only {
            return looser(
                "read_only",
                "the component may write files or use the network",
            );
        }
        if self.destructive == Some(false) && derived.destructive {
            return looser("destructive", "a directory is granted read-write");
        }
        if self.open_world == Some(false) && derived.open_world {
            return looser("open_world", "network access is granted");
        }
        Ok(ToolHints {
            read_only: derived.read_only && self.read_only != Some(false),
            destructive: derived.destructive || self.destructive == Some(true),
            idempotent: self.idempotent,
            open_world: derived.open_world || self.open_world == Some(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_grants_and_may_only_get_stricter() {
        let none = Grants::default();
        let hints = RawHints::default().resolve(&none, "k").unwrap();
        assert!(hints.read_only && !hints.destructive && !hints.open_world);
        let stricter = RawHints {
            read_only: Some(false),
            destructive: Some(true),
            ..RawHints::default()
        };
        let hints = stricter.resolve(&none, "k").unwrap();
        assert!(!hints.read_only && hints.destructive);

        let net = Grants {
            net: NetGrant::new(&["127.0.0.1:80".into()], "k").unwrap(),
            ..Grants::default()
        };
        assert!(RawHints::default().resolve(&net, "k").unwrap().open_world);
        let looser = RawHints {
            open_world: Some(false),
            ..RawHints::default()
        };
        let err = looser.resolve(&net, "components.x").unwrap_err();
        assert!(err.contains("components.x.hints.open_world"), "{err}");
    }
}
