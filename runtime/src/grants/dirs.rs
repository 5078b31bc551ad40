//! Directory grants: a host directory seen by the guest under a path of its
//! own, read-only or read-write. Enforced by WASI preopens (cap-std), so
//! `..`, absolute paths and symlinks cannot leave the granted tree.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A directory as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDir {
    host: PathBuf,
    guest: String,
    #[serde(default)]
    mode: DirMode,
}

/// What the guest may do in a granted directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
pub enum DirMode {
    /// Read files and list directories (`"ro"`, the default).
    #[default]
    #[serde(rename = "ro")]
    ReadOnly,
    /// Also create, write, rename and delete (`"rw"`).
    #[serde(rename = "rw")]
    ReadWrite,
}

impl fmt::Display for DirMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DirMode::ReadOnly => "ro",
            DirMode::ReadWrite => "rw",
        })
    }
}

/// A validated directory grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host directory, absolute and resolved.
    pub host: PathBuf,
    /// The host path as the config wrote it (for messages).
    pub host_as_written: String,
    /// Where the guest sees it.
    pub guest: String,
    /// Read-only or read-write.
    pub mode: DirMode,
}

impl RawDir {
    /// Checks the grant; `base` is the config file's directory and `key`
    /// the config key (`components.NAME.dirs[0]`) for messages.
    pub fn validate(&self, base: &Path, key: &str) -> Result<DirGrant, String> {
        let joined = base.join(&self.host);
        let host = joined.canonicalize().map_err(|e| {
            format!(
                "{key}.host: the directory {} cannot be used: {e} (create it, or fix the path; \
                 relative paths are relative to the config file)",
                joined.display()
            )
        })?;
        if !host.is_dir() {
            return Err(format!("{key}.host: {} is not a directory", host.display()));
        }
        let guest = &self.guest;
        if !guest.starts_with('/') || guest.split('/').any(|part| part == ".." || part == ".") {
            return Err(format!(
                "{key}.guest: {guest:?} must be an absolute guest path without '.' or '..', e.g. \"/data\""
            ));
        }
        let trimmed = guest.trim_end_matches('/');
        Ok(DirGrant {
            host,
            host_as_written: self.host.display().to_string(),
            guest: if trimmed.is_empty() {
                "/".into()
            } else {
                trimmed.into()
            },
            mode: self.mode,
        })
    }
}

impl DirGrant {
    /// "reads ./data as /data" or "reads and writes ./out as /out".
    pub fn describe(&self) -> String {
        let verb = match self.mode {
            DirMode::ReadOnly => "reads",
            DirMode::ReadWrite => "reads and writes",
        };
        format!("{verb} {} as {}", self.host_as_written, self.guest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(host: &str, guest: &str) -> RawDir {
        RawDir {
            host: host.into(),
            guest: guest.into(),
            mode: DirMode::ReadOnly,
        }
    }

    #[test]
    fn a_missing_host_directory_is_named() {
        let err = raw("no-such-dir", "/data")
            .validate(Path::new("/tmp"), "components.x.dirs[0]")
            .unwrap_err();
        assert!(err.contains("components.x.dirs[0].host"), "{err}");
        assert!(err.contains("/tmp/no-such-dir"), "{err}");
    }

    #[test]
    fn guest_paths_must_be_absolute_and_plain() {
        for bad in ["data", "/data/../etc", "/./x"] {
            assert!(
                raw(".", bad).validate(Path::new("/tmp"), "k").is_err(),
                "{bad}"
            );
        }
        let grant = raw(".", "/data/").validate(Path::new("/tmp"), "k").unwrap();
        assert_eq!(grant.guest, "/data");
        assert_eq!(grant.describe(), "reads . as /data");
    }
}
