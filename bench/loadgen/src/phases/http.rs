//! Latency and throughput over streamable HTTP: one session per caller,
//! Corral's own view of a sequential call from its /metrics, and the peak
//! RSS after all of it.

use std::sync::Arc;

use super::{Load, peak_rss, sequential, throughput_points};
use crate::report::{Notes, Report, Side};
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
    let corral = &servers[Side::Corral as usize];
    let clients = [0, 1].map(|i| (sessions[i][0].peer(), servers[i].pid));
    for call in Call::ALL {
        let before = corral.metrics().await;
        sequential(load, "HTTP", call, order, clients, python, report).await;
        if let Some(before) = before
            && let Some(after) = corral.metrics().await
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
    let pids = [servers[0].pid, servers[1].pid];
    throughput_points(
        load,
        "HTTP",
        order,
        pids,
        python,
        report,
        |side, callers| server::peers(&sessions[side as usize], callers, false),
    )
    .await;
    let name = format!("HTTP peak RSS (VmHWM) after all calls, {most} sessions");
    peak_rss(report, &name, order, pids);
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
