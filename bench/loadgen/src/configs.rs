//! The `corral.toml` files the benchmark serves: the two tools every
//! latency and throughput phase calls, the example components repeated to
//! twenty for the start phase, and the bounds on concurrent calls the
//! memory phase runs under. Written once per benchmark into the work
//! directory, so a reader can serve exactly what was measured.

use std::path::{Path, PathBuf};

/// Components in the start phase's configuration.
pub const TWENTY: usize = 20;

/// The example components, repeated to [`TWENTY`] for the start phase.
pub const EXAMPLES: [&str; 5] = [
    "calc",
    "code_analyzer",
    "text_tools",
    "fs_tools",
    "http_fetch",
];

/// The test component whose `echo_string` and `echo_list` the size sweep
/// calls.
pub const ECHO: &str = "type_echo";

/// The component whose `test_tool_with_progress` holds an instance for
/// the memory phase.
pub const CONFORMANCE: &str = "conformance";

/// Concurrent calls in each burst of the memory phase, and the slots
/// (`max_concurrent_calls`) when nothing should wait.
pub const BURST: u32 = 64;
/// The bound on concurrent calls the memory phase tests.
pub const SLOTS: u32 = 8;
/// A queue timeout long enough for every call of a burst to get a slot.
pub const PATIENT: &str = "30s";
/// A queue timeout shorter than one call, so calls beyond the slots are
/// refused.
pub const IMPATIENT: &str = "50ms";

/// Where [`write`] put each configuration.
pub struct Configs {
    /// `calc` and `code_analyzer`: what the latency and throughput phases
    /// call, and [`ECHO`] for the size sweep.
    pub bench: PathBuf,
    /// The example components repeated to [`TWENTY`].
    pub twenty: PathBuf,
    /// The conformance component under three bounds: [`BURST`] slots (no
    /// call waits); [`SLOTS`] slots and a [`PATIENT`] queue; [`SLOTS`]
    /// slots and an [`IMPATIENT`] queue.
    pub bounded: [PathBuf; 3],
}

/// Writes every configuration into `work`, naming the components in
/// `guests`.
pub fn write(work: &Path, guests: &Path) -> anyhow::Result<Configs> {
    let configs = Configs {
        bench: work.join("corral-bench.toml"),
        twenty: work.join("corral-20.toml"),
        bounded: [
            work.join(format!("corral-bound-{BURST}.toml")),
            work.join(format!("corral-bound-{SLOTS}-{PATIENT}.toml")),
            work.join(format!("corral-bound-{SLOTS}-{IMPATIENT}.toml")),
        ],
    };
    std::fs::write(&configs.bench, bench_config(guests))?;
    std::fs::write(&configs.twenty, twenty_config(guests))?;
    let [wide, patient, impatient] = &configs.bounded;
    std::fs::write(wide, bound_config(guests, BURST, None))?;
    std::fs::write(patient, bound_config(guests, SLOTS, Some(PATIENT)))?;
    std::fs::write(impatient, bound_config(guests, SLOTS, Some(IMPATIENT)))?;
    Ok(configs)
}

fn bench_config(guests: &Path) -> String {
    format!(
        "# Written by bench/loadgen: the tools the benchmark calls. The size\n\
         # sweep's requests reach 4 MiB and its answers 8 MiB of JSON (the value\n\
         # and its text block).\n\
         [server]\nname = \"corral-bench\"\nmax_result_size = \"64MiB\"\n\n\
         [server.http]\nmax_body_size = \"64MiB\"\n\n\
         [components.calc]\npath = \"{}\"\n\n\
         [components.analyzer]\npath = \"{}\"\n\n\
         [components.echo]\npath = \"{}\"\n\
         # A 4 MiB list<u32> request holds more than the default 64 MiB of host\n\
         # memory while it is decoded and encoded.\n\
         limits = {{ host_memory = \"1GiB\" }}\n",
        guests.join("calc.wasm").display(),
        guests.join("code_analyzer.wasm").display(),
        guests.join(format!("{ECHO}.wasm")).display(),
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

/// The conformance component with at most `slots` calls at once, a call
/// waiting up to `queue_timeout` for a slot (Corral's default if `None`).
fn bound_config(guests: &Path, slots: u32, queue_timeout: Option<&str>) -> String {
    let queue = queue_timeout.map_or(String::new(), |t| format!("queue_timeout = \"{t}\"\n"));
    format!(
        "# Written by bench/loadgen: a tool that holds its instance ~100 ms, \
         at most {slots} calls at once.\n\
         [server]\nmax_concurrent_calls = {slots}\n{queue}\n\
         [components.{CONFORMANCE}]\npath = \"{}\"\n",
        guests.join(format!("{CONFORMANCE}.wasm")).display(),
    )
}
