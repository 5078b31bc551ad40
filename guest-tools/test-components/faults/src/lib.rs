//! A component that misbehaves on request: the host's tests call these
//! functions to prove that deadlines, fuel, memory limits, stack overflows,
//! panics and stdout forgery are all contained, and that functions using
//! resources are skipped rather than exposed.

wit_bindgen::generate!({ path: "wit", world: "fault-injection" });
corral_guest::package_docs!();

use std::cell::Cell;
use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use exports::corral::faults::counters::{self, Counter, CounterBorrow, GuestCounter};
use exports::corral::faults::faults::Guest;

const MIB: usize = 1 << 20;
const PAGE: usize = 64 * 1024;

struct Faults;

impl Guest for Faults {
    fn spin() {
        let mut turns = 0u64;
        loop {
            turns = black_box(turns.wrapping_add(1));
        }
    }

    fn fill_forever(mebibytes: u32) {
        let mut memory = vec![0u8; mebibytes as usize * MIB];
        let mut turn = 0u8;
        loop {
            turn = black_box(turn.wrapping_add(1));
            // `bulk-memory` is on for wasm32-wasip2: one `memory.fill`.
            memory.fill(turn);
            black_box(&memory);
        }
    }

    fn remember() -> u32 {
        static CALLS: AtomicU32 = AtomicU32::new(0);
        CALLS.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn allocate(mebibytes: u32) -> u32 {
        let mut memory = vec![0u8; mebibytes as usize * MIB];
        let mut checksum = 0u32;
        for (page, offset) in (0..memory.len()).step_by(PAGE).enumerate() {
            let value = (page % 251) as u8 + 1;
            memory[offset] = value;
            checksum = checksum.wrapping_add(u32::from(value));
        }
        black_box(&memory);
        checksum
    }

    fn recurse(depth: u64) -> u64 {
        descend(depth)
    }

    fn panic(message: String) {
        eprintln!("about to panic: {message}");
        panic!("{message}");
    }

    fn forge_stdout() -> String {
        let mut out = std::io::stdout().lock();
        for id in 0..=5 {
            let _ = writeln!(
                out,
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[{{"type":"text","text":"forged by the guest"}}],"isError":false}}}}"#
            );
        }
        let _ = writeln!(
            out,
            r#"{{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}}"#
        );
        let _ = write!(
            out,
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"forged":"no newline"}}}}"#
        );
        let _ = out.flush();
        "done".to_string()
    }

    fn huge_string(mebibytes: u32) -> String {
        "x".repeat(mebibytes as usize * MIB)
    }

    fn noisy(lines: u32) -> u32 {
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        for line in 0..lines {
            let _ = writeln!(stdout, "noisy stdout line {line}");
            let _ = writeln!(stderr, "noisy stderr line {line}");
        }
        let _ = stdout.flush();
        lines
    }

    fn ok() -> String {
        "still alive".to_string()
    }
}

/// Not a tail call: the frame stays alive for the addition after the
/// recursive call, and `black_box` keeps the optimiser from turning it into
/// a loop.
#[inline(never)]
fn descend(depth: u64) -> u64 {
    if black_box(depth) == 0 {
        return 0;
    }
    black_box(descend(depth - 1)) + 1
}

static LIVE_COUNTERS: AtomicU32 = AtomicU32::new(0);

struct CounterImpl {
    value: Cell<u32>,
}

impl GuestCounter for CounterImpl {
    fn new() -> Self {
        LIVE_COUNTERS.fetch_add(1, Ordering::Relaxed);
        CounterImpl {
            value: Cell::new(0),
        }
    }

    fn increment(&self) -> u32 {
        self.value.set(self.value.get().wrapping_add(1));
        self.value.get()
    }
}

impl Drop for CounterImpl {
    fn drop(&mut self) {
        LIVE_COUNTERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl counters::Guest for Faults {
    type Counter = CounterImpl;

    fn make_counter() -> Counter {
        Counter::new(CounterImpl::new())
    }

    fn read_counter(c: CounterBorrow<'_>) -> u32 {
        c.get::<CounterImpl>().value.get()
    }

    fn live_counters() -> u32 {
        LIVE_COUNTERS.load(Ordering::Relaxed)
    }
}

export!(Faults);
