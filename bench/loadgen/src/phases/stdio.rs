//! Latency and throughput over stdio: one session on each server's
//! stdin/stdout, which concurrent callers share (rmcp matches answers to
//! requests by id), and the peak RSS after all of it.

use std::sync::Arc;

use super::{Load, peak_rss, sequential, throughput_points};
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
    let clients = servers.each_ref().map(|s| (s.session.peer(), s.pid));
    for call in Call::ALL {
        sequential(load, "stdio", call, order, clients, python, report).await;
    }
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
