//! The size sweep: server CPU per MiB of request, Corral against native,
//! for bytes the tool reads and bytes it does not.
//!
//! Over stdio, sequential calls of the `type_echo` test component's
//! `echo_string` (a string in, the same string out) and `echo_list` (a
//! `list<u32>` in and out), and of `add` with the bytes in `params._meta`,
//! which no tool reads. For each size the time the server's threads ran
//! (/proc/PID/task/*/schedstat, to the nanosecond) over a batch of calls
//! gives a cost per call, reported as it is and, with the cost of the same
//! call carrying 1 byte subtracted, per MiB of request. Each run takes the
//! Corral/native ratio of its own numbers. Per MiB, small sizes only
//! magnify the noise of a call's cost (1 µs at 1 KiB is 1 ms/MiB): read
//! them from 64 KiB up.

use rmcp::model::{CallToolRequestParams, RequestMetaObject};
use rmcp::{Peer, RoleClient};
use serde_json::{Map, Value, json};

use crate::measure::server_cpu_fine;
use crate::report::{Better, Report, Sample, Side};
use crate::server::{StdioServer, Target};

/// Request sizes of the sweep, in bytes of JSON.
pub const SIZES: [usize; 4] = [1024, 64 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/// Bytes of requests each measurement sends (at least [`MIN_CALLS`] calls).
const BYTES_PER_POINT: usize = 32 * 1024 * 1024;
/// Fewest calls per measurement.
const MIN_CALLS: usize = 8;
/// Most calls per measurement (small requests).
const MAX_CALLS: usize = 1000;

/// What a sweep call carries its bytes in.
#[derive(Clone, Copy)]
enum Kind {
    /// `echo_string`: read by the tool, and sent back.
    String,
    /// `echo_list`: read by the tool, and sent back.
    List,
    /// `add` with the bytes in `params._meta`: read by no tool.
    Meta,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::String, Kind::List, Kind::Meta];

    fn label(self) -> &'static str {
        match self {
            Kind::String => "`echo_string` (string in and out, read)",
            Kind::List => "`echo_list` (list<u32> in and out, read)",
            Kind::Meta => "`add` with the bytes in `params._meta` (not read)",
        }
    }

    /// The request carrying about `size` bytes, and a check of its answer.
    fn params(self, size: usize) -> (CallToolRequestParams, Value) {
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        match self {
            Kind::String => {
                let text = "x".repeat(size.max(1));
                (
                    CallToolRequestParams::new("echo_string")
                        .with_arguments(object(json!({ "value": text }))),
                    json!({ "result": text }),
                )
            }
            Kind::List => {
                // "1234567," is 8 bytes of JSON per element.
                let list = vec![1_234_567u32; (size / 8).max(1)];
                (
                    CallToolRequestParams::new("echo_list")
                        .with_arguments(object(json!({ "value": list }))),
                    json!({ "result": list }),
                )
            }
            Kind::Meta => {
                let mut params = CallToolRequestParams::new("add")
                    .with_arguments(object(json!({"a": 20, "b": 22})));
                params.meta = Some(RequestMetaObject::from(object(
                    json!({ "padding": "y".repeat(size.max(1)) }),
                )));
                (params, json!({ "result": 42 }))
            }
        }
    }
}

/// Server CPU seconds per call of `params` (after two unmeasured calls),
/// and whether every answer was right.
async fn cpu_per_call(
    peer: &Peer<RoleClient>,
    pid: u32,
    params: &CallToolRequestParams,
    expected: &Value,
    calls: usize,
) -> (f64, u64) {
    let mut errors = 0;
    let call = async || {
        let right = peer.call_tool(params.clone()).await.ok().is_some_and(|r| {
            r.is_error != Some(true) && r.structured_content.as_ref() == Some(expected)
        });
        u64::from(!right)
    };
    for _ in 0..2 {
        errors += call().await;
    }
    let before = server_cpu_fine(pid);
    for _ in 0..calls {
        errors += call().await;
    }
    let used = server_cpu_fine(pid) - before;
    (used.as_secs_f64() / calls as f64, errors)
}

/// Measures the sweep on `targets` (Corral, native), in `order`.
pub async fn phase(
    targets: [&Target; 2],
    order: [Side; 2],
    report: &mut Report,
) -> anyhow::Result<()> {
    for kind in Kind::ALL {
        for side in order {
            let server = StdioServer::start(targets[side as usize]).await?;
            let peer = server.session.peer().clone();
            let (base, expected) = kind.params(1);
            let (floor, mut errors) =
                cpu_per_call(&peer, server.pid, &base, &expected, MAX_CALLS).await;
            for size in SIZES {
                let (params, expected) = kind.params(size);
                let calls = (BYTES_PER_POINT / size).clamp(MIN_CALLS, MAX_CALLS);
                let (cost, failed) =
                    cpu_per_call(&peer, server.pid, &params, &expected, calls).await;
                errors += failed;
                let mib = size as f64 / (1024.0 * 1024.0);
                report.add(
                    &format!(
                        "size sweep: {} {}, server CPU per call",
                        kind.label(),
                        bytes(size)
                    ),
                    "µs",
                    Better::Lower,
                    side,
                    Sample {
                        value: cost * 1e6,
                        ..Sample::default()
                    },
                );
                report.add(
                    &format!(
                        "size sweep: {} {}, server CPU per MiB above the 1-byte call",
                        kind.label(),
                        bytes(size)
                    ),
                    "ms/MiB",
                    Better::Lower,
                    side,
                    Sample {
                        value: (cost - floor) * 1000.0 / mib,
                        errors: std::mem::take(&mut errors),
                        ..Sample::default()
                    },
                );
            }
            server.stop().await;
        }
    }
    Ok(())
}

/// `size` as the report names it.
fn bytes(size: usize) -> String {
    if size >= 1024 * 1024 {
        format!("{} MiB", size / (1024 * 1024))
    } else {
        format!("{} KiB", size / 1024)
    }
}
