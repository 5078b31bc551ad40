//! Interfaces a component imports but is not granted, linked as refusals.
//!
//! Such a component still loads (a library may import an interface a tool
//! never uses), but the interface is not linked to anything real: every
//! function of it traps with [`Refused`], and no host object is ever
//! created for it. The executor turns the trap into an answer naming the
//! key that would grant it.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

use super::{ALL, CallState};

/// A guest called a function of an interface its component is not granted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{function} is not granted")]
pub struct Refused {
    /// The function, e.g. `wasi:http/types@0.2.12#[constructor]fields`.
    pub function: String,
}

/// The host type behind every resource of a refused interface: no value of
/// it is ever made.
struct Never;

/// Defines every function of the imported instances `refused` says are
/// refused as a trap, and the resources those instances define as host
/// resources nobody can make. Resources an instance only uses (a
/// `wasi:http` stream is a `wasi:io` stream) keep their own definition.
pub fn link(
    linker: &mut Linker<CallState>,
    component: &Component,
    engine: &Engine,
    refused: impl Fn(&str) -> bool,
) -> wasmtime::Result<()> {
    // A resource belongs to the first import that exports it: imports come
    // after what they use.
    let mut seen: Vec<ResourceType> = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let refuse = refused(name);
        let mut stubs = if refuse {
            Some(linker.instance(name)?)
        } else {
            None
        };
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::Resource(resource) => {
                    if seen.contains(&resource) {
                        continue;
                    }
                    seen.push(resource);
                    if let Some(stubs) = &mut stubs {
                        stubs.resource(export, ResourceType::host::<Never>(), |_, _| Ok(()))?;
                    }
                }
                ComponentItem::ComponentFunc(_) => {
                    if let Some(stubs) = &mut stubs {
                        let function = format!("{name}#{export}");
                        stubs.func_new(export, move |_, _, _, _| {
                            Err(Refused {
                                function: function.clone(),
                            }
                            .into())
                        })?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The answer to a call of `function` that `component` is not granted.
pub fn refusal(function: &str, component: &str) -> String {
    let interface = function.split('#').next().unwrap_or(function);
    let provider = ALL
        .iter()
        .find(|c| c.interfaces().iter().any(|i| i.covers(interface)));
    match provider {
        Some(capability) if !capability.keys().is_empty() => {
            let keys: Vec<String> = capability
                .keys()
                .iter()
                .map(|k| format!("components.{component}.{k}"))
                .collect();
            format!(
                "capability not granted: the tool called {function}, and component \
                 {component:?} is not granted {} (grant it with {})",
                capability.name(),
                keys.join(" or ")
            )
        }
        _ => format!(
            "capability not granted: the tool called {function}, which component \
             {component:?} may not use"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_function_and_the_keys() {
        let message = refusal("wasi:http/types@0.2.12#[constructor]fields", "x");
        assert!(message.contains("components.x.network"), "{message}");
        assert!(message.contains("[constructor]fields"), "{message}");
    }
}
