//! Tool annotations: derived from what the grants let a tool do, then made
//! stricter (never looser) by the config's `hints`.

use super::Effects;

/// Tool annotation hints as the config may write them (`hints = {…}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHints {
    read_only: Option<bool>,
    destructive: Option<bool>,
    idempotent: Option<bool>,
    open_world: Option<bool>,
}

/// The annotations every tool of a component carries.
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
    /// Combines the config's hints with what `effects` imply; a hint that
    /// claims more safety than the grants give is an error naming `key`
    /// (`components.NAME`).
    pub fn resolve(&self, effects: Effects, key: &str) -> Result<ToolHints, String> {
        let derived = ToolHints {
            read_only: !effects.writes && !effects.open_world,
            destructive: effects.writes,
            idempotent: None,
            open_world: effects.open_world,
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
        let none = Effects::default();
        let hints = RawHints::default().resolve(none, "k").unwrap();
        assert!(hints.read_only && !hints.destructive && !hints.open_world);
        let stricter = RawHints {
            read_only: Some(false),
            destructive: Some(true),
            ..RawHints::default()
        };
        let hints = stricter.resolve(none, "k").unwrap();
        assert!(!hints.read_only && hints.destructive);

        let net = Effects {
            open_world: true,
            ..Effects::default()
        };
        assert!(RawHints::default().resolve(net, "k").unwrap().open_world);
        let looser = RawHints {
            open_world: Some(false),
            ..RawHints::default()
        };
        let err = looser.resolve(net, "components.x").unwrap_err();
        assert!(err.contains("components.x.hints.open_world"), "{err}");
    }
}
