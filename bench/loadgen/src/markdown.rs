//! bench/RESULTS.md: the text around the table (what was measured, on
//! which machine, from which commit, with which commands) and the analysis
//! section a person writes, which is kept when the file is rewritten.

use std::time::Duration;

use crate::configs::{BURST, CONFORMANCE, EXAMPLES, IMPATIENT, PATIENT, SLOTS, TWENTY};
use crate::measure::{RSS_EVERY, cores};
use crate::phases::memory::SETTLE;
use crate::report::{self, Bounded, Notes, Report};
use crate::workload::HOLD;

/// How the benchmark was run, for the report's header and method.
pub struct Setup<'a> {
    /// The command line that started the benchmark (empty: `bench/run`).
    pub command: &'a str,
    pub runs: usize,
    /// Seconds counted per throughput point.
    pub seconds: f64,
    /// Timed sequential calls of `add`.
    pub calls: u64,
    /// Concurrent callers per throughput point.
    pub callers: &'a [usize],
    /// What [`revision`] said when the run started.
    pub revision: &'a str,
    /// Time spent measuring.
    pub elapsed: Duration,
    /// /proc/loadavg before and after.
    pub load: [&'a str; 2],
    /// What the run did about CPU idle states ([`crate::awake`]).
    pub idle_states: &'a str,
}

/// The commit checked out when the run started, and whether runtime/ had
/// uncommitted changes then.
pub fn revision() -> String {
    let commit = shell("git rev-parse --short HEAD");
    if shell("git status --porcelain -- runtime").is_empty() {
        format!("commit {commit}")
    } else {
        format!(
            "commit {commit} with uncommitted changes in runtime/ (work in progress was measured)"
        )
    }
}

/// What `command` prints under `sh -c`, trimmed (empty if it cannot run).
fn shell(command: &str) -> String {
    std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Where the analysis a person wrote starts and ends; [`results`] keeps
/// what is between them.
const ANALYSIS_BEGIN: &str = "<!-- analysis:begin (kept when bench/run rewrites this file) -->";
const ANALYSIS_END: &str = "<!-- analysis:end -->";

/// The whole of bench/RESULTS.md, keeping the analysis section of
/// `previous` (the file as it was) if it has one.
pub fn results(
    setup: &Setup,
    report: &Report,
    notes: &Notes,
    python: &str,
    previous: &str,
) -> String {
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
    let command = if setup.command.is_empty() {
        "bench/run".to_owned()
    } else {
        setup.command.to_owned()
    };
    let callers = setup
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
         idle RSS with 20 components under 64 MiB; a configured bound on concurrent \
         instances (calls beyond it wait up to a queue limit, then get a clear \"server busy\" \
         error, never unbounded memory).\n\n\
         ## Headline: server CPU per call\n\n\
         Issue 15's goals: `add` ≤ 1.10× native and `analyze_code` ≤ 1.25× in server CPU \
         per call; the size sweep within 1.2× native per MiB for bytes the guest does not read. \
         Server CPU is utime + stime of the server process (/proc/PID/stat) over the calls \
         (one caller, calling in a loop), divided by the calls; the size sweep subtracts the \
         same call carrying 1 byte and divides by the request's MiB (see \"What is measured\").\n\n\
         {headline}\n\
         {instructions}\n\n\
         ## Every measurement\n\n\
         {table}\n\
         *loadgen CPU* is the load generator's own CPU time (getrusage) over the wall time × \
         {cores} cores; *server CPU* the same for the server process (/proc/PID/stat). The two \
         share the machine, so when they add up to about 100 % the machine is saturated.\n\n\
         Corral's own view of a sequential HTTP call, from its /metrics (median over runs): \
         {sandbox_add}; {sandbox_analyze}.\n\n\
         {bounded}\n\n\
         {analysis}\n\n\
         ## Machine\n\n\
         - cores (`nproc`): {cores}\n\
         - CPU: {cpu}\n\
         - kernel: {kernel}\n\
         - cpuidle driver: {cpuidle}; idle states: {idle_states}\n\
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
         tenth as many untimed ones, the two servers taking turns in blocks of 50 calls (so \
         drift in the machine falls on both alike). Throughput: {callers} callers, each calling in a loop, \
         counted over {seconds} s after a warm-up.\n\
         - **Start.** From spawning the process to the answer of the first `tools/list` \
         (after `initialize`), over stdio, with {TWENTY} components: the 5 example \
         components ({examples}) repeated with `tool_prefix = \"c00_\"` … `\"c19_\"`, \
         {tools} tools. Cold: an empty compiled-component cache (`XDG_CACHE_HOME` pointed at a \
         fresh directory); warm: the median of three starts after that. Native starts its 2 \
         tools three times. RSS is VmRSS from /proc/PID/status half a second after the answer.\n\
         - **Memory and the bound** (Corral only: the native server has no sandbox and no \
         bound, so its columns are \"–\"). The `{CONFORMANCE}` test component alone, over \
         stdio, under three `[server]` settings: `max_concurrent_calls = {BURST}` (no call \
         waits); `max_concurrent_calls = {SLOTS}`, `queue_timeout = \"{PATIENT}\"`; and \
         `max_concurrent_calls = {SLOTS}`, `queue_timeout = \"{IMPATIENT}\"`. A fresh server \
         for each: {settle} ms after the `tools/list` answer VmRSS is read (idle), then \
         {BURST} calls of `{HOLD}` (no arguments; it sleeps 2 × 50 ms inside the guest, so \
         each call holds a live instance about 100 ms) are sent at once on the one session \
         while VmRSS is read every {every} ms until the last answer; growth is the highest \
         reading minus idle, and the RSS per in-flight call is the growth with {BURST} slots \
         ÷ {BURST}. A call is refused when its answer is an isError result saying \
         \"server busy\".\n\
         - **`analyze_code` runs the same code on both sides.** The native server depends on \
         `guest-tools/code-analysis`, the library the `code_analyzer` component wraps: the \
         floor runs the same `code-analysis` crate natively and encodes its result as Corral \
         encodes the WIT record. So the heavy-tool ratios compare one analysis compiled to \
         wasm and run in the sandbox (with fuel metering) against the same analysis compiled \
         natively. On the benchmark file: {analysis_compare}\n\
         - **Size sweep.** Over stdio, one fresh server per kind of call, sequential calls of \
         the `type_echo` test component's `echo_string` (a string in, the same string out) and \
         `echo_list` (a `list<u32>` in and out), both read by the tool, and of `add` carrying \
         the bytes in `params._meta`, which no tool reads; the floor has `echo_string` and \
         `echo_list` of its own. Sizes are the request's JSON bytes: {sweep_sizes}. Each size \
         gets at least 8 calls and up to 32 MiB of requests (1000 calls at most), timed by \
         the scheduler's run time of the server's threads (/proc/PID/task/*/schedstat, in ns); \
         every answer is checked.\n\
         - **Instructions** (when valgrind is on the machine): `python3 bench/instructions.py`, \
         each server under `valgrind --tool=callgrind` (user-space instructions of all its \
         threads, the guest's compiled code included, the kernel's not), once with 200 and \
         once with 1200 sequential calls after the same warm-up; the difference over 1000. \
         Corral runs there with one call slot and one memory per instance (valgrind cannot \
         reserve the default pool's address space).\n\n\
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
        sweep_sizes = crate::phases::sweep::SIZES
            .map(|s| s.to_string())
            .join(", "),
        date = shell("date -u '+%Y-%m-%d %H:%M UTC'"),
        runs = setup.runs,
        seconds = setup.seconds,
        elapsed = setup.elapsed.as_secs_f64(),
        table = report.table(),
        headline = report.headline(),
        instructions = notes.instructions,
        cores = cores(),
        sandbox_add = sandbox("add"),
        sandbox_analyze = sandbox("analyze_code"),
        bounded = bounded(&notes.bounded),
        settle = SETTLE.as_millis(),
        every = RSS_EVERY.as_millis(),
        kernel = shell("uname -r"),
        cpuidle = std::fs::read_to_string("/sys/devices/system/cpu/cpuidle/current_driver")
            .map_or_else(|_| "unknown".into(), |d| d.trim().to_owned()),
        idle_states = setup.idle_states,
        revision = setup.revision,
        load_before = setup.load[0]
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        load_after = setup.load[1]
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        free = shell("free -h"),
        py_lines = python.lines().count(),
        py_bytes = python.len(),
        calls = setup.calls,
        calls5 = setup.calls / 5,
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

/// The memory phase in a sentence or three (medians over runs); nothing
/// when the phase did not run.
fn bounded(runs: &[Bounded]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let of = |f: fn(&Bounded) -> f64| {
        let v: Vec<f64> = runs.iter().map(f).collect();
        report::median(&v).unwrap_or(f64::NAN)
    };
    format!(
        "Memory and the bound (Corral only; median over runs): a call of `{HOLD}` in \
         flight adds {per_call:.2} MiB of RSS ({BURST} at once with {BURST} slots). With \
         `max_concurrent_calls = {SLOTS}` and `queue_timeout = \"{PATIENT}\"`, the calls \
         beyond the slots waited for one: {answered:.0} of {BURST} were answered, and RSS \
         grew by {growth:.1} MiB, against {wide:.1} MiB with {BURST} slots (the bound lets \
         {SLOTS} instances live at once). With `queue_timeout = \"{IMPATIENT}\"`, \
         {fast:.0} were answered and {busy:.0} refused with \"server busy\".",
        per_call = of(|b| b.per_call),
        growth = of(|b| b.patient_growth),
        answered = of(|b| b.patient_answered as f64),
        wide = of(|b| b.per_call * BURST as f64),
        fast = of(|b| b.impatient_answered as f64),
        busy = of(|b| b.impatient_busy as f64),
    )
}
