//! Start time (spawn to the first `tools/list` answer) and idle RSS:
//! Corral with twenty components, cold and warm compiled-component cache,
//! against the native floor with its two tools.

use std::path::Path;
use std::time::{Duration, Instant};

use super::sample;
use crate::configs::TWENTY;
use crate::measure::memory_mib;
use crate::report::{self, Better, Notes, Report, Side};
use crate::server::{StdioServer, Target};

/// Start to first `tools/list` answer, and RSS at idle: Corral with 20
/// components (cold cache once, then warm three times), native three times.
pub async fn phase(
    run: usize,
    work: &Path,
    corral20: &Target,
    native: &Target,
    report: &mut Report,
    notes: &mut Notes,
) -> anyhow::Result<()> {
    let cold_cache = work.join(format!("cache-cold-{run}"));
    let _ = std::fs::remove_dir_all(&cold_cache);
    let corral20 = corral20.with_cache_home(&cold_cache);
    let (cold, _, tools) = start_once(&corral20).await?;
    notes.tool_count_20 = tools;
    let mut warm = Vec::new();
    let mut corral_rss = Vec::new();
    let mut native_start = Vec::new();
    let mut native_rss = Vec::new();
    for _ in 0..3 {
        let (time, rss, _) = start_once(&corral20).await?;
        warm.push(time);
        corral_rss.push(rss);
        let (time, rss, _) = start_once(native).await?;
        native_start.push(time);
        native_rss.push(rss);
    }
    let _ = std::fs::remove_dir_all(&cold_cache);
    let median = |v: &[f64]| report::median(v).unwrap_or(f64::NAN);
    let name = format!(
        "start → first `tools/list`, {TWENTY} components, cold cache (native: its 2 tools)"
    );
    report.add(&name, "ms", Better::Lower, Side::Corral, sample(cold));
    report.add(
        &name,
        "ms",
        Better::Lower,
        Side::Native,
        sample(median(&native_start)),
    );
    let name = format!(
        "start → first `tools/list`, {TWENTY} components, warm cache (native: its 2 tools)"
    );
    report.add(
        &name,
        "ms",
        Better::Lower,
        Side::Corral,
        sample(median(&warm)),
    );
    report.add(
        &name,
        "ms",
        Better::Lower,
        Side::Native,
        sample(median(&native_start)),
    );
    let name = format!("idle RSS (VmRSS) after start, {TWENTY} components (native: its 2 tools)");
    report.add(
        &name,
        "MiB",
        Better::Lower,
        Side::Corral,
        sample(median(&corral_rss)),
    );
    report.add(
        &name,
        "MiB",
        Better::Lower,
        Side::Native,
        sample(median(&native_rss)),
    );
    Ok(())
}

/// Starts `target` over stdio and lists its tools: (ms from spawn to the
/// `tools/list` answer, VmRSS in MiB half a second later, tool count).
async fn start_once(target: &Target) -> anyhow::Result<(f64, f64, usize)> {
    let started = Instant::now();
    let server = StdioServer::start(target).await?;
    let tools = server.tools().await?;
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = memory_mib(server.pid, "VmRSS").unwrap_or(f64::NAN);
    server.stop().await;
    Ok((elapsed.as_secs_f64() * 1e3, rss, tools.len()))
}
