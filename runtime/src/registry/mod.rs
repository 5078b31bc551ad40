//! The tool registry: tool name → [`ToolSpec`].
//!
//! Built once at start from the config: every component is read and
//! compiled (in parallel), every exported function becomes a tool with
//! schemas derived from its WIT types, and any conflict (two tools with one
//! name, a name clients cannot accept) stops the server before it serves.

mod content;
mod docs;
mod headers;
mod load;
mod served;
mod tool;
mod wit_source;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use content::{Content, ResourceContents};
pub use docs::PackageDocs;
pub use load::{Loaded, load_component};
pub use served::{
    Catalog, Prompt, PromptMessages, Reference, Resource, ResourceTemplate, Role, ServeError,
    ServedBy,
};
pub use tool::{Answer, ToolSpec};
pub use wit_source::{WitSource, embed};

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
    /// The WIT folder named by `wit = "…"` could not be read.
    #[error(
        "component {component:?}: cannot read the WIT package named by components.{component}.wit{line}: \
         {message}",
        line = .line.map(|l| format!(" (config line {l})")).unwrap_or_default()
    )]
    Wit {
        /// The component's name in the config.
        component: String,
        /// Line of the `wit` key in the config.
        line: Option<usize>,
        /// What did not parse.
        message: String,
    },
    /// The WIT folder does not describe a function the component exports.
    #[error(
        "component {component:?} exports {function}, which the WIT package {package} given by \
         components.{component}.wit does not declare: point `wit` at the folder the component \
         was built from, or rebuild the component from this one"
    )]
    WitMismatch {
        /// The component's name in the config.
        component: String,
        /// The exported function, as its WIT path.
        function: String,
        /// The WIT package's name.
        package: String,
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
    /// A tool's `mcp-header:` doc lines cannot be followed.
    #[error(
        "component {component:?}, tool {tool:?}: {message} (fix the `mcp-header: PARAMETER \
         HEADER-NAME` lines of its WIT doc comment)"
    )]
    Header {
        /// The component's name in the config.
        component: String,
        /// The tool.
        tool: String,
        /// What is wrong.
        message: String,
    },
    /// Listing what a component serves failed at start.
    #[error(
        "component {component:?} serves resources or prompts, but {message}; fix the component \
         (its list functions must succeed within its limits)"
    )]
    Serve {
        /// The component's name in the config.
        component: String,
        /// What failed.
        message: String,
    },
    /// Two components serve one URI, template or prompt name.
    #[error(
        "two components serve the {kind} {key:?}: {first} and {second}; remove it from one of \
         them (or serve only one of the components)"
    )]
    ServedTwice {
        /// `resource`, `resource template` or `prompt`.
        kind: &'static str,
        /// The URI or name.
        key: String,
        /// The first component.
        first: String,
        /// The second component.
        second: String,
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
    /// Components serving resources or prompts, until their lists are read.
    served: Vec<ServedBy>,
    catalog: Arc<Catalog>,
}

impl Registry {
    /// Loads every component of `config` into `sandbox`.
    pub fn load(config: &Config, sandbox: &Sandbox) -> Result<Registry, LoadError> {
        let loaded: Vec<Result<Loaded, LoadError>> = std::thread::scope(|scope| {
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
            served: Vec::new(),
            catalog: Arc::default(),
        };
        for loaded in loaded {
            let loaded = loaded?;
            for tool in loaded.tools {
                registry.insert(tool)?;
            }
            registry.served.extend(loaded.served);
        }
        Ok(registry)
    }

    /// Reads what the components serve (resources, prompts): a call of
    /// each serving component's list functions. Until it runs, the registry
    /// serves tools only.
    pub async fn load_served(&mut self) -> Result<(), LoadError> {
        let served = std::mem::take(&mut self.served);
        self.catalog = Arc::new(Catalog::load(served).await?);
        Ok(())
    }

    /// What the components serve besides tools.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
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
