//! The measurements: sequential latency, throughput under concurrent
//! callers, CPU used by the client and by the server, memory, and the RSS
//! of a burst of concurrent calls.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::{Peer, RoleClient};

use crate::workload::Call;

/// No single call may take longer than this; a call that does counts as an
/// error ("timed out").
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// CPU time used so far by this process (all threads), and by the server.
#[derive(Clone, Copy)]
pub struct CpuClock {
    at: Instant,
    client: Duration,
    server: Duration,
}

impl CpuClock {
    pub fn now(server_pid: u32) -> CpuClock {
        CpuClock {
            at: Instant::now(),
            client: own_cpu(),
            server: server_cpu(server_pid),
        }
    }

    /// Shares of the whole machine (all cores) used since `self`, by the
    /// client and by the server, and the wall time.
    pub fn since(&self, server_pid: u32) -> (f64, f64, Duration) {
        let now = CpuClock::now(server_pid);
        let wall = now.at - self.at;
        let capacity = wall.as_secs_f64() * cores() as f64;
        (
            (now.client - self.client).as_secs_f64() / capacity,
            (now.server - self.server).as_secs_f64() / capacity,
            wall,
        )
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn own_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// User + system time of `pid` from /proc/PID/stat (zero once it is gone).
/// CPU time the threads of process `pid` have run so far, to the
/// nanosecond (the scheduler's count in /proc/PID/task/*/schedstat; threads
/// that have ended are not in it). For short batches, where /proc/PID/stat's
/// clock ticks are too coarse.
pub fn server_cpu_fine(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// CPU time (user + system) the process `pid` has used so far.
pub fn server_cpu(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos((ticks(11) + ticks(12)) * 1_000_000_000 / per_second)
}

/// A line of /proc/PID/status (`VmRSS`, `VmHWM`) in MiB.
pub fn memory_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Calls that failed, and how (a few distinct messages).
#[derive(Default)]
pub struct Errors {
    count: AtomicU64,
    messages: Mutex<Vec<String>>,
}

impl Errors {
    fn record(&self, message: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut messages = self.messages.lock().unwrap();
        if messages.len() < 5 && !messages.contains(&message) {
            messages.push(message);
        }
    }

    pub fn summary(&self) -> ErrorSummary {
        ErrorSummary {
            count: self.count.load(Ordering::Relaxed),
            messages: self.messages.lock().unwrap().clone(),
        }
    }
}

/// How many calls failed, and a few distinct messages.
#[derive(Default, Clone)]
pub struct ErrorSummary {
    pub count: u64,
    pub messages: Vec<String>,
}

/// Makes one call: its result, or what went wrong (no answer in time, a
/// protocol error, or an isError answer with its text).
async fn answer(
    peer: &Peer<RoleClient>,
    params: CallToolRequestParams,
) -> Result<CallToolResult, String> {
    match tokio::time::timeout(CALL_TIMEOUT, peer.call_tool(params)).await {
        Err(_) => Err(format!("no answer within {} s", CALL_TIMEOUT.as_secs())),
        Ok(Err(error)) => Err(format!("protocol error: {error}")),
        Ok(Ok(result)) if result.is_error == Some(true) => Err(format!(
            "isError answer: {}",
            result
                .content
                .first()
                .and_then(|c| c.as_text())
                .map_or("", |t| t.text.as_str())
        )),
        Ok(Ok(result)) => Ok(result),
    }
}

/// Makes the `n`th call and checks its answer.
async fn call_once(
    peer: &Peer<RoleClient>,
    call: Call,
    n: u64,
    python: &str,
) -> Result<(), String> {
    let result = answer(peer, call.params(n, python)).await?;
    if call.check(n, result.structured_content.as_ref()) {
        Ok(())
    } else {
        Err(format!("wrong answer: {:?}", result.structured_content))
    }
}

/// What a sequential run measured.
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
    pub client_share: f64,
    pub server_share: f64,
    pub errors: ErrorSummary,
}

/// How many calls each server gets in a row before the other one's turn.
const BLOCK: u64 = 50;

/// Sequential latency of two servers measured in turns: `warmup` calls to
/// each, then blocks of [`BLOCK`] timed calls alternating between them
/// (first `servers[0]`), `calls` timed calls each. Drift in the machine
/// (clock speed, where the scheduler puts the threads, other work) then
/// falls on both alike, instead of on whichever went second. Each server's
/// CPU shares count only its own blocks.
pub async fn latency_pair(
    servers: [(&Peer<RoleClient>, u32); 2],
    call: Call,
    warmup: u64,
    calls: u64,
    python: &str,
) -> [Latency; 2] {
    let errors = [Errors::default(), Errors::default()];
    for ((peer, _), errors) in servers.iter().zip(&errors) {
        for n in 0..warmup {
            if let Err(e) = call_once(peer, call, n, python).await {
                errors.record(e);
            }
        }
    }
    let mut times: [Vec<Duration>; 2] = Default::default();
    let mut cpu = [(0.0, 0.0, Duration::ZERO); 2];
    let mut n = 0;
    while n < calls {
        let block = BLOCK.min(calls - n);
        for (i, (peer, pid)) in servers.iter().enumerate() {
            let clock = CpuClock::now(*pid);
            for k in n..n + block {
                let started = Instant::now();
                if let Err(e) = call_once(peer, call, k, python).await {
                    errors[i].record(e);
                }
                times[i].push(started.elapsed());
            }
            let (client, server, wall) = clock.since(*pid);
            let seconds = wall.as_secs_f64();
            cpu[i].0 += client * seconds;
            cpu[i].1 += server * seconds;
            cpu[i].2 += wall;
        }
        n += block;
    }
    [0, 1].map(|i| {
        times[i].sort();
        let wall = cpu[i].2.as_secs_f64().max(f64::MIN_POSITIVE);
        Latency {
            p50: percentile(&times[i], 0.50),
            p99: percentile(&times[i], 0.99),
            client_share: cpu[i].0 / wall,
            server_share: cpu[i].1 / wall,
            errors: errors[i].summary(),
        }
    })
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// What a throughput run measured.
pub struct Throughput {
    pub calls_per_second: f64,
    pub client_share: f64,
    pub server_share: f64,
    /// Server CPU time per completed call.
    pub server_cpu_per_call: Duration,
    pub errors: ErrorSummary,
    /// Calls still unanswered when the run ended (after a grace period).
    pub stuck: usize,
}

/// Each peer calls in a loop, one call at a time; after `warmup`, the calls
/// completed during `window` are counted.
pub async fn throughput(
    peers: Vec<Peer<RoleClient>>,
    server_pid: u32,
    call: Call,
    warmup: Duration,
    window: Duration,
    python: Arc<str>,
) -> Throughput {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(Errors::default());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, peer) in peers.into_iter().enumerate() {
        let (done, stop, errors, python) =
            (done.clone(), stop.clone(), errors.clone(), python.clone());
        tasks.spawn(async move {
            let mut n = i as u64 * 1_000_003;
            while !stop.load(Ordering::Relaxed) {
                match call_once(&peer, call, n, &python).await {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        errors.record(e);
                        0
                    }
                };
                n += 1;
            }
        });
    }
    tokio::time::sleep(warmup).await;
    let clock = CpuClock::now(server_pid);
    let before = done.load(Ordering::Relaxed);
    let server_before = server_cpu(server_pid);
    tokio::time::sleep(window).await;
    let completed = done.load(Ordering::Relaxed) - before;
    let server_cpu = server_cpu(server_pid) - server_before;
    let (client_share, server_share, wall) = clock.since(server_pid);
    stop.store(true, Ordering::Relaxed);

    let grace = tokio::time::sleep(CALL_TIMEOUT + Duration::from_secs(5));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            () = &mut grace => break,
        }
    }
    let stuck = tasks.len();
    tasks.abort_all();
    Throughput {
        calls_per_second: completed as f64 / wall.as_secs_f64(),
        client_share,
        server_share,
        server_cpu_per_call: server_cpu / u32::try_from(completed.max(1)).unwrap_or(u32::MAX),
        errors: errors.summary(),
        stuck,
    }
}

/// How often [`burst`] reads the server's RSS.
pub const RSS_EVERY: Duration = Duration::from_millis(2);

/// What Corral answers, in an isError result, to a call that found no free
/// slot within its queue timeout (runtime/src/sandbox/error.rs).
const BUSY: &str = "server busy";

/// How a burst of concurrent calls went, and the server's RSS meanwhile.
pub struct Burst {
    /// VmRSS just before the first call, in MiB.
    pub idle: f64,
    /// The largest VmRSS read while calls were in flight, in MiB.
    pub peak: f64,
    /// Calls answered without error.
    pub answered: u64,
    /// Calls refused as "server busy".
    pub busy: u64,
    /// Calls that failed any other way.
    pub errors: ErrorSummary,
}

impl Burst {
    /// How far RSS rose above idle during the burst, in MiB.
    pub fn growth(&self) -> f64 {
        self.peak - self.idle
    }

    /// Calls that got no answer: refused as busy, or failed.
    pub fn unanswered(&self) -> u64 {
        self.busy + self.errors.count
    }
}

/// Sends `calls` calls of `params` at once through `peer` and reads the
/// server's VmRSS every [`RSS_EVERY`] until the last answer is in.
pub async fn burst(
    peer: &Peer<RoleClient>,
    server_pid: u32,
    params: &CallToolRequestParams,
    calls: u32,
) -> Burst {
    let rss = || memory_mib(server_pid, "VmRSS");
    let idle = rss().unwrap_or(f64::NAN);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..calls {
        let (peer, params) = (peer.clone(), params.clone());
        tasks.spawn(async move { answer(&peer, params).await });
    }
    let mut burst = Burst {
        idle,
        peak: idle,
        answered: 0,
        busy: 0,
        errors: ErrorSummary::default(),
    };
    let errors = Errors::default();
    loop {
        while let Some(joined) = tasks.try_join_next() {
            match joined {
                Ok(Ok(_)) => burst.answered += 1,
                Ok(Err(e)) if e.contains(BUSY) => burst.busy += 1,
                Ok(Err(e)) => errors.record(e),
                Err(e) => errors.record(format!("the calling task failed: {e}")),
            }
        }
        if tasks.is_empty() {
            break;
        }
        if let Some(now) = rss() {
            burst.peak = burst.peak.max(now);
        }
        tokio::time::sleep(RSS_EVERY).await;
    }
    burst.errors = errors.summary();
    burst
}
