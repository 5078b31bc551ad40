//! The load generator of Corral's benchmark (issue 4).
//!
//! It starts `corral` and the native floor (`native-server`) as separate
//! processes and drives both through MCP with rmcp's client, over stdio and
//! over streamable HTTP: sequential latency, throughput with 1, 8 and 64
//! callers, start time and idle memory with 20 components. Every run
//! measures both servers back to back (alternating which goes first), so
//! each Corral/native ratio compares numbers taken minutes apart at most;
//! the table shows the median over runs. `bench/run` builds everything and
//! calls this.

mod measure;
mod report;
mod server;
mod workload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::Value;

use measure::{Latency, Throughput, cores, memory_mib};
use report::{Better, Report, Sample, Side};
use server::{HttpServer, StdioServer, Target};
use workload::{Call, python_file};

#[derive(Parser)]
struct Args {
    /// The `corral` binary (a release build).
    #[arg(long)]
    corral: PathBuf,
    /// The `native-server` binary (a release build).
    #[arg(long)]
    native: PathBuf,
    /// Where the guest components are (`calc.wasm`, `code_analyzer.wasm`, …).
    #[arg(long)]
    guests: PathBuf,
    /// How many times to measure everything.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seconds counted per throughput point (after a warm-up).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Timed calls per sequential-latency measurement of `add`
    /// (`analyze_code` gets a fifth of them).
    #[arg(long, default_value_t = 2000)]
    calls: u64,
    /// Concurrent callers per throughput point.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 8, 64])]
    callers: Vec<usize>,
    /// Scratch directory for configs and compiled-component caches.
    #[arg(long)]
    work_dir: PathBuf,
    /// The Markdown report to write.
    #[arg(long)]
    out: PathBuf,
    /// The command line that started the benchmark, for the report.
    #[arg(long, default_value = "")]
    command: String,
}

const TWENTY: usize = 20;
const EXAMPLES: [&str; 5] = [
    "calc",
    "code_analyzer",
    "text_tools",
    "fs_tools",
    "http_fetch",
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    // The tree corral was just built from (others may commit during the run).
    let revision = revision();
    std::fs::create_dir_all(&args.work_dir)?;
    let work = args.work_dir.canonicalize()?;
    let guests = args
        .guests
        .canonicalize()
        .context("the guest directory does not exist")?;
    for name in EXAMPLES {
        let path = guests.join(format!("{name}.wasm"));
        anyhow::ensure!(
            path.exists(),
            "{} is missing: build guest-tools first",
            path.display()
        );
    }
    let two = work.join("corral-bench.toml");
    std::fs::write(&two, bench_config(&guests))?;
    let twenty = work.join("corral-20.toml");
    std::fs::write(&twenty, twenty_config(&guests))?;
    let cache = work.join("cache");
    let corral = Target::corral(&args.corral, &two, &cache);
    let corral20 = Target::corral(&args.corral, &twenty, &cache);
    let native = Target::native(&args.native, &cache);

    let python: Arc<str> = python_file().into();
    // Kept for whoever wants to see what `analyze_code` was given.
    std::fs::write(work.join("analyze_code-input.py"), &*python)?;
    let mut report = Report::default();
    let mut notes = Notes {
        analysis: compare_analyses(&corral, &native, &python).await?,
        ..Notes::default()
    };

    for run in 0..args.runs {
        eprintln!(
            "run {}/{} ({:.0} s so far)",
            run + 1,
            args.runs,
            started.elapsed().as_secs_f64()
        );
        // Alternate which server is measured first, so neither always gets
        // the warmer or the quieter slot.
        let order = if run % 2 == 0 {
            [Side::Corral, Side::Native]
        } else {
            [Side::Native, Side::Corral]
        };
        stdio_phase(&args, [&corral, &native], order, &python, &mut report).await?;
        http_phase(
            &args,
            [&corral, &native],
            order,
            &python,
            &mut report,
            &mut notes,
        )
        .await?;
        start_phase(run, &work, &corral20, &native, &mut report, &mut notes).await?;
    }

    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let elapsed = started.elapsed();
    let table = report.table();
    println!("\n{table}");
    println!(
        "{} runs in {:.0} s; full report in {}",
        args.runs,
        elapsed.as_secs_f64(),
        args.out.display()
    );
    let markdown = results_markdown(
        &args,
        &report,
        &notes,
        &python,
        &revision,
        elapsed,
        [&load_before, &load_after],
    );
    std::fs::write(&args.out, markdown)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(())
}

/// What the report says beside the table.
#[derive(Default)]
struct Notes {
    analysis: String,
    tool_count_20: usize,
    /// Corral's own view of a sequential call (from /metrics), per run:
    /// (tool, µs inside the sandbox per call, fuel per call).
    sandbox: Vec<(&'static str, f64, f64)>,
}

fn sample(value: f64) -> Sample {
    Sample {
        value,
        ..Sample::default()
    }
}

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
        &format!("{prefix} {tool} sequential, {}", side_name(side)),
        &latency.errors,
    );
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
            side_name(side)
        ),
        &t.errors,
    );
    if t.stuck > 0 {
        errors.push(format!("{prefix} {} {callers} callers, {}: {} callers still had no answer 35 s after the run ended", call.tool(), side_name(side), t.stuck));
    }
    report.errors.extend(errors);
}

fn note_errors(into: &mut Vec<String>, context: &str, errors: &measure::ErrorSummary) {
    if errors.count > 0 {
        into.push(format!(
            "{context}: {} failed calls, e.g. {}",
            errors.count,
            errors.messages.join(" | ")
        ));
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Corral => "corral",
        Side::Native => "native",
    }
}

async fn stdio_phase(
    args: &Args,
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
        let calls = if call == Call::Add {
            args.calls
        } else {
            args.calls / 5
        };
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
        for &callers in &args.callers {
            for side in order {
                let server = &servers[side as usize];
                let peers = vec![server.session.peer().clone(); callers];
                let t = measure::throughput(
                    peers,
                    server.pid,
                    call,
                    warmup(args),
                    window(args),
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

async fn http_phase(
    args: &Args,
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
    let most = args.callers.iter().copied().max().unwrap_or(1);
    let sessions = [
        server::sessions(&servers[0], most).await?,
        server::sessions(&servers[1], most).await?,
    ];
    let mut errors = Vec::new();
    for call in Call::ALL {
        let calls = if call == Call::Add {
            args.calls
        } else {
            args.calls / 5
        };
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
        for &callers in &args.callers {
            for side in order {
                let server = &servers[side as usize];
                let peers = server::peers(&sessions[side as usize], callers, false);
                let t = measure::throughput(
                    peers,
                    server.pid,
                    call,
                    warmup(args),
                    window(args),
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

fn warmup(args: &Args) -> Duration {
    Duration::from_secs_f64((args.seconds / 4.0).clamp(0.2, 1.0))
}

fn window(args: &Args) -> Duration {
    Duration::from_secs_f64(args.seconds)
}

/// Start to first `tools/list` answer, and RSS at idle: Corral with 20
/// components (cold cache once, then warm three times), native three times.
async fn start_phase(
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
    let tools = server
        .session
        .list_all_tools()
        .await
        .context("tools/list failed")?;
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = memory_mib(server.pid, "VmRSS").unwrap_or(f64::NAN);
    server.stop().await;
    Ok((elapsed.as_secs_f64() * 1e3, rss, tools.len()))
}

/// Calls `analyze_code` once on each server and says how the answers differ.
async fn compare_analyses(
    corral: &Target,
    native: &Target,
    python: &str,
) -> anyhow::Result<String> {
    let mut answers = Vec::new();
    for target in [corral, native] {
        let server = StdioServer::start(target).await?;
        let result = server
            .session
            .call_tool(Call::Analyze.params(0, python))
            .await?;
        server.stop().await;
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default();
        answers.push((result.structured_content.unwrap_or(Value::Null), text));
    }
    let summary = |v: &Value| {
        let findings = |key: &str| -> Vec<String> {
            let mut list: Vec<String> = v[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("{}:{}", f["line"], f["rule"].as_str().unwrap_or("?")))
                .collect();
            list.sort();
            list
        };
        (
            [
                "quality_score",
                "lines_of_code",
                "functions",
                "max_nesting_depth",
            ]
            .map(|k| v[k].to_string())
            .join(" / "),
            findings("suggestions"),
            findings("vulnerabilities"),
        )
    };
    let (c, n) = (summary(&answers[0].0), summary(&answers[1].0));
    let mut out = format!(
        "score / lines of code / functions / max nesting: Corral {}, native {}. \
         Findings (line:rule): Corral {} suggestions and {} vulnerabilities, native {} and {}; \
         the lists are {}. Text block: Corral {} bytes, native {} bytes. \
         The answers (structuredContent and text) are {}.",
        c.0,
        n.0,
        c.1.len(),
        c.2.len(),
        n.1.len(),
        n.2.len(),
        if c.1 == n.1 && c.2 == n.2 {
            "the same".to_owned()
        } else {
            "different".to_owned()
        },
        answers[0].1.len(),
        answers[1].1.len(),
        if answers[0] == answers[1] {
            "byte-identical"
        } else {
            "different"
        },
    );
    if c.1 != n.1 || c.2 != n.2 {
        let only = |a: &[String], b: &[String]| {
            a.iter()
                .filter(|x| !b.contains(x))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (a, b) = (
            [c.1.clone(), c.2.clone()].concat(),
            [n.1.clone(), n.2.clone()].concat(),
        );
        out.push_str(&format!(
            " Only Corral: {}. Only native: {}.",
            only(&a, &b),
            only(&b, &a)
        ));
    }
    Ok(out)
}

fn bench_config(guests: &Path) -> String {
    format!(
        "# Written by bench/loadgen: the two tools the benchmark calls.\n\
         [server]\nname = \"corral-bench\"\n\n\
         [components.calc]\npath = \"{}\"\n\n\
         [components.analyzer]\npath = \"{}\"\n",
        guests.join("calc.wasm").display(),
        guests.join("code_analyzer.wasm").display(),
    )
}

fn twenty_config(guests: &Path) -> String {
    let mut out = format!(
        "# Written by bench/loadgen: the example components repeated to {TWENTY}.\n[server]\nname = \"corral-bench-20\"\n"
    );
    for i in 0..TWENTY {
        let name = EXAMPLES[i % EXAMPLES.len()];
        out.push_str(&format!(
            "\n[components.c{i:02}]\npath = \"{}\"\ntool_prefix = \"c{i:02}_\"\n",
            guests.join(format!("{name}.wasm")).display()
        ));
    }
    out
}

/// The commit checked out when the run started, and whether runtime/ had
/// uncommitted changes then.
fn revision() -> String {
    let commit = shell("git rev-parse --short HEAD");
    if shell("git status --porcelain -- runtime").is_empty() {
        format!("commit {commit}")
    } else {
        format!(
            "commit {commit} with uncommitted changes in runtime/ (work in progress was measured)"
        )
    }
}

fn shell(command: &str) -> String {
    std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

const ANALYSIS_BEGIN: &str = "<!-- analysis:begin (kept when bench/run rewrites this file) -->";
const ANALYSIS_END: &str = "<!-- analysis:end -->";

fn results_markdown(
    args: &Args,
    report: &Report,
    notes: &Notes,
    python: &str,
    revision: &str,
    elapsed: Duration,
    load: [&str; 2],
) -> String {
    let previous = std::fs::read_to_string(&args.out).unwrap_or_default();
    let analysis = match (previous.find(ANALYSIS_BEGIN), previous.find(ANALYSIS_END)) {
        (Some(a), Some(b)) if a < b => previous[a..b + ANALYSIS_END.len()].to_owned(),
        _ => format!(
            "{ANALYSIS_BEGIN}\n## What limits each ratio\n\nNot written yet for these numbers.\n{ANALYSIS_END}"
        ),
    };
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    let sandbox = |tool: &str| {
        let of = |f: fn(&(&str, f64, f64)) -> f64| {
            let v: Vec<f64> = notes
                .sandbox
                .iter()
                .filter(|s| s.0 == tool)
                .map(f)
                .collect();
            report::median(&v).unwrap_or(f64::NAN)
        };
        format!(
            "`{tool}`: {:.0} µs per call inside the sandbox (fresh instance, arguments in, result out), {:.0} fuel",
            of(|s| s.1),
            of(|s| s.2)
        )
    };
    let command = if args.command.is_empty() {
        "bench/run".to_owned()
    } else {
        args.command.clone()
    };
    let callers = args
        .callers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let errors = if report.errors.is_empty() {
        "None.".to_owned()
    } else {
        report
            .errors
            .iter()
            .map(|e| format!("- {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "# Corral against the native floor\n\n\
         Written by `{command}` on {date}: {runs} runs, {seconds} s per throughput point, \
         {elapsed:.0} s of measuring (builds not included). Every number is the median over \
         the runs; every ratio is taken within a run (Corral and native measured back to back, \
         the order alternating), then the median of those ratios is shown with its range. \
         Issue 4's goals: throughput ratio ≥ 0.8 with 8+ callers over HTTP and over stdio; \
         sequential p50 within 50 µs of native; warm start with 20 components under 50 ms; \
         idle RSS with 20 components under 64 MiB.\n\n\
         {table}\n\
         *loadgen CPU* is the load generator's own CPU time (getrusage) over the wall time × \
         {cores} cores; *server CPU* the same for the server process (/proc/PID/stat). The two \
         share the machine, so when they add up to about 100 % the machine is saturated.\n\n\
         Corral's own view of a sequential HTTP call, from its /metrics (median over runs): \
         {sandbox_add}; {sandbox_analyze}.\n\n\
         {analysis}\n\n\
         ## Machine\n\n\
         - cores (`nproc`): {cores}\n\
         - CPU: {cpu}\n\
         - kernel: {kernel}\n\
         - load average before / after: {load_before} / {load_after} (other work on the \
         machine shows up here: the runs are only as quiet as this)\n\
         - corral: built from {revision}\n\
         - `free -h`:\n\n```\n{free}\n```\n\n\
         ## What is measured\n\n\
         - **Servers.** Corral (`corral serve --config corral-bench.toml`, the `calc` and \
         `code_analyzer` components, default limits and logging, stderr discarded) and \
         `bench/native-server` (the same tools in plain Rust on rmcp, no sandbox). Each is its \
         own process; the load generator is a third.\n\
         - **Transports.** stdio: one session on the child's stdin/stdout; concurrent callers \
         share it (rmcp matches answers to requests by id). HTTP: streamable HTTP at \
         `127.0.0.1:PORT/mcp`, 2025-11-25 sessions (`initialize`); each caller has its own \
         session and HTTP client.\n\
         - **Calls.** `add` with small operands (every answer checked); `analyze_code` on a \
         generated Python module of {py_lines} lines ({py_bytes} bytes, the same every run). \
         Sequential: {calls} timed calls of `add` and {calls5} of `analyze_code` after a \
         tenth as many untimed ones. Throughput: {callers} callers, each calling in a loop, \
         counted over {seconds} s after a warm-up.\n\
         - **Start.** From spawning the process to the answer of the first `tools/list` \
         (after `initialize`), over stdio, with {TWENTY} components: the 5 example \
         components ({examples}) repeated with `tool_prefix = \"c00_\"` … `\"c19_\"`, \
         {tools} tools. Cold: an empty compiled-component cache (`XDG_CACHE_HOME` pointed at a \
         fresh directory); warm: the median of three starts after that. Native starts its 2 \
         tools three times. RSS is VmRSS from /proc/PID/status half a second after the answer.\n\
         - **`analyze_code` runs the same code on both sides.** The native server depends on \
         `guest-tools/code-analysis`, the library the `code_analyzer` component wraps: the \
         floor runs the same `code-analysis` crate natively and encodes its result as Corral \
         encodes the WIT record. So the heavy-tool ratios compare one analysis compiled to \
         wasm and run in the sandbox (with fuel metering) against the same analysis compiled \
         natively. On the benchmark file: {analysis_compare}\n\n\
         ## Commands\n\n\
         ```sh\n\
         {command}\n\
         # which runs, from the repository root:\n\
         cargo build --release -p corral\n\
         cargo build --release --target wasm32-wasip2 --manifest-path guest-tools/Cargo.toml\n\
         cargo build --release --manifest-path bench/Cargo.toml --target-dir bench/target\n\
         {loadgen}\n\
         ```\n\n\
         ## Failed calls\n\n{errors}\n\n\
         ## Every run\n\n{per_run}",
        date = shell("date -u '+%Y-%m-%d %H:%M UTC'"),
        runs = args.runs,
        seconds = args.seconds,
        elapsed = elapsed.as_secs_f64(),
        table = report.table(),
        cores = cores(),
        sandbox_add = sandbox("add"),
        sandbox_analyze = sandbox("analyze_code"),
        kernel = shell("uname -r"),
        load_before = load[0]
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        load_after = load[1]
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        free = shell("free -h"),
        py_lines = python.lines().count(),
        py_bytes = python.len(),
        calls = args.calls,
        calls5 = args.calls / 5,
        examples = EXAMPLES.join(", "),
        tools = notes.tool_count_20,
        analysis_compare = notes.analysis,
        loadgen = std::env::args()
            .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
            .collect::<Vec<_>>()
            .join(" "),
        per_run = report.per_run(),
    )
}
