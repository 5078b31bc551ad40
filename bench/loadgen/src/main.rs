//! The load generator of Corral's benchmark (issue 4).
//!
//! It starts `corral` and the native floor (`native-server`) as separate
//! processes and drives both through MCP with rmcp's client, over stdio and
//! over streamable HTTP: sequential latency, throughput with 1, 8 and 64
//! callers, start time and idle memory with 20 components, and (Corral
//! only) the RSS of an in-flight call and the bound on concurrent
//! instances. Every run measures both servers back to back (alternating
//! which goes first), so each Corral/native ratio compares numbers taken
//! minutes apart at most; the table shows the median over runs. CPU idle
//! states are held off while it measures (`awake`).
//! `bench/run` builds everything and calls this.
//!
//! This file only wires the run together: the phases measure
//! (`phases/`), `configs` writes what Corral serves, `report` collects the
//! samples and `markdown` writes bench/RESULTS.md around them.

mod analysis;
mod awake;
mod configs;
mod markdown;
mod measure;
mod phases;
mod report;
mod server;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

use phases::Load;
use report::{Notes, Report, Side};
use server::Target;
use workload::python_file;

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
    /// Let the CPUs enter idle states while measuring (by default the run
    /// holds them off through /dev/cpu_dma_latency; see `awake.rs`).
    #[arg(long)]
    idle_states: bool,
    /// Skip counting instructions per call under callgrind (done by
    /// default when valgrind is installed; it takes a few minutes).
    #[arg(long)]
    no_instructions: bool,
    /// Which phases to run, to look at one closely (the report then has
    /// only their rows).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Phase::ALL)]
    phases: Vec<Phase>,
}

/// One part of a run.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// Latency and throughput over stdio.
    Stdio,
    /// Latency and throughput over streamable HTTP.
    Http,
    /// Start time and idle memory with 20 components.
    Start,
    /// RSS per in-flight call and the bound on instances.
    Memory,
    /// Server CPU per MiB of request, 1 KiB to 4 MiB, read and not read.
    Sweep,
}

impl Phase {
    const ALL: [Phase; 5] = [
        Phase::Stdio,
        Phase::Http,
        Phase::Start,
        Phase::Memory,
        Phase::Sweep,
    ];
}

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
    let revision = markdown::revision();
    std::fs::create_dir_all(&args.work_dir)?;
    let work = args.work_dir.canonicalize()?;
    let guests = args
        .guests
        .canonicalize()
        .context("the guest directory does not exist")?;
    for name in configs::EXAMPLES
        .into_iter()
        .chain([configs::CONFORMANCE, configs::ECHO])
    {
        let path = guests.join(format!("{name}.wasm"));
        anyhow::ensure!(
            path.exists(),
            "{} is missing: build guest-tools first",
            path.display()
        );
    }
    let configs = configs::write(&work, &guests)?;
    let cache = work.join("cache");
    let corral = Target::corral(&args.corral, &configs.bench, &cache);
    let corral20 = Target::corral(&args.corral, &configs.twenty, &cache);
    let bounded = configs
        .bounded
        .each_ref()
        .map(|config| Target::corral(&args.corral, config, &cache));
    let native = Target::native(&args.native, &cache);
    let load = Load::new(args.calls, &args.callers, args.seconds);

    let awake = awake::Awake::hold(args.idle_states);
    let python: Arc<str> = python_file().into();
    // Kept for whoever wants to see what `analyze_code` was given.
    std::fs::write(work.join("analyze_code-input.py"), &*python)?;
    let mut report = Report::default();
    let mut notes = Notes {
        analysis: analysis::compare_analyses(&corral, &native, &python).await?,
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
        let runs = |phase| args.phases.contains(&phase);
        if runs(Phase::Stdio) {
            phases::stdio::phase(&load, [&corral, &native], order, &python, &mut report).await?;
        }
        if runs(Phase::Http) {
            phases::http::phase(
                &load,
                [&corral, &native],
                order,
                &python,
                &mut report,
                &mut notes,
            )
            .await?;
        }
        if runs(Phase::Start) {
            phases::start::phase(run, &work, &corral20, &native, &mut report, &mut notes).await?;
        }
        if runs(Phase::Memory) {
            phases::memory::phase(&bounded, &mut report, &mut notes).await?;
        }
        if runs(Phase::Sweep) {
            phases::sweep::phase([&corral, &native], order, &mut report).await?;
        }
    }

    notes.instructions = if args.no_instructions {
        "Instructions per call: not counted (`--no-instructions`).".to_owned()
    } else {
        instructions(&args, &work.join("analyze_code-input.py"))
    };

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
    let previous = std::fs::read_to_string(&args.out).unwrap_or_default();
    let setup = markdown::Setup {
        command: &args.command,
        runs: args.runs,
        seconds: args.seconds,
        calls: args.calls,
        callers: &args.callers,
        revision: &revision,
        elapsed,
        load: [&load_before, &load_after],
        idle_states: &awake.description,
    };
    let text = markdown::results(&setup, &report, &notes, &python, &previous);
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(())
}

/// Instructions per call of `add` and `analyze_code`, Corral against native:
/// bench/instructions.py's table (callgrind), or why there is none.
fn instructions(args: &Args, python: &std::path::Path) -> String {
    let has_valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_valgrind {
        return "Instructions per call: valgrind is not installed, so not counted.".to_owned();
    }
    eprintln!("counting instructions per call under callgrind (a few minutes)");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../instructions.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .args(["--tools", "add,analyze_code", "--calls", "200,1200"])
        .arg("--corral")
        .arg(&args.corral)
        .arg("--native")
        .arg(&args.native)
        .arg("--guests")
        .arg(&args.guests)
        .arg("--python")
        .arg(python)
        .output();
    match output {
        Ok(o) if o.status.success() => format!(
            "Instructions per call (callgrind, `python3 bench/instructions.py --tools \
             add,analyze_code --calls 200,1200`; over stdio, sequential):\n\n{}",
            String::from_utf8_lossy(&o.stdout).trim_end()
        ),
        Ok(o) => format!(
            "Instructions per call: bench/instructions.py failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("Instructions per call: cannot run python3: {e}"),
    }
}
