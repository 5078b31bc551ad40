//! The tool registry: tool name → [`ToolSpec`].
//!
//! Built once at start from the config: every component is read and
//! compiled (in parallel), every exported function becomes a tool with
//! schemas derived from its WIT types, and any conflict (two tools with one
//! name, a name clients cannot accept) stops the server before it serves.

mod docs;
mod load;
mod tool;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use docs::PackageDocs;
pub use load::load_component;
pub use tool::{Answer, ToolSpec};

use crate::config::Config;
use crate::sandbox::{Sandbox, SandboxError};

/// Why the tools could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A component file could not be read.
    #[error(
        "component {component:?}: cannot read {path}{line}: {error} (check components.{component}.path; \
         relative paths are relative to the config file)",
        line = .line.map(|l| format!(" (config line {l})")).unwrap_or_default()
    )]
    Read {
        /// The component's name in the config.
        component: String,
        /// The path that was tried.
        path: PathBuf,
        /// Line of the path in the config.
        line: Option<usize>,
        /// Why reading failed (in the message, not as a source, so that it
        /// is said once).
        error: std::io::Error,
    },
    /// Compiling or linking failed.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Two exports map to one tool name.
    #[error(
        "two tools are named {name:?}: {first} and {second}; give one of the components a \
         tool_prefix (e.g. tool_prefix = \"{suggestion}_\" under [components.{suggestion}])"
    )]
    Duplicate {
        /// The contested name.
        name: String,
        /// The first function, as `component: wit path`.
        first: String,
        /// The second function.
        second: String,
        /// The second component's name.
        suggestion: String,
    },
    /// A tool name clients would refuse.
    #[error(
        "component {component:?}: tool name {name:?} is not accepted by MCP clients \
         (1 to 64 of a-z, A-Z, 0-9, '_', '-'); shorten the function name or the tool_prefix"
    )]
    BadName {
        /// The component's name in the config.
        component: String,
        /// The rejected name.
        name: String,
    },
}

/// All tools of a server, by name.
pub struct Registry {
    tools: Vec<Arc<ToolSpec>>,
    by_name: HashMap<String, usize>,
}

impl Registry {
    /// Loads every component of `config` into `sandbox`.
    pub fn load(config: &Config, sandbox: &Sandbox) -> Result<Registry, LoadError> {
        let loaded: Vec<Result<Vec<ToolSpec>, LoadError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = config
                .components
                .iter()
                .map(|component| scope.spawn(move || load_component(component, sandbox)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut registry = Registry {
            tools: Vec::new(),
            by_name: HashMap::new(),
        };
        for tools in loaded {
            for tool in tools? {
                registry.insert(tool)?;
            }
        }
        Ok(registry)
    }

    fn insert(&mut self, tool: ToolSpec) -> Result<(), LoadError> {
        if let Some(&existing) = self.by_name.get(&tool.name) {
            let first = &self.tools[existing];
            return Err(LoadError::Duplicate {
                name: tool.name.clone(),
                first: format!("{} ({})", first.program.name(), first.wit_path),
                second: format!("{} ({})", tool.program.name(), tool.wit_path),
                suggestion: tool.program.name().to_owned(),
            });
        }
        self.by_name.insert(tool.name.clone(), self.tools.len());
        self.tools.push(Arc::new(tool));
        Ok(())
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<ToolSpec>> {
        self.by_name.get(name).map(|&i| &self.tools[i])
    }

    /// The position of the tool called `name` in [`Registry::tools`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Every tool, in config order.
    pub fn tools(&self) -> &[Arc<ToolSpec>] {
        &self.tools
    }
}
