//! Why a call did not return a value, in words a model can act on.

use std::time::Duration;

use wasmtime::Trap;

use super::stdio::Captured;

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

    /// Classifies an error returned by a guest call. `memory_refused` says
    /// whether the limiter refused a growth during the call: a Rust guest
    /// that cannot grow its memory aborts, which looks like a panic.
    pub(crate) fn from_trap(
        error: &wasmtime::Error,
        component: &str,
        budget: u64,
        memory_limit: u64,
        memory_refused: bool,
        stderr: &Captured,
    ) -> CallError {
        let tail = stderr.tail(STDERR_TAIL).to_owned();
        if memory_refused {
            return CallError::MemoryLimit {
                component: component.to_owned(),
                limit: bytesize::ByteSize(memory_limit).display().iec().to_string(),
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
                budget,
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

fn quote(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with:\n{stderr}")
    }
}
