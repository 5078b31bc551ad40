//! What one instance of a component takes from the instance pool, read
//! from its bytes before it is compiled.
//!
//! The pool holds a fixed share for each call slot (`[server.pool]`), and
//! wasmtime refuses an instance that needs more than that share. Reading
//! the needs here lets start-up refuse such a component with a message
//! naming the key to raise, instead of failing at its first call (or, worse,
//! letting it take the slots of other components' calls). Nested
//! components are followed: a component instantiated twice counts twice.

use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef, Encoding, Instance, Payload,
};

/// What one instance takes from the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Core module instances.
    pub(crate) instances: u64,
    /// Linear memories the instantiated modules define.
    pub(crate) memories: u64,
    /// Tables the instantiated modules define.
    pub(crate) tables: u64,
}

impl Needs {
    fn add(&mut self, other: Needs) {
        self.instances = self.instances.saturating_add(other.instances);
        self.memories = self.memories.saturating_add(other.memories);
        self.tables = self.tables.saturating_add(other.tables);
    }
}

/// One component or module being read.
#[derive(Default)]
struct Frame {
    component: bool,
    /// A component: what one of its instances takes. A module: what one
    /// of its instances defines (one instance, its memories and tables).
    needs: Needs,
    /// The component's core module index space: what instantiating each takes.
    modules: Vec<Needs>,
    /// The component's component index space: what instantiating each takes.
    components: Vec<Needs>,
}

/// What one instance of the component in `bytes` takes from the pool.
pub(crate) fn needs(bytes: &[u8]) -> Needs {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = Needs::default();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::Version { encoding, .. } => {
                let component = encoding == Encoding::Component;
                stack.push(Frame {
                    component,
                    needs: Needs {
                        instances: u64::from(!component),
                        ..Needs::default()
                    },
                    ..Frame::default()
                });
            }
            Payload::End(_) => {
                let Some(done) = stack.pop() else { break };
                match stack.last_mut() {
                    Some(parent) if done.component => parent.components.push(done.needs),
                    Some(parent) => parent.modules.push(done.needs),
                    None => root = done.needs,
                }
            }
            Payload::MemorySection(section) => {
                if let Some(frame) = stack.last_mut() {
                    frame.needs.memories += u64::from(section.count());
                }
            }
            Payload::TableSection(section) => {
                if let Some(frame) = stack.last_mut() {
                    frame.needs.tables += u64::from(section.count());
                }
            }
            Payload::InstanceSection(section) => {
                let Some(frame) = stack.last_mut() else {
                    continue;
                };
                for instance in section.into_iter().flatten() {
                    if let Instance::Instantiate { module_index, .. } = instance {
                        let module =
                            frame
                                .modules
                                .get(module_index as usize)
                                .copied()
                                .unwrap_or(Needs {
                                    instances: 1,
                                    ..Needs::default()
                                });
                        frame.needs.add(module);
                    }
                }
            }
            Payload::ComponentInstanceSection(section) => {
                let Some(frame) = stack.last_mut() else {
                    continue;
                };
                for instance in section.into_iter().flatten() {
                    if let ComponentInstance::Instantiate {
                        component_index, ..
                    } = instance
                    {
                        let each = frame
                            .components
                            .get(component_index as usize)
                            .copied()
                            .unwrap_or_default();
                        frame.needs.add(each);
                    }
                }
            }
            Payload::ComponentAliasSection(section) => {
                for alias in section.into_iter().flatten() {
                    let outer = |count: u32| stack.len().checked_sub(1 + count as usize);
                    let (module, found) = match alias {
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreModule,
                            count,
                            index,
                        } => (
                            true,
                            outer(count)
                                .and_then(|at| stack[at].modules.get(index as usize).copied()),
                        ),
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Component,
                            count,
                            index,
                        } => (
                            false,
                            outer(count)
                                .and_then(|at| stack[at].components.get(index as usize).copied()),
                        ),
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Module,
                            ..
                        } => (true, None),
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Component,
                            ..
                        } => (false, None),
                        _ => continue,
                    };
                    if let Some(frame) = stack.last_mut() {
                        let needs = found.unwrap_or_default();
                        if module {
                            frame.modules.push(needs);
                        } else {
                            frame.components.push(needs);
                        }
                    }
                }
            }
            Payload::ComponentImportSection(section) => {
                let Some(frame) = stack.last_mut() else {
                    continue;
                };
                for import in section.into_iter().flatten() {
                    match import.ty {
                        ComponentTypeRef::Module(_) => frame.modules.push(Needs::default()),
                        ComponentTypeRef::Component(_) => frame.components.push(Needs::default()),
                        _ => {}
                    }
                }
            }
            Payload::ComponentExportSection(section) => {
                let Some(frame) = stack.last_mut() else {
                    continue;
                };
                for export in section.into_iter().flatten() {
                    let index = export.index as usize;
                    match export.kind {
                        ComponentExternalKind::Module => {
                            let each = frame.modules.get(index).copied().unwrap_or_default();
                            frame.modules.push(each);
                        }
                        ComponentExternalKind::Component => {
                            let each = frame.components.get(index).copied().unwrap_or_default();
                            frame.components.push(each);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs_of(name: &str) -> Needs {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../guest-tools/test-components/wat")
            .join(format!("{name}.wat"));
        needs(&wat::parse_file(path).unwrap())
    }

    #[test]
    fn nested_instantiations_are_counted_each_time() {
        let starve = needs_of("pool-starve");
        assert!(starve.memories >= 256 && starve.tables >= 256, "{starve:?}");
        assert!(starve.instances >= 256, "{starve:?}");
        assert!(needs_of("pool-instances").instances >= 2048);
        assert_eq!(needs_of("multi-memory").memories, 5);
    }

    #[test]
    fn a_plain_component_needs_its_modules() {
        let bytes = wat::parse_str(
            r#"(component
                (core module $m (memory 1) (table 1 funcref))
                (core instance (instantiate $m))
                (core instance (instantiate $m)))"#,
        )
        .unwrap();
        assert_eq!(
            needs(&bytes),
            Needs {
                instances: 2,
                memories: 2,
                tables: 2
            }
        );
    }
}
