//! Latency and throughput over streamable HTTP: one session per caller,
//! Corral's own view of a sequential call from its /metrics, and the peak
//! RSS after all of it.

use std::sync::Arc;

use super::{Load, latency_samples, sample, throughput_sample};
use crate::measure::{self, memory_mib};
use crate::report::{Better, Notes, Report, Side};
use crate::server::{self, HttpServer, Target};
use crate::workload::Call;

/// Measures `targets` (Corral, native) over HTTP, in `order`; Corral's
/// time and fuel per call inside the sandbox go to `notes`.
pub async fn phase(
    load: &Load,
    targets: [&Target; 2],
    order: [Side; 2],
    python: &Arc<str>,
    report: &mut Report,
    notes: &mut Notes,
) -> anyhow::Result<()> {
    let servers = [
        HttpServer::start(targets[0]).await?,
        HttpServer::start(targets[1]).await?,
    ];
    let most = load.callers.iter().copied().max().unwrap_or(1);
    let sessions = [
        server::sessions(&servers[0], most).await?,
        server::sessions(&servers[1], most).await?,
    ];
    let mut errors = Vec::new();
    for call in Call::ALL {
        let calls = load.calls(call);
        for side in order {
            let server = &servers[side as usize];
            let before = if side == Side::Corral {
                server.metrics().await
            } else {
                None
            };
            let peer = sessions[side as usize][0].peer();
            let latency = measure::latency(peer, server.pid, call, calls / 10, calls, python).await;
            latency_samples(report, "HTTP", call, side, &latency, &mut errors);
            if let Some(before) = before
                && let Some(after) = server.metrics().await
            {
                let tool = call.tool();
                let count = metric(&after, "corral_tool_call_duration_seconds_count", tool)
                    - metric(&before, "corral_tool_call_duration_seconds_count", tool);
                let seconds = metric(&after, "corral_tool_call_duration_seconds_sum", tool)
                    - metric(&before, "corral_tool_call_duration_seconds_sum", tool);
                let fuel = metric(&after, "corral_tool_fuel_used_total", tool)
                    - metric(&before, "corral_tool_fuel_used_total", tool);
                if count > 0.0 {
                    notes
                        .sandbox
                        .push((tool, seconds / count * 1e6, fuel / count));
                }
            }
        }
    }
    report.errors.append(&mut errors);
    for call in Call::ALL {
        for &callers in &load.callers {
            for side in order {
                let server = &servers[side as usize];
                let peers = server::peers(&sessions[side as usize], callers, false);
                let t = measure::throughput(
                    peers,
                    server.pid,
                    call,
                    load.warmup,
                    load.window,
                    python.clone(),
                )
                .await;
                throughput_sample(report, "HTTP", call, callers, side, &t);
            }
        }
    }
    for side in order {
        let server = &servers[side as usize];
        if let Some(peak) = memory_mib(server.pid, "VmHWM") {
            report.add(
                &format!("HTTP peak RSS (VmHWM) after all calls, {most} sessions"),
                "MiB",
                Better::Lower,
                side,
                sample(peak),
            );
        }
    }
    for list in sessions {
        for session in list {
            let _ = session.cancel().await;
        }
    }
    let [a, b] = servers;
    a.stop().await;
    b.stop().await;
    Ok(())
}

/// A value from Prometheus text for `tool` (summed over other labels).
fn metric(text: &str, name: &str, tool: &str) -> f64 {
    let label = format!("tool=\"{tool}\"");
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{') && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
