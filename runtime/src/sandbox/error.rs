//! Why a call did not return a value, in words a model can act on.

use std::time::Duration;

use wasmtime::Trap;
use wasmtime::component::ResourceTableError;

use crate::budget::{Budget, Exceeded};
use crate::capabilities::{Captured, denied};
use crate::config::Limits;

/// Characters of the guest's stderr quoted in a panic or trap message.
const STDERR_TAIL: usize = 800;

/// A call that did not complete. Every variant says what happened and what
/// to change; none of them affects other calls.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The fuel budget ran out (a long or endless computation).
    #[error(
        "out of fuel: the call used its whole budget of {budget} fuel units and was stopped \
         (call it with a smaller input, or raise components.{component}.limits.fuel)"
    )]
    OutOfFuel {
        /// The component's name in the config.
        component: String,
        /// The budget that ran out.
        budget: u64,
    },
    /// The guest asked for more linear memory than its limit.
    #[error(
        "memory limit reached: the guest asked for more than {limit} of memory and could not \
         go on (call it with a smaller input, or raise components.{component}.limits.memory)"
    )]
    MemoryLimit {
        /// The component's name in the config.
        component: String,
        /// The limit, formatted (e.g. `64.0 MiB`).
        limit: String,
    },
    /// The wall-clock deadline passed.
    #[error(
        "deadline exceeded: the call ran longer than {timeout} and was stopped \
         (call it with a smaller input, or raise components.{component}.limits.timeout)",
        timeout = humantime::format_duration(*.timeout)
    )]
    Deadline {
        /// The component's name in the config.
        component: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The call made the host hold more than one of its budgets allows.
    #[error(
        "{what}: the call held more than {limit} and was stopped (call it with a smaller \
         input, or raise components.{component}.limits.{key})",
        what = match .budget {
            Budget::HostMemory => "host memory limit reached",
            Budget::Handles => "too many handles",
            Budget::Descriptors => "too many open files and sockets",
        },
        key = .budget.key(),
    )]
    Budget {
        /// The component's name in the config.
        component: String,
        /// Which budget.
        budget: Budget,
        /// The budget, in words (e.g. `64.0 MiB of host memory`).
        limit: String,
    },
    /// The guest called an interface its component is not granted.
    #[error("{0}")]
    NotGranted(String),
    /// The client cancelled the request.
    #[error("cancelled: the client cancelled the call and the guest was stopped")]
    Cancelled,
    /// The guest panicked (or otherwise hit `unreachable`).
    #[error("the tool panicked{}", quote(.stderr))]
    Panic {
        /// The end of what the guest wrote to stderr.
        stderr: String,
    },
    /// The guest's call stack overflowed.
    #[error(
        "stack overflow: the guest recursed too deeply and was stopped \
         (this is a bug in the tool, or an input nested too deeply)"
    )]
    StackOverflow,
    /// The guest called `exit`.
    #[error("the tool exited with status {code} instead of returning{}", quote(.stderr))]
    Exit {
        /// The exit status.
        code: i32,
        /// The end of what the guest wrote to stderr.
        stderr: String,
    },
    /// Any other trap (division by zero, out-of-bounds access, …).
    #[error("the tool crashed: {trap}{}", quote(.stderr))]
    Trap {
        /// wasmtime's description of the trap.
        trap: String,
        /// The end of what the guest wrote to stderr.
        stderr: String,
    },
    /// Every call slot stayed taken for the whole queue timeout.
    #[error(
        "server busy: all {slots} call slots stayed taken for {} and this call was not run \
         (retry later, or raise server.max_concurrent_calls)",
        humantime::format_duration(*.waited)
    )]
    Busy {
        /// Calls that may run at once.
        slots: u32,
        /// How long the call waited.
        waited: Duration,
    },
    /// The component could not be instantiated for this call.
    #[error("the tool could not be started: {0}")]
    Instantiate(String),
    /// A host-side failure while serving the call.
    #[error("internal error while running the tool: {0}")]
    Host(String),
}

impl CallError {
    /// A short stable name of the kind of failure, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::OutOfFuel { .. } => "out_of_fuel",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::Deadline { .. } => "deadline",
            CallError::Budget {
                budget: Budget::HostMemory,
                ..
            } => "host_memory",
            CallError::Budget {
                budget: Budget::Handles,
                ..
            } => "handles",
            CallError::Budget {
                budget: Budget::Descriptors,
                ..
            } => "descriptors",
            CallError::NotGranted(_) => "denied",
            CallError::Cancelled => "cancelled",
            CallError::Panic { .. } => "panic",
            CallError::StackOverflow => "stack_overflow",
            CallError::Exit { .. } => "exit",
            CallError::Trap { .. } => "trap",
            CallError::Busy { .. } => "busy",
            CallError::Instantiate(_) => "instantiate",
            CallError::Host(_) => "host",
        }
    }

    /// The answer for a call that went over budget `exceeded`.
    pub(crate) fn budget(component: &str, exceeded: Exceeded) -> CallError {
        let limit = match exceeded.budget {
            Budget::HostMemory => format!(
                "{} of host memory",
                bytesize::ByteSize(exceeded.limit).display().iec()
            ),
            Budget::Handles => format!("{} WASI resources at once", exceeded.limit),
            Budget::Descriptors => format!("{} open at once", exceeded.limit),
        };
        CallError::Budget {
            component: component.to_owned(),
            budget: exceeded.budget,
            limit,
        }
    }

    /// Whether `error` (from instantiating) is the guest's doing (a trap, a
    /// budget, a refusal) rather than the host failing to set it up.
    pub(crate) fn is_guest_failure(error: &wasmtime::Error) -> bool {
        error.downcast_ref::<Trap>().is_some()
            || error.downcast_ref::<Exceeded>().is_some()
            || error.downcast_ref::<ResourceTableError>().is_some()
            || error.downcast_ref::<denied::Refused>().is_some()
    }

    /// Classifies an error returned by a guest call. `memory_refused` says
    /// whether the limiter refused a growth during the call: a Rust guest
    /// that cannot grow its memory aborts, which looks like a panic.
    pub(crate) fn from_trap(
        error: &wasmtime::Error,
        component: &str,
        limits: &Limits,
        memory_refused: bool,
        stderr: &Captured,
    ) -> CallError {
        let tail = stderr.tail(STDERR_TAIL).to_owned();
        if let Some(exceeded) = error.downcast_ref::<Exceeded>() {
            return CallError::budget(component, *exceeded);
        }
        if let Some(ResourceTableError::Full) = error.downcast_ref::<ResourceTableError>() {
            return CallError::budget(
                component,
                Exceeded {
                    budget: Budget::Handles,
                    limit: u64::from(limits.handles),
                },
            );
        }
        if is_hostcall_fuel(error) {
            return CallError::budget(
                component,
                Exceeded {
                    budget: Budget::HostMemory,
                    limit: limits.host_memory,
                },
            );
        }
        if let Some(refused) = error.downcast_ref::<denied::Refused>() {
            return CallError::NotGranted(denied::refusal(&refused.function, component));
        }
        if memory_refused {
            return CallError::MemoryLimit {
                component: component.to_owned(),
                limit: bytesize::ByteSize(limits.memory)
                    .display()
                    .iec()
                    .to_string(),
            };
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return CallError::Exit {
                code: exit.0,
                stderr: tail,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::OutOfFuel {
                component: component.to_owned(),
                budget: limits.fuel,
            },
            Some(Trap::StackOverflow) => CallError::StackOverflow,
            Some(Trap::UnreachableCodeReached) => CallError::Panic { stderr: tail },
            Some(trap) => CallError::Trap {
                trap: trap.to_string(),
                stderr: tail,
            },
            None => CallError::Trap {
                trap: format!("{error:#}"),
                stderr: tail,
            },
        }
    }
}

/// Whether wasmtime stopped a transfer from the guest for copying more than
/// the store's hostcall fuel (its message is the only trace of it).
fn is_hostcall_fuel(error: &wasmtime::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.to_string().contains("fuel allocated for hostcalls"))
}

fn quote(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with:\n{stderr}")
    }
}
