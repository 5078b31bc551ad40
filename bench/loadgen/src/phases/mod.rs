//! The phases of one run, each a file: `stdio` and `http` (latency and
//! throughput over each transport, both servers), `start` (start time and
//! idle memory with twenty components) and `memory` (Corral only: the RSS
//! of an in-flight call and the bound on concurrent instances), `sweep`
//! (server CPU per MiB of request, from 1 KiB to 4 MiB). Each phase
//! starts its servers, measures, adds rows to the report and stops them;
//! this file holds what the phases share.

pub mod http;
pub mod memory;
pub mod start;
pub mod stdio;
pub mod sweep;

use std::sync::Arc;
use std::time::Duration;

use rmcp::{Peer, RoleClient};

use crate::measure::{self, Latency, Throughput};
use crate::report::{Better, Report, Sample, Side};
use crate::workload::Call;

/// How hard the latency and throughput phases push.
pub struct Load {
    /// Timed sequential calls of `add` (`analyze_code` gets a fifth).
    pub calls: u64,
    /// Concurrent callers per throughput point.
    pub callers: Vec<usize>,
    /// Calling before a throughput point starts counting.
    pub warmup: Duration,
    /// Counting time per throughput point.
    pub window: Duration,
}

impl Load {
    /// `seconds` counted per throughput point, after a warm-up of a quarter
    /// of that (between 0.2 and 1 s).
    pub fn new(calls: u64, callers: &[usize], seconds: f64) -> Load {
        Load {
            calls,
            callers: callers.to_vec(),
            warmup: Duration::from_secs_f64((seconds / 4.0).clamp(0.2, 1.0)),
            window: Duration::from_secs_f64(seconds),
        }
    }

    /// Timed sequential calls of `call`.
    fn calls(&self, call: Call) -> u64 {
        if call == Call::Add {
            self.calls
        } else {
            self.calls / 5
        }
    }
}

/// A sample with only a value.
fn sample(value: f64) -> Sample {
    Sample {
        value,
        ..Sample::default()
    }
}

/// Sequential latency of `call` on both servers taking turns, `order[0]`
/// first; `clients[side]` is that side's client and server pid. Adds the
/// p50 and p99 rows, and the failed calls to the report's errors.
async fn sequential(
    load: &Load,
    prefix: &str,
    call: Call,
    order: [Side; 2],
    clients: [(&Peer<RoleClient>, u32); 2],
    python: &str,
    report: &mut Report,
) {
    let calls = load.calls(call);
    let turns = order.map(|side| clients[side as usize]);
    let latencies = measure::latency_pair(turns, call, calls / 10, calls, python).await;
    let mut errors = Vec::new();
    for (side, latency) in order.into_iter().zip(&latencies) {
        latency_samples(report, prefix, call, side, latency, &mut errors);
    }
    report.errors.append(&mut errors);
}

/// The p50 and p99 rows of a sequential run; failed calls go to `errors`.
fn latency_samples(
    report: &mut Report,
    prefix: &str,
    call: Call,
    side: Side,
    latency: &Latency,
    errors: &mut Vec<String>,
) {
    let base = Sample {
        client_share: Some(latency.client_share),
        server_share: Some(latency.server_share),
        errors: latency.errors.count,
        ..Sample::default()
    };
    let tool = call.tool();
    for (q, value) in [("p50", latency.p50), ("p99", latency.p99)] {
        let s = Sample {
            value: value.as_secs_f64() * 1e6,
            ..base
        };
        report.add(
            &format!("{prefix} `{tool}` sequential {q}"),
            "µs",
            Better::Lower,
            side,
            s,
        );
    }
    note_errors(
        errors,
        &format!("{prefix} {tool} sequential, {}", side.name()),
        &latency.errors,
    );
}

/// The row of a throughput point; failed and stuck calls go to the
/// report's errors.
/// Throughput of every call with each number of callers, on both servers
/// in `order`; `peers(side, callers)` gives that many client handles.
async fn throughput_points(
    load: &Load,
    prefix: &str,
    order: [Side; 2],
    pids: [u32; 2],
    python: &Arc<str>,
    report: &mut Report,
    peers: impl Fn(Side, usize) -> Vec<Peer<RoleClient>>,
) {
    for call in Call::ALL {
        for &callers in &load.callers {
            for side in order {
                let t = measure::throughput(
                    peers(side, callers),
                    pids[side as usize],
                    call,
                    load.warmup,
                    load.window,
                    python.clone(),
                )
                .await;
                throughput_sample(report, prefix, call, callers, side, &t);
            }
        }
    }
}

/// A row of each server's peak RSS so far.
fn peak_rss(report: &mut Report, name: &str, order: [Side; 2], pids: [u32; 2]) {
    for side in order {
        if let Some(peak) = measure::memory_mib(pids[side as usize], "VmHWM") {
            report.add(name, "MiB", Better::Lower, side, sample(peak));
        }
    }
}

fn throughput_sample(
    report: &mut Report,
    prefix: &str,
    call: Call,
    callers: usize,
    side: Side,
    t: &Throughput,
) {
    let s = Sample {
        value: t.calls_per_second,
        client_share: Some(t.client_share),
        server_share: Some(t.server_share),
        server_us_per_call: Some(t.server_cpu_per_call.as_secs_f64() * 1e6),
        errors: t.errors.count,
    };
    let who = if callers == 1 { "caller" } else { "callers" };
    report.add(
        &format!("{prefix} `{}` {callers} {who}", call.tool()),
        "calls/s",
        Better::Higher,
        side,
        s,
    );
    let mut errors = Vec::new();
    note_errors(
        &mut errors,
        &format!(
            "{prefix} {} {callers} callers, {}",
            call.tool(),
            side.name()
        ),
        &t.errors,
    );
    if t.stuck > 0 {
        errors.push(format!("{prefix} {} {callers} callers, {}: {} callers still had no answer 35 s after the run ended", call.tool(), side.name(), t.stuck));
    }
    report.errors.extend(errors);
}

/// Notes the failed calls of `errors`, if any, under `context`.
fn note_errors(into: &mut Vec<String>, context: &str, errors: &measure::ErrorSummary) {
    if errors.count > 0 {
        into.push(format!(
            "{context}: {} failed calls, e.g. {}",
            errors.count,
            errors.messages.join(" | ")
        ));
    }
}
