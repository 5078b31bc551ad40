//! Latency and throughput over stdio: one session on each server's
//! stdin/stdout, which concurrent callers share (rmcp matches answers to
//! requests by id), and the peak RSS after all of it.

use std::sync::Arc;

use super::{Load, latency_samples, peak_rss, throughput_points};
use crate::measure;
use crate::report::{Report, Side};
use crate::server::{StdioServer, Target};
use crate::workload::Call;

/// Measures `targets` (Corral, native) over stdio, in `order`.
pub async fn phase(
    load: &Load,
    targets: [&Target; 2],
    order: [Side; 2],
    python: &Arc<str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let servers = [
        StdioServer::start(targets[0]).await?,
        StdioServer::start(targets[1]).await?,
    ];
    let mut errors = Vec::new();
    for call in Call::ALL {
        let [first, second] = order.map(|side| &servers[side as usize]);
        let calls = load.calls(call);
        let latencies = measure::latency_pair(
            [
                (first.session.peer(), first.pid),
                (second.session.peer(), second.pid),
            ],
            call,
            calls / 10,
            calls,
            python,
        )
        .await;
        for (side, latency) in order.into_iter().zip(&latencies) {
            latency_samples(report, "stdio", call, side, latency, &mut errors);
        }
    }
    report.errors.append(&mut errors);
    let pids = [servers[0].pid, servers[1].pid];
    throughput_points(
        load,
        "stdio",
        order,
        pids,
        python,
        report,
        |side, callers| vec![servers[side as usize].session.peer().clone(); callers],
    )
    .await;
    peak_rss(
        report,
        "stdio peak RSS (VmHWM) after all calls",
        order,
        pids,
    );
    let [a, b] = servers;
    a.stop().await;
    b.stop().await;
    Ok(())
}
