//! What the load test sends: the kinds of call, the seeded order each
//! client sends them in, the request of each call, the answer it must get,
//! and how the server must count it.
//!
//! The order is a shuffled deck, the same on every run: which kinds a
//! client sends, and how many of each, never depends on timing. Each call's
//! arguments carry its id where they can, so an answer that went to the
//! wrong request does not pass for the right one.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

/// One kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    /// `add`: the sum.
    Add,
    /// `remember`: 1, as every call gets a fresh instance.
    Remember,
    /// `divide` by zero: the tool's own error.
    ToolError,
    /// `add` with `a` out of range: refused before the guest runs.
    InvalidArguments,
    /// A tool that does not exist: a JSON-RPC error.
    UnknownTool,
    /// `panic`: the guest traps; its stderr is quoted.
    Panic,
    /// `spin` on a small fuel budget.
    OutOfFuel,
    /// `allocate` beyond the memory limit.
    MemoryLimit,
    /// `recurse` without end.
    StackOverflow,
    /// `slow_spin`: wasm that runs past its 20 ms deadline.
    Deadline,
    /// `test_tool_with_progress`: a guest asleep in a host call past its
    /// 20 ms deadline.
    DeadlineInHostCall,
    /// `stuck_spin` (no deadline that matters), then
    /// `notifications/cancelled` for it: no answer; the guest is stopped.
    Cancel,
    /// HTTP: a 2026-07-28 call of `tcp_connect` whose client hangs up once
    /// the guest runs: no answer; the guest is stopped.
    Disconnect,
    /// HTTP: a session call of `tcp_connect` whose client drops the answer
    /// stream once the guest runs: the call completes, the session goes on.
    DropStream,
}

impl Kind {
    /// Every kind, in the order the figures list them.
    pub(super) const ALL: [Kind; 14] = [
        Kind::Add,
        Kind::Remember,
        Kind::ToolError,
        Kind::InvalidArguments,
        Kind::UnknownTool,
        Kind::Panic,
        Kind::OutOfFuel,
        Kind::MemoryLimit,
        Kind::StackOverflow,
        Kind::Deadline,
        Kind::DeadlineInHostCall,
        Kind::Cancel,
        Kind::Disconnect,
        Kind::DropStream,
    ];

    /// Whether the client gets an answer (it may not: it cancelled the
    /// call or went away).
    pub(super) fn answered(self) -> bool {
        !matches!(self, Kind::Cancel | Kind::Disconnect | Kind::DropStream)
    }

    /// The `(tool, outcome)` the server counts the call under, if it runs.
    pub(super) fn outcome(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Kind::Add => ("add", "ok"),
            Kind::Remember => ("remember", "ok"),
            Kind::ToolError => ("divide", "tool_error"),
            Kind::InvalidArguments => ("add", "invalid_arguments"),
            Kind::UnknownTool => return None,
            Kind::Panic => ("panic", "panic"),
            Kind::OutOfFuel => ("spin", "out_of_fuel"),
            Kind::MemoryLimit => ("allocate", "memory_limit"),
            Kind::StackOverflow => ("recurse", "stack_overflow"),
            Kind::Deadline => ("slow_spin", "deadline"),
            Kind::DeadlineInHostCall => ("test_tool_with_progress", "deadline"),
            Kind::Cancel => ("stuck_spin", "cancelled"),
            Kind::Disconnect => ("tcp_connect", "cancelled"),
            Kind::DropStream => ("tcp_connect", "ok"),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Add => "add (checked sum)",
            Kind::Remember => "fresh instance (checked)",
            Kind::ToolError => "tool error",
            Kind::InvalidArguments => "invalid arguments",
            Kind::UnknownTool => "unknown tool",
            Kind::Panic => "trap: panic",
            Kind::OutOfFuel => "trap: out of fuel",
            Kind::MemoryLimit => "trap: memory limit",
            Kind::StackOverflow => "trap: stack overflow",
            Kind::Deadline => "deadline (running wasm)",
            Kind::DeadlineInHostCall => "deadline (in a host call)",
            Kind::Cancel => "cancelled in flight",
            Kind::Disconnect => "client hung up mid-call",
            Kind::DropStream => "answer stream dropped mid-call",
        })
    }
}

/// The deck a stdio client deals from: 32 cards.
const STDIO_DECK: [(Kind, usize); 12] = [
    (Kind::Add, 14),
    (Kind::Remember, 2),
    (Kind::ToolError, 1),
    (Kind::InvalidArguments, 2),
    (Kind::UnknownTool, 1),
    (Kind::Panic, 2),
    (Kind::OutOfFuel, 1),
    (Kind::MemoryLimit, 1),
    (Kind::StackOverflow, 1),
    (Kind::Deadline, 1),
    (Kind::DeadlineInHostCall, 2),
    (Kind::Cancel, 4),
];

/// The deck an HTTP client deals from: 32 cards, hang-ups included.
const HTTP_DECK: [(Kind, usize); 14] = [
    (Kind::Add, 12),
    (Kind::Remember, 2),
    (Kind::ToolError, 1),
    (Kind::InvalidArguments, 2),
    (Kind::UnknownTool, 1),
    (Kind::Panic, 2),
    (Kind::OutOfFuel, 1),
    (Kind::MemoryLimit, 1),
    (Kind::StackOverflow, 1),
    (Kind::Deadline, 1),
    (Kind::DeadlineInHostCall, 2),
    (Kind::Cancel, 2),
    (Kind::Disconnect, 2),
    (Kind::DropStream, 2),
];

/// The transport a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// One `corral serve` on stdio, its session shared by every client.
    Stdio,
    /// One `corral serve --http`, a session per client.
    Http,
}

/// The kinds client `client` sends in phase `phase`, `calls` of them: the
/// transport's deck, shuffled anew (from a fixed seed) for every pass.
pub(super) fn deal(transport: Transport, phase: u64, client: u64, calls: usize) -> Vec<Kind> {
    let deck: Vec<Kind> = match transport {
        Transport::Stdio => &STDIO_DECK[..],
        Transport::Http => &HTTP_DECK[..],
    }
    .iter()
    .flat_map(|&(kind, n)| std::iter::repeat_n(kind, n))
    .collect();
    let seed = match transport {
        Transport::Stdio => 1,
        Transport::Http => 2,
    };
    let mut random = SplitMix(seed << 56 ^ phase << 40 ^ client);
    let mut kinds = Vec::with_capacity(calls);
    while kinds.len() < calls {
        let mut pass = deck.clone();
        for i in (1..pass.len()).rev() {
            let j = (random.next() % (i as u64 + 1)) as usize;
            pass.swap(i, j);
        }
        kinds.extend(pass.into_iter().take(calls - kinds.len()));
    }
    kinds
}

/// SplitMix64: a few lines of well-mixed, seedable randomness.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// One call: its id (unique in the run) and kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call {
    /// The JSON-RPC id.
    pub id: u64,
    /// What it does.
    pub kind: Kind,
}

impl Call {
    /// The tool and arguments to call. `address` is where `tcp_connect`
    /// connects (the client's own listener).
    pub(super) fn tool(&self, address: &str) -> (String, Value) {
        let id = self.id;
        let (tool, args) = match self.kind {
            Kind::Add => ("add", json!({"a": self.a(), "b": self.b()})),
            Kind::Remember => ("remember", json!({})),
            Kind::ToolError => ("divide", json!({"dividend": id, "divisor": 0})),
            Kind::InvalidArguments => ("add", json!({"a": self.out_of_range(), "b": 1})),
            Kind::UnknownTool => return (format!("no_such_tool_{id}"), json!({})),
            Kind::Panic => ("panic", json!({"message": format!("load call {id}")})),
            Kind::OutOfFuel => ("spin", json!({})),
            Kind::MemoryLimit => ("allocate", json!({"mebibytes": 64})),
            Kind::StackOverflow => ("recurse", json!({"depth": u64::MAX})),
            Kind::Deadline => ("slow_spin", json!({})),
            Kind::DeadlineInHostCall => ("test_tool_with_progress", json!({})),
            Kind::Cancel => ("stuck_spin", json!({})),
            Kind::Disconnect | Kind::DropStream => ("tcp_connect", json!({"address": address})),
        };
        (tool.to_owned(), args)
    }

    /// The JSON-RPC `tools/call` request.
    pub(super) fn request(&self, address: &str) -> Value {
        let (tool, arguments) = self.tool(address);
        json!({"jsonrpc": "2.0", "id": self.id, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}})
    }

    fn a(&self) -> i64 {
        (self.id % 1_000_000_007) as i64
    }

    fn b(&self) -> i64 {
        -((self.id / 7 % 1_000_003) as i64)
    }

    fn out_of_range(&self) -> u64 {
        5_000_000_000 + self.id
    }

    /// Why `answer` (a JSON-RPC message) is not this call's right answer,
    /// if it is not.
    pub(super) fn check(&self, answer: &Value) -> Result<(), String> {
        let wrong = |why: &str| Err(format!("call {} ({}): {why}: {answer}", self.id, self.kind));
        if answer["id"] != json!(self.id) {
            return wrong("the answer names another request");
        }
        if self.kind == Kind::UnknownTool {
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            return if answer["error"]["code"] != json!(-32602) {
                wrong("expected error -32602")
            } else if !message.contains(&format!("\"no_such_tool_{}\"", self.id)) {
                wrong("the error does not name the tool")
            } else {
                Ok(())
            };
        }
        let result = &answer["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        let is_error = result["isError"] == json!(true);
        let expect_error = |start: &str| {
            if !is_error {
                wrong("expected an error result")
            } else if !text.starts_with(start) {
                wrong(&format!("expected an error starting {start:?}"))
            } else {
                Ok(())
            }
        };
        match self.kind {
            Kind::Add => {
                let sum = self.a() + self.b();
                if is_error || result["structuredContent"] != json!({"result": sum}) {
                    wrong(&format!("expected the sum {sum}"))
                } else if text != sum.to_string() {
                    wrong("the text is not the sum")
                } else {
                    Ok(())
                }
            }
            Kind::Remember => {
                if is_error || result["structuredContent"] != json!({"result": 1}) {
                    wrong("expected 1 (a fresh instance)")
                } else {
                    Ok(())
                }
            }
            Kind::ToolError => {
                if !is_error || !text.contains("zero") {
                    wrong("expected the tool's division-by-zero error")
                } else {
                    Ok(())
                }
            }
            Kind::InvalidArguments => {
                let expected = format!("a: {} is out of range for s32", self.out_of_range());
                if !is_error || !text.contains(&expected) || !text.contains("nothing was run") {
                    wrong(&format!("expected {expected:?}, nothing run"))
                } else {
                    Ok(())
                }
            }
            Kind::Panic => {
                let expected = format!("about to panic: load call {}", self.id);
                expect_error("the tool panicked").and_then(|()| {
                    if text.contains(&expected) {
                        Ok(())
                    } else {
                        wrong(&format!("expected the guest's stderr {expected:?}"))
                    }
                })
            }
            Kind::OutOfFuel => expect_error("out of fuel"),
            Kind::MemoryLimit => expect_error("memory limit reached"),
            Kind::StackOverflow => expect_error("stack overflow"),
            Kind::Deadline | Kind::DeadlineInHostCall => expect_error("deadline exceeded"),
            Kind::UnknownTool | Kind::Cancel | Kind::Disconnect | Kind::DropStream => {
                wrong("this call must get no answer")
            }
        }
    }
}

/// Calls by kind.
pub(super) type Tally = BTreeMap<Kind, u64>;

/// Calls by `(tool, outcome)`, as the server counts them.
pub(super) type Outcomes = BTreeMap<(String, String), u64>;

/// The outcomes the server must have counted for the calls of `tally`.
pub(super) fn expected_outcomes(tally: &Tally) -> Outcomes {
    let mut outcomes = Outcomes::new();
    for (kind, n) in tally {
        if let Some((tool, outcome)) = kind.outcome() {
            *outcomes
                .entry((tool.to_owned(), outcome.to_owned()))
                .or_default() += n;
        }
    }
    outcomes
}

/// The config both servers run: small budgets where a fault needs them,
/// and `tcp_connect` granted the clients' listeners (`ports`).
pub(super) fn config(ports: &[u16]) -> String {
    let faults = corral_test_artifacts::faults().display().to_string();
    let allow: Vec<String> = ports.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    format!(
        r#"
[server]
name = "corral-load"
max_concurrent_calls = 8
queue_timeout = "10m"

[components.calc]
path = "{calc}"

[components.faults]
path = "{faults}"
limits = {{ memory = "32MiB", fuel = 5_000_000, timeout = "10m" }}

[components.slow]
path = "{faults}"
tool_prefix = "slow_"
limits = {{ fuel = 18_000_000_000_000_000_000, timeout = "20ms" }}

[components.stuck]
path = "{faults}"
tool_prefix = "stuck_"
limits = {{ fuel = 18_000_000_000_000_000_000, timeout = "1h" }}

[components.conformance]
path = "{conformance}"
limits = {{ timeout = "20ms" }}

[components.escapes]
path = "{escapes}"
limits = {{ timeout = "1h" }}
network = {{ allow = [{allow}] }}
"#,
        calc = corral_test_artifacts::calc().display(),
        conformance = corral_test_artifacts::conformance().display(),
        escapes = corral_test_artifacts::escapes().display(),
        allow = allow.join(", "),
    )
}
