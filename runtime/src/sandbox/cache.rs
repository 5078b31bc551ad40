//! On-disk cache of compiled components, for a fast warm start.
//!
//! A cache entry is native code that the server will run, so the cache
//! trusts no one but the user running corral:
//! - the directory must be owned by that user (or created by it, private),
//!   and neither it nor any directory above it may be writable by other
//!   users (unless sticky, like `/tmp`): otherwise the cache is not used,
//!   and the log says why and what to do;
//! - an entry must be a regular file owned by that user that nobody else
//!   can read or write, checked on the opened file; entries are written
//!   that way (0600), to a temporary file renamed into place, so concurrent
//!   servers never read half an entry;
//! - an entry carries the SHA-256 of its artifact, checked before wasmtime
//!   sees a byte of it: a stale, truncated or corrupted entry is recompiled
//!   and replaced, never trusted.
//!
//! Entries are keyed by the SHA-256 of the component and of the engine's
//! compatibility hash (wasmtime's version and configuration), a key that
//! means the same with any Rust toolchain. The cache holds at most
//! `max_size` bytes: storing an entry evicts the least recently used ones.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"CORRALC2";
const EXTENSION: &str = "cwasm";

/// A directory of compiled artifacts.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    max_size: u64,
}

/// Where a component came from, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from the cache.
    Cached,
    /// Compiled now (and stored, when possible).
    Compiled,
}

/// Why a cache directory cannot be trusted or used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// It (or a directory above it) belongs to another user or can be
    /// written by other users.
    #[error(
        "{path} {why}, so another user could put native code in the cache that corral would run; \
         make it private to the user running corral (chmod 700 it, or choose another \
         server.cache_dir)"
    )]
    Untrusted {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// It cannot be created or inspected.
    #[error("{path}: {error}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The failure.
        error: std::io::Error,
    },
}

/// The effective user id of this process.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether `dir` may hold native code this process will run: owned by us
/// (or, for a directory above it, by root) and not writable by others
/// unless sticky.
fn check_trusted(dir: &Path, is_cache: bool) -> Result<(), CacheError> {
    let meta = std::fs::metadata(dir).map_err(|error| CacheError::Io {
        path: dir.to_owned(),
        error,
    })?;
    let untrusted = |why: String| CacheError::Untrusted {
        path: dir.to_owned(),
        why,
    };
    let owner_ok = meta.uid() == euid() || (!is_cache && meta.uid() == 0);
    if !owner_ok {
        return Err(untrusted(format!("belongs to user id {}", meta.uid())));
    }
    let mode = meta.mode();
    let sticky = mode & 0o1000 != 0;
    // A sticky directory above the cache (like /tmp) lets nobody rename
    // or remove what others own in it.
    let sticky_parent = sticky && !is_cache;
    if mode & 0o022 != 0 && !sticky_parent {
        return Err(untrusted(format!(
            "can be written by other users (mode {:o})",
            mode & 0o7777
        )));
    }
    Ok(())
}

impl ArtifactCache {
    /// A cache in `dir` holding at most `max_size` bytes, created private
    /// if missing; refused when other users could write it.
    pub fn open(dir: &Path, max_size: u64) -> Result<ArtifactCache, CacheError> {
        let io = |error| CacheError::Io {
            path: dir.to_owned(),
            error,
        };
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        let dir = dir.canonicalize().map_err(io)?;
        check_trusted(&dir, true)?;
        for ancestor in dir.ancestors().skip(1) {
            check_trusted(ancestor, false)?;
        }
        Ok(ArtifactCache { dir, max_size })
    }

    /// The entry of `bytes` compiled by `engine`.
    fn entry(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut key = Sha256::new();
        key.update(Sha256::digest(bytes));
        engine
            .precompile_compatibility_hash()
            .hash(&mut DigestHasher(&mut key));
        self.dir
            .join(format!("{}.{EXTENSION}", hex(&key.finalize())))
    }

    /// The compiled form of `bytes`, from the cache when a valid entry
    /// exists, else from `compile` (and then stored).
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> wasmtime::Result<Component>,
    ) -> wasmtime::Result<(Component, Origin)> {
        let path = self.entry(engine, bytes);
        if let Some(component) = self.load(engine, &path) {
            return Ok((component, Origin::Cached));
        }
        let component = compile()?;
        if let Err(e) = self.store(&path, &component) {
            tracing::warn!(path = %path.display(), "cannot write the compiled-component cache: {e}");
        }
        Ok((component, Origin::Compiled))
    }

    fn load(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let mut file = std::fs::File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != euid() || meta.mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "ignoring a compiled-component cache entry that another user could have written"
            );
            return None;
        }
        let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut data).ok()?;
        let artifact = data
            .strip_prefix(MAGIC.as_slice())
            .and_then(|rest| rest.split_at_checked(32))
            .filter(|(digest, artifact)| Sha256::digest(artifact).as_slice() == *digest)
            .map(|(_, artifact)| artifact);
        let Some(artifact) = artifact else {
            tracing::warn!(path = %path.display(), "ignoring a corrupt compiled-component cache entry");
            return None;
        };
        // SAFETY: the artifact was produced by `Component::serialize` of an
        // engine with the same compatibility hash (part of the entry's
        // name), its digest proves it is byte-for-byte what was written,
        // and only this user could have written it (checked above, on the
        // file that was read).
        match unsafe { Component::deserialize(engine, artifact) } {
            Ok(component) => {
                // The entry was used: keep it longest when evicting.
                let _ = file.set_modified(SystemTime::now());
                Some(component)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring a stale compiled-component cache entry: {e}");
                None
            }
        }
    }

    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(std::io::Error::other)?;
        let size = (MAGIC.len() + 32 + artifact.len()) as u64;
        self.evict(size)?;
        // `tempfile` creates the file 0600 in the private directory.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(&artifact))?;
        file.write_all(&artifact)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Removes the least recently used entries until `incoming` more bytes
    /// fit within the size bound.
    fn evict(&self, incoming: u64) -> std::io::Result<()> {
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = std::fs::read_dir(&self.dir)?
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        entries.sort();
        for (_, size, path) in entries {
            if total.saturating_add(incoming) <= self.max_size {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(size);
            }
        }
        Ok(())
    }
}

/// Feeds what a `Hash` implementation writes into a SHA-256, so a key does
/// not depend on the toolchain's `DefaultHasher`.
struct DigestHasher<'a>(&'a mut Sha256);

impl Hasher for DigestHasher<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(component (core module (func (export "f"))))"#;

    fn cache(dir: &Path, max_size: u64) -> ArtifactCache {
        ArtifactCache::open(dir, max_size).unwrap()
    }

    #[test]
    fn second_load_is_cached_and_corruption_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir.path().join("cache"), 1 << 30);
        let engine = Engine::default();
        let bytes = wat::parse_str(WAT).unwrap();
        let compile = || Component::new(&engine, &bytes);
        let origin =
            |cache: &ArtifactCache| cache.get_or_compile(&engine, &bytes, compile).unwrap().1;
        assert_eq!(origin(&cache), Origin::Compiled);
        assert_eq!(origin(&cache), Origin::Cached);

        let entry = cache.entry(&engine, &bytes);
        let mut data = std::fs::read(&entry).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&entry, &data).unwrap();
        assert_eq!(origin(&cache), Origin::Compiled);
        assert_eq!(origin(&cache), Origin::Cached);

        std::fs::write(&entry, b"CORRALC2short").unwrap();
        assert_eq!(origin(&cache), Origin::Compiled);
    }

    #[test]
    fn an_entry_others_could_write_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir.path().join("cache"), 1 << 30);
        let engine = Engine::default();
        let bytes = wat::parse_str(WAT).unwrap();
        let compile = || Component::new(&engine, &bytes);
        cache.get_or_compile(&engine, &bytes, compile).unwrap();
        let entry = cache.entry(&engine, &bytes);
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Compiled,
            "a world-writable entry was used"
        );
        assert_eq!(
            std::fs::metadata(&entry).unwrap().mode() & 0o077,
            0,
            "the entry was replaced by a private one"
        );
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = ArtifactCache::open(&open, 1 << 30).unwrap_err().to_string();
        assert!(error.contains("can be written by other users"), "{error}");
        assert!(error.contains("chmod 700"), "{error}");
        // Below it, too.
        let below = open.join("cache");
        let error = ArtifactCache::open(&below, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(error.contains("other users"), "{error}");
    }

    #[test]
    fn the_least_recently_used_entries_are_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let first = wat::parse_str(WAT).unwrap();
        let second =
            wat::parse_str(r#"(component (core module (func (export "g") nop)))"#).unwrap();
        let probe = cache(&dir.path().join("probe"), 1 << 30);
        probe
            .get_or_compile(&engine, &first, || Component::new(&engine, &first))
            .unwrap();
        let one = std::fs::metadata(probe.entry(&engine, &first))
            .unwrap()
            .len();
        // Room for one entry only.
        let cache = cache(&dir.path().join("cache"), one + one / 2);
        cache
            .get_or_compile(&engine, &first, || Component::new(&engine, &first))
            .unwrap();
        cache
            .get_or_compile(&engine, &second, || Component::new(&engine, &second))
            .unwrap();
        assert!(
            !cache.entry(&engine, &first).exists(),
            "the older entry stayed"
        );
        assert!(cache.entry(&engine, &second).exists());
    }
}
