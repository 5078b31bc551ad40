//! `corral.toml` → a validated [`Config`].
//!
//! Configuration happens in two stages. The raw form mirrors the file
//! (serde, `deny_unknown_fields`, so a typo is an error that names the key
//! and the line); the validated form has every default filled in, every
//! path resolved against the config file's directory and no wasmtime type in
//! it. Values that can be wrong on their own (sizes, durations, fuel) are
//! checked while deserialising so the TOML error points at their line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod http;
mod values;

pub use http::{HttpSettings, JwtSettings};
use http::{RawAuth, RawHttp};

use values::{MemorySize, Positive, Timeout};

use crate::capabilities::{GrantError, Grants, Host, RawHints, Section, ToolHints};

/// Memory a component may use when the config names no limit.
pub const DEFAULT_MEMORY: u64 = 64 * 1024 * 1024;
/// Fuel (roughly, wasm instructions) a call may burn when the config names no limit.
pub const DEFAULT_FUEL: u64 = 2_000_000_000;
/// Wall-clock time a call may take when the config names no limit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call may wait for each answer from its client (a user
/// filling in a form) when the config names no limit; not counted in the
/// call's timeout.
pub const DEFAULT_INPUT_TIMEOUT: Duration = Duration::from_secs(600);
/// Host memory a call may make the host hold when the config names no limit.
pub const DEFAULT_HOST_MEMORY: u64 = 64 * 1024 * 1024;
/// WASI resources a call may hold at once when the config names no limit.
pub const DEFAULT_HANDLES: u32 = 1024;
/// Files and sockets a call may hold open at once when the config names no limit.
pub const DEFAULT_DESCRIPTORS: u32 = 64;
/// Calls that may run at once when the config names no limit.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 64;
/// The most the compiled-component cache holds when the config names no limit.
pub const DEFAULT_CACHE_MAX_SIZE: u64 = 1024 * 1024 * 1024;
/// The largest tool result sent to a client when the config names no limit.
pub const DEFAULT_MAX_RESULT_SIZE: u64 = 4 * 1024 * 1024;
/// How long in-flight requests may take to finish after a shutdown signal
/// when the config names no limit.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

const MIN_MEMORY: u64 = 1024 * 1024;
const MAX_MEMORY: u64 = 4 * 1024 * 1024 * 1024;
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The validated configuration of one Corral server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the configuration was read from (used in error messages).
    pub source: PathBuf,
    /// Settings of the server itself.
    pub server: ServerSettings,
    /// The components to serve, in the order of their names.
    pub components: Vec<ComponentConfig>,
}

/// The `[server]` section.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Name announced to clients in `serverInfo`.
    pub name: String,
    /// Instructions announced to clients, if any.
    pub instructions: Option<String>,
    /// How many tool calls may run at the same time; further calls wait.
    pub max_concurrent_calls: u32,
    /// The largest result (in bytes of text) sent back; larger results
    /// become an error answer instead of flooding the client.
    pub max_result_size: u64,
    /// The streamable HTTP transport (`[server.http]`, `[server.auth]`).
    pub http: HttpSettings,
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// The most bytes the compiled-component cache may hold.
    pub cache_max_size: u64,
    /// How long a call waits for a free slot before it is refused as busy.
    pub queue_timeout: Duration,
    /// After SIGTERM or SIGINT, how long in-flight requests may take to
    /// finish before the server exits anyway.
    pub shutdown_timeout: Duration,
    /// What one call may take of the instance pool (`[server.pool]`).
    pub pool: PoolShare,
}

/// What one call may take of the instance pool (`[server.pool]`): the
/// pool holds this much for every call slot, and a component whose
/// instance needs more is refused at start, so no component's calls can
/// take the slots of another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShare {
    /// Core module instances of one component instance.
    pub core_instances: u32,
    /// Linear memories of one component instance.
    pub memories: u32,
    /// Tables of one component instance.
    pub tables: u32,
}

impl Default for PoolShare {
    fn default() -> Self {
        PoolShare {
            core_instances: 32,
            memories: 4,
            tables: 16,
        }
    }
}

/// One `[components.NAME]` table.
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    /// The table's name: how logs, errors and `corral audit` refer to it.
    pub name: String,
    /// Absolute (or config-relative, resolved) path of the `.wasm` component.
    pub path: PathBuf,
    /// Line of the `path` key in the config file, for error messages.
    pub path_line: Option<usize>,
    /// A WIT folder to read the tools' descriptions from (`wit = "…"`),
    /// resolved like `path`, with its line in the config file.
    pub wit: Option<(PathBuf, Option<usize>)>,
    /// Prefix put before every tool name of this component.
    pub tool_prefix: String,
    /// Budgets of every call into this component.
    pub limits: Limits,
    /// What the component may reach.
    pub grants: Grants,
    /// Annotations of its tools.
    pub hints: ToolHints,
}

/// The budget of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of linear memory the component may hold, all memories together.
    pub memory: u64,
    /// Fuel units a call may consume.
    pub fuel: u64,
    /// Wall-clock deadline of a call, not counting its waits for its client.
    pub timeout: Duration,
    /// How long a call may wait for each answer from its client.
    pub input_timeout: Duration,
    /// Bytes of host memory the call may make the host hold for it.
    pub host_memory: u64,
    /// WASI resources (files, sockets, streams, HTTP objects) held at once.
    pub handles: u32,
    /// Files and sockets open at once.
    pub descriptors: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: DEFAULT_MEMORY,
            fuel: DEFAULT_FUEL,
            timeout: DEFAULT_TIMEOUT,
            input_timeout: DEFAULT_INPUT_TIMEOUT,
            host_memory: DEFAULT_HOST_MEMORY,
            handles: DEFAULT_HANDLES,
            descriptors: DEFAULT_DESCRIPTORS,
        }
    }
}

/// Everything that can be wrong with a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error(
        "cannot read config file {path}: {error} (pass --config with the path of a corral.toml; \
         see examples/corral.toml)"
    )]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// Why reading failed (told in the message, not as a source, so
        /// that it is said once).
        error: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message, with line, column and the offending key.
        message: String,
    },
    /// A value has the right shape but cannot be used.
    #[error("invalid config {path}{line}: {message}", line = fmt_line(*.line))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The line of the key, when known.
        line: Option<usize>,
        /// The dotted key, e.g. `components.files.path`.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}

fn fmt_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

impl ComponentConfig {
    /// A component audited or served on its own, without a config file:
    /// named after its file, default limits, nothing granted.
    pub fn standalone(path: &Path) -> ComponentConfig {
        let name: String = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        ComponentConfig {
            name,
            path: path.to_owned(),
            path_line: None,
            wit: None,
            tool_prefix: String::new(),
            limits: Limits::default(),
            hints: ToolHints {
                read_only: true,
                destructive: false,
                idempotent: None,
                open_world: false,
            },
            grants: Grants::none(),
        }
    }
}

impl Config {
    /// Reads and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        Config::parse(&text, path)
    }

    /// What this configuration may hold open at once, for the check
    /// against the process's descriptor limit.
    pub fn descriptor_needs(&self) -> crate::budget::DescriptorNeeds {
        crate::budget::DescriptorNeeds {
            calls: u64::from(self.server.max_concurrent_calls),
            per_call: self
                .components
                .iter()
                .map(|c| u64::from(c.limits.descriptors))
                .max()
                .unwrap_or(0),
            preopens: self
                .components
                .iter()
                .map(|c| c.grants.held_descriptors())
                .sum(),
            connections: self
                .server
                .http
                .listen
                .map_or(0, |_| u64::from(self.server.http.max_connections)),
        }
    }

    /// Validates configuration `text` as if read from `path`; relative
    /// component paths are resolved against `path`'s directory.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_with_env(text, path, |name| std::env::var(name).ok())
    }

    /// Like [`Config::parse`], reading `env_from_host` variables through
    /// `host_env` instead of the process environment.
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        host_env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let invalid = |line, key: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            line,
            message: if message.starts_with(&key) {
                message
            } else {
                format!("{key}: {message}")
            },
            key,
        };

        let defaults = raw.defaults.limits.resolve(&Limits::default());
        let host = Host {
            base,
            env: &host_env,
        };
        let grant_error = |e: GrantError| ConfigError::Invalid {
            path: path.to_owned(),
            line: e.line,
            message: e.to_string(),
            key: e.key,
        };
        let mut components = Vec::with_capacity(raw.components.len());
        for (name, entries) in &raw.components {
            if !is_identifier(name) {
                return Err(invalid(
                    None,
                    format!("components.{name}"),
                    "a component name may use only ASCII letters, digits, '_' and '-' \
                     (rename the table, e.g. [components.my-tool])"
                        .into(),
                ));
            }
            let section = Section::new(name, text, entries);
            let relative: PathBuf = section.get("path").map_err(grant_error)?.ok_or_else(|| {
                invalid(
                    None,
                    format!("components.{name}.path"),
                    "missing: give the .wasm file of the component, e.g. path = \"tools/calc.wasm\""
                        .into(),
                )
            })?;
            let line = section.line("path");
            if relative.as_os_str().is_empty() {
                return Err(invalid(
                    line,
                    format!("components.{name}.path"),
                    "the path is empty: give the .wasm file of the component".into(),
                ));
            }
            let wit: Option<PathBuf> = section.get("wit").map_err(grant_error)?;
            if wit.as_ref().is_some_and(|dir| dir.as_os_str().is_empty()) {
                return Err(invalid(
                    section.line("wit"),
                    format!("components.{name}.wit"),
                    "the path is empty: give the folder of the component's WIT package, \
                     e.g. wit = \"wit\""
                        .into(),
                ));
            }
            let wit = wit.map(|dir| (base.join(dir), section.line("wit")));
            let prefix: String = section
                .get("tool_prefix")
                .map_err(grant_error)?
                .unwrap_or_default();
            if !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(
                    section.line("tool_prefix"),
                    format!("components.{name}.tool_prefix"),
                    format!(
                        "{prefix:?} has characters a tool name cannot hold; \
                         use only ASCII letters, digits, '_' and '-', e.g. \"files_\""
                    ),
                ));
            }
            let limits: RawLimits = section
                .get("limits")
                .map_err(grant_error)?
                .unwrap_or_default();
            let raw_hints: RawHints = section
                .get("hints")
                .map_err(grant_error)?
                .unwrap_or_default();
            let grants = Grants::parse(&section)
                .and_then(|g| g.validate(&section, &host))
                .map_err(grant_error)?;
            let key = format!("components.{name}");
            let hints = raw_hints
                .resolve(grants.effects(), &key)
                .map_err(|message| invalid(section.line("hints"), key.clone(), message))?;
            components.push(ComponentConfig {
                grants,
                hints,
                path: base.join(relative),
                path_line: line,
                wit,
                tool_prefix: prefix,
                limits: limits.resolve(&defaults),
                name: name.clone(),
            });
        }

        Ok(Config {
            source: path.to_owned(),
            server: ServerSettings {
                name: raw.server.name.unwrap_or_else(|| "corral".into()),
                instructions: raw.server.instructions,
                max_concurrent_calls: raw
                    .server
                    .max_concurrent_calls
                    .map_or(DEFAULT_MAX_CONCURRENT_CALLS, |n| n.0),
                max_result_size: raw
                    .server
                    .max_result_size
                    .map_or(DEFAULT_MAX_RESULT_SIZE, |m| m.0),
                http: http::resolve(raw.server.http, raw.server.auth, base)
                    .map_err(|(key, message)| invalid(None, key, message))?,
                cache_dir: match (raw.server.cache, raw.server.cache_dir) {
                    (false, _) => None,
                    (true, Some(dir)) => Some(base.join(dir)),
                    (true, None) => default_cache_dir(),
                },
                queue_timeout: raw
                    .server
                    .queue_timeout
                    .map_or(Duration::from_secs(30), |t| t.0),
                pool: raw.server.pool.resolve(),
                cache_max_size: raw
                    .server
                    .cache_max_size
                    .map_or(DEFAULT_CACHE_MAX_SIZE, |m| m.0),
                shutdown_timeout: raw
                    .server
                    .shutdown_timeout
                    .map_or(DEFAULT_SHUTDOWN_TIMEOUT, |t| t.0),
            },
            components,
        })
    }

    /// The component configured under `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentConfig> {
        self.components.iter().find(|c| c.name == name)
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    components: BTreeMap<String, BTreeMap<String, toml::Spanned<serde_json::Value>>>,
}

fn yes() -> bool {
    true
}

impl Default for RawServer {
    fn default() -> RawServer {
        RawServer {
            name: None,
            instructions: None,
            max_concurrent_calls: None,
            max_result_size: None,
            cache_dir: None,
            cache_max_size: None,
            cache: true,
            queue_timeout: None,
            shutdown_timeout: None,
            http: RawHttp::default(),
            auth: RawAuth::default(),
            pool: RawPool::default(),
        }
    }
}

/// Where compiled components are cached by default:
/// `$XDG_CACHE_HOME/corral`, else `~/.cache/corral`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .map(|d| d.join("corral"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: Option<String>,
    instructions: Option<String>,
    max_concurrent_calls: Option<Positive<u32>>,
    max_result_size: Option<MemorySize>,
    cache_dir: Option<PathBuf>,
    cache_max_size: Option<MemorySize>,
    #[serde(default = "yes")]
    cache: bool,
    queue_timeout: Option<Timeout>,
    shutdown_timeout: Option<Timeout>,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    pool: RawPool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPool {
    core_instances: Option<Positive<u32>>,
    memories: Option<Positive<u32>>,
    tables: Option<Positive<u32>>,
}

impl RawPool {
    fn resolve(&self) -> PoolShare {
        let default = PoolShare::default();
        PoolShare {
            core_instances: self.core_instances.map_or(default.core_instances, |n| n.0),
            memories: self.memories.map_or(default.memories, |n| n.0),
            tables: self.tables.map_or(default.tables, |n| n.0),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory: Option<MemorySize>,
    fuel: Option<Positive<u64>>,
    timeout: Option<Timeout>,
    input_timeout: Option<Timeout>,
    host_memory: Option<MemorySize>,
    handles: Option<Positive<u32>>,
    descriptors: Option<Positive<u32>>,
}

impl RawLimits {
    fn resolve(&self, fallback: &Limits) -> Limits {
        Limits {
            memory: self.memory.map_or(fallback.memory, |m| m.0),
            fuel: self.fuel.map_or(fallback.fuel, |f| f.0),
            timeout: self.timeout.map_or(fallback.timeout, |t| t.0),
            input_timeout: self.input_timeout.map_or(fallback.input_timeout, |t| t.0),
            host_memory: self.host_memory.map_or(fallback.host_memory, |m| m.0),
            handles: self.handles.map_or(fallback.handles, |n| n.0),
            descriptors: self.descriptors.map_or(fallback.descriptors, |n| n.0),
        }
    }
}

#[cfg(test)]
mod tests;
