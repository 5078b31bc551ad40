//! On-disk cache of compiled components, for a fast warm start.
//!
//! An entry is keyed by the component's SHA-256 and by the engine's
//! compatibility hash (a different wasmtime or engine configuration gets
//! its own entry). Each file carries the SHA-256 of the artifact it holds,
//! checked before wasmtime sees a byte of it: a stale, truncated or
//! corrupted entry is recompiled and replaced, never trusted. Entries are
//! written to a temporary file and renamed into place, so concurrent
//! servers never read half an entry. The directory is created private
//! (0700): whoever can write it can make the server run native code.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"CORRALC1";

/// A directory of compiled artifacts.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

/// Where a component came from, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from the cache.
    Cached,
    /// Compiled now (and stored, when possible).
    Compiled,
}

impl ArtifactCache {
    /// A cache in `dir`, created (private) if missing.
    pub fn open(dir: &Path) -> std::io::Result<ArtifactCache> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(ArtifactCache {
            dir: dir.to_owned(),
        })
    }

    fn entry(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let component = hex(&Sha256::digest(bytes));
        self.dir
            .join(format!("{component}-{:016x}.cwasm", hasher.finish()))
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
        let data = std::fs::read(path).ok()?;
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
        // engine with the same compatibility hash (part of the file name),
        // and its digest proves it is byte-for-byte what was written; the
        // cache directory is private to the operator.
        match unsafe { Component::deserialize(engine, artifact) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring a stale compiled-component cache entry: {e}");
                None
            }
        }
    }

    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(std::io::Error::other)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(&artifact))?;
        file.write_all(&artifact)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(component (core module (func (export "f"))))"#;

    #[test]
    fn second_load_is_cached_and_corruption_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::open(dir.path()).unwrap();
        let engine = Engine::default();
        let bytes = wat::parse_str(WAT).unwrap();
        let compile = || Component::new(&engine, &bytes);
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Compiled
        );
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Cached
        );

        let entry = cache.entry(&engine, &bytes);
        let mut data = std::fs::read(&entry).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&entry, &data).unwrap();
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Compiled
        );
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Cached
        );

        std::fs::write(&entry, b"CORRALC1short").unwrap();
        assert_eq!(
            cache.get_or_compile(&engine, &bytes, compile).unwrap().1,
            Origin::Compiled
        );
    }
}
