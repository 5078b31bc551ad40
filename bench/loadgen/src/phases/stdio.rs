//! Latency and throughput over stdio: one session on each server's
//! stdin/stdout, which concurrent callers share (rmcp matches answers to
//! requests by id), and the peak RSS after all of it.

use std::sync::Arc;

use super::{Load, latency_samples, sample, throughput_sample};
use crate::measure::{self, memory_mib};
use crate::report::{Better, Report, Side};
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
        let calls = load.calls(call);
        for side in order {
            let server = &servers[side as usize];
            let latency = measure::latency(
                server.session.peer(),
                server.pid,
                call,
                calls / 10,
                calls,
                python,
            )
            .await;
            latency_samples(report, "stdio", call, side, &latency, &mut errors);
        }
    }
    report.errors.append(&mut errors);
    for call in Call::ALL {
        for &callers in &load.callers {
            for side in order {
                let server = &servers[side as usize];
                let peers = vec![server.session.peer().clone(); callers];
                let t = measure::throughput(
                    peers,
                    server.pid,
                    call,
                    load.warmup,
                    load.window,
                    python.clone(),
                )
                .await;
                throughput_sample(report, "stdio", call, callers, side, &t);
            }
        }
    }
    for side in order {
        let server = &servers[side as usize];
        if let Some(peak) = memory_mib(server.pid, "VmHWM") {
            report.add(
                "stdio peak RSS (VmHWM) after all calls",
                "MiB",
                Better::Lower,
                side,
                sample(peak),
            );
        }
    }
    let [a, b] = servers;
    a.stop().await;
    b.stop().await;
    Ok(())
}
