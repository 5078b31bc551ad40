//! Load with faults: thousands of calls from many concurrent clients on
//! both transports at once, with every fault mixed in, against two real
//! `corral serve` processes (one on stdio, one on HTTP).
//!
//! Each client sends its calls one at a time, in an order dealt from a
//! seeded deck (`plan`): checked sums and fresh instances, tool errors,
//! invalid arguments, unknown tools, panics, fuel, memory and stack traps,
//! deadlines (in wasm and in a host call), cancellations of calls in
//! flight, and, over HTTP, clients that hang up or drop their answer stream
//! mid-call. The test then proves:
//!
//! - every call that should get an answer got exactly one, the right one
//!   for its request (its arguments carry its id); calls cancelled or
//!   abandoned got none; nothing else came;
//! - the server counted every call under the outcome its kind must have,
//!   so each cancellation and hang-up stopped its guest (those guests only
//!   stop when cancelled), and nothing was refused as busy;
//! - once everything has settled the resident memory of each server is
//!   within [`RSS_TOLERANCE_KIB`] of what it was after a warm-up of the same
//!   mix, and each still serves a new client.
//!
//! The short form runs with the other tests; the long one is run by hand:
//!
//! ```text
//! CORRAL_LOAD_CALLS=100000 cargo test -p corral --test all \
//!     load::load_with_faults_long -- --ignored --nocapture
//! ```

mod http;
mod plan;
mod stdio;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::TcpListener;

use crate::front_door::{Corral, GUARD, Session};
use crate::support::process_use;
use http::HttpClient;
use plan::{Call, Kind, Outcomes, Tally, Transport, deal, expected_outcomes};
use stdio::StdioServer;

/// How much more resident memory a server may hold after the load than
/// after the warm-up, in KiB. Measured (debug build): +0.3 to +2.1 MiB
/// after the short form, +0.9 to +2.9 MiB after 100 000 calls and
/// +1.5/+2.8 MiB (stdio/HTTP) after 300 000: the allocator's arenas and
/// free lists settling, not growing with the number of calls. Before
/// sessions stopped keeping cancelled calls, 100 000 calls left the HTTP
/// server 9 MiB larger; a leak of 4 KiB a call makes the short form
/// about 10 MiB larger.
const RSS_TOLERANCE_KIB: u64 = 6 * 1024;

/// The calls of the warm-up, per client: one pass through the deck.
const WARM_UP_CALLS: usize = 32;

/// The size of a run.
#[derive(Debug, Clone, Copy)]
struct Load {
    /// Clients per transport, all at once.
    clients: usize,
    /// Calls per transport, after the warm-up.
    calls: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_with_faults_on_both_transports() {
    run(Load {
        clients: 16,
        calls: 2400,
    })
    .await;
}

/// The long form: `CORRAL_LOAD_CALLS` calls (100 000 by default) over
/// `CORRAL_LOAD_CLIENTS` clients per transport (16). Run it with
/// `cargo test -p corral --test all load::load_with_faults_long -- --ignored
/// --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the long form: 100 000 calls, run by hand"]
async fn load_with_faults_long() {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .map(|v| v.parse().expect("a whole number"))
            .unwrap_or(default)
    };
    run(Load {
        clients: number("CORRAL_LOAD_CLIENTS", 16),
        calls: number("CORRAL_LOAD_CALLS", 100_000) / 2,
    })
    .await;
}

/// What a run measured, for the report.
struct Figures {
    load: Load,
    /// Calls of the warm-up, stdio then HTTP.
    warm_up: [u64; 2],
    /// Calls of the load by kind, stdio then HTTP.
    tally: [Tally; 2],
    /// Answers to the load's calls (each checked), stdio then HTTP.
    answers: [u64; 2],
    /// `(after the warm-up, after the load, peak)` in KiB, stdio then HTTP.
    rss: [(u64, u64, u64); 2],
    /// How long the load took (both transports at once).
    duration: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [stdio, http] = &self.tally;
        let total = |t: &Tally| t.values().sum::<u64>();
        writeln!(
            f,
            "Load with faults: {} calls in {:.1} s, after a warm-up of {} (debug build)\n",
            total(stdio) + total(http),
            self.duration.as_secs_f64(),
            self.warm_up[0] + self.warm_up[1],
        )?;
        writeln!(f, "| | stdio | HTTP |\n|---|---|---|")?;
        let clients = self.load.clients;
        writeln!(f, "| clients at once | {clients} | {clients} |")?;
        writeln!(f, "| calls | {} | {} |", total(stdio), total(http))?;
        for kind in Kind::ALL {
            let n = |t: &Tally| t.get(&kind).copied().unwrap_or(0);
            writeln!(f, "| {kind} | {} | {} |", n(stdio), n(http))?;
        }
        writeln!(
            f,
            "| answers (one per call that gets one, each right) | {} | {} |",
            self.answers[0], self.answers[1]
        )?;
        let [(b0, a0, p0), (b1, a1, p1)] = self.rss;
        writeln!(f, "| RSS after the warm-up | {} | {} |", mib(b0), mib(b1))?;
        writeln!(
            f,
            "| RSS after the load | {} ({:+.1} MiB) | {} ({:+.1} MiB) |",
            mib(a0),
            (a0 as f64 - b0 as f64) / 1024.0,
            mib(a1),
            (a1 as f64 - b1 as f64) / 1024.0
        )?;
        writeln!(f, "| peak RSS | {} | {} |", mib(p0), mib(p1))
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Runs the warm-up and the load on both transports, prints the figures,
/// and asserts everything the module promises.
async fn run(load: Load) {
    let mut listeners = Vec::new();
    for _ in 0..load.clients {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let config = plan::config(&ports);
    let stdio = Arc::new(StdioServer::start(&config).await);
    let http = Corral::http(&config);
    let mut stdio_book = CallBook::default();
    let mut http_book = CallBook::default();

    // The warm-up: one pass of the deck per client, so that call slots,
    // allocator arenas and tokio's threads are as the load will find them.
    let (stdio_warm_up, (listeners, http_warm_up)) = tokio::join!(
        stdio_phase(&stdio, 0, load.clients, |_| WARM_UP_CALLS, &mut stdio_book),
        http_phase(&http, listeners, 0, |_| WARM_UP_CALLS, &mut http_book),
    );
    settle_stdio(&stdio, &stdio_book).await;
    settle_http(&http, &http_book).await;
    let before = [stdio.server.pid(), http.pid()].map(process_use);
    let answered_in_warm_up = [stdio_book.answered, http_book.answered];

    let started = Instant::now();
    let per_client =
        |client: usize| load.calls / load.clients + usize::from(client < load.calls % load.clients);
    let (stdio_tally, (_, http_tally)) = tokio::join!(
        stdio_phase(&stdio, 1, load.clients, per_client, &mut stdio_book),
        http_phase(&http, listeners, 1, per_client, &mut http_book),
    );
    let duration = started.elapsed();
    settle_stdio(&stdio, &stdio_book).await;
    settle_http(&http, &http_book).await;
    let after = [stdio.server.pid(), http.pid()].map(process_use);

    let total = |t: &Tally| t.values().sum::<u64>();
    let figures = Figures {
        load,
        warm_up: [total(&stdio_warm_up), total(&http_warm_up)],
        tally: [stdio_tally, http_tally],
        answers: [
            stdio_book.answered - answered_in_warm_up[0],
            http_book.answered - answered_in_warm_up[1],
        ],
        rss: [0, 1].map(|i| (before[i].rss_kib, after[i].rss_kib, after[i].peak_rss_kib)),
        duration,
    };
    println!("{figures}");

    // Exactly one answer for each call that gets one, none for the others,
    // and none for requests nobody sent.
    stdio_book.check_answers("stdio", &stdio.answers(), &stdio.strays());
    http_book.check_answers("HTTP", &http_book.answers, &[]);
    for (name, (before, after, _)) in ["stdio", "HTTP"].iter().zip(figures.rss) {
        assert!(
            after <= before + RSS_TOLERANCE_KIB,
            "{name}: RSS grew from {before} KiB after the warm-up to {after} KiB after the load"
        );
    }
    still_serves(&stdio, &http).await;
}

/// Every call of one transport, and what came back.
#[derive(Default)]
struct CallBook {
    /// Every call sent, by id.
    calls: HashMap<u64, Kind>,
    /// Calls by kind.
    tally: Tally,
    /// Calls that got their answer (checked).
    answered: u64,
    /// Wrong answers and lost ones.
    failures: Vec<String>,
    /// HTTP only: answers per id over all answer streams.
    answers: HashMap<u64, u32>,
    /// HTTP only: messages that answered nothing asked.
    strays: Vec<Value>,
}

impl CallBook {
    /// Files what a client saw.
    fn add(&mut self, calls: Vec<(Call, Result<Option<Value>, String>)>) {
        for (call, result) in calls {
            self.calls.insert(call.id, call.kind);
            *self.tally.entry(call.kind).or_default() += 1;
            match (call.kind.answered(), result) {
                (_, Err(failure)) => self.failures.push(failure),
                (true, Ok(Some(answer))) => match call.check(&answer) {
                    Ok(()) => self.answered += 1,
                    Err(wrong) => self.failures.push(wrong),
                },
                (true, Ok(None)) => self.failures.push(format!("call {}: no answer", call.id)),
                (false, Ok(Some(answer))) => self.failures.push(format!(
                    "call {} ({}) must get no answer, got {answer}",
                    call.id, call.kind
                )),
                (false, Ok(None)) => {}
            }
        }
    }

    /// Asserts that no call failed, and that `answers` (per id) holds one
    /// answer for each call that gets one and nothing else.
    fn check_answers(&self, name: &str, answers: &HashMap<u64, u32>, strays: &[String]) {
        let mut wrong = self.failures.clone();
        for (id, kind) in &self.calls {
            let expected = u32::from(kind.answered());
            let got = answers.get(id).copied().unwrap_or(0);
            if got != expected {
                wrong.push(format!(
                    "call {id} ({kind}) got {got} answers, not {expected}"
                ));
            }
        }
        for id in answers.keys() {
            if *id != 0 && !self.calls.contains_key(id) {
                wrong.push(format!("an answer to request {id}, which nobody sent"));
            }
        }
        wrong.extend(strays.iter().cloned());
        wrong.extend(self.strays.iter().map(|m| format!("stray message {m}")));
        assert!(
            wrong.is_empty(),
            "{name}: {} calls went wrong; the first:\n{}",
            wrong.len(),
            wrong
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The id of call `seq` of client `client` in phase `phase`: unique in
/// the run, never 0 (the `initialize` request).
fn call_id(phase: u64, client: usize, seq: usize) -> u64 {
    1 + phase * 1_000_000_000 + client as u64 * 10_000_000 + seq as u64
}

/// One phase over stdio: `clients` clients at once, client `c` sending
/// `calls(c)` calls. Returns the calls by kind.
async fn stdio_phase(
    stdio: &Arc<StdioServer>,
    phase: u64,
    clients: usize,
    calls: impl Fn(usize) -> usize,
    book: &mut CallBook,
) -> Tally {
    let mut tasks = Vec::new();
    for client in 0..clients {
        let kinds = deal(Transport::Stdio, phase, client as u64, calls(client));
        let stdio = stdio.clone();
        tasks.push(tokio::spawn(async move {
            let mut results = Vec::with_capacity(kinds.len());
            for (seq, kind) in kinds.into_iter().enumerate() {
                let call = Call {
                    id: call_id(phase, client, seq),
                    kind,
                };
                results.push((call, stdio.run(&call).await));
            }
            results
        }));
    }
    let before = book.tally.clone();
    for task in tasks {
        book.add(task.await.unwrap());
    }
    difference(&book.tally, &before)
}

/// One phase over HTTP: a client (and session) per listener, client `c`
/// sending `calls(c)` calls; every session is ended after. Returns the
/// listeners, for the next phase, and the calls by kind.
async fn http_phase(
    server: &Corral,
    listeners: Vec<TcpListener>,
    phase: u64,
    calls: impl Fn(usize) -> usize,
    book: &mut CallBook,
) -> (Vec<TcpListener>, Tally) {
    let mut tasks = Vec::new();
    for (client, listener) in listeners.into_iter().enumerate() {
        let kinds = deal(Transport::Http, phase, client as u64, calls(client));
        let mcp = server.mcp();
        tasks.push(tokio::spawn(async move {
            let mut http = HttpClient::open(&mcp, listener).await;
            let mut results = Vec::with_capacity(kinds.len());
            for (seq, kind) in kinds.into_iter().enumerate() {
                let call = Call {
                    id: call_id(phase, client, seq),
                    kind,
                };
                let result = http.run(&call).await;
                results.push((call, result));
            }
            (http.close().await, results)
        }));
    }
    let before = book.tally.clone();
    let mut listeners = Vec::new();
    for task in tasks {
        let ((listener, answers, strays), results) = task.await.unwrap();
        listeners.push(listener);
        for (id, n) in answers {
            *book.answers.entry(id).or_default() += n;
        }
        book.strays.extend(strays);
        book.add(results);
    }
    (listeners, difference(&book.tally, &before))
}

fn difference(now: &Tally, before: &Tally) -> Tally {
    now.iter()
        .map(|(kind, n)| (*kind, n - before.get(kind).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Waits until the stdio server has logged an outcome for every call it
/// was sent, each the one its kind must have.
async fn settle_stdio(stdio: &StdioServer, book: &CallBook) {
    let expected = expected_outcomes(&book.tally);
    let mut seen = Outcomes::new();
    let waited = tokio::time::timeout(GUARD, async {
        loop {
            seen = logged_outcomes(&stdio.server.log());
            if seen == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "stdio: the server's outcomes never matched the calls:\nexpected {expected:?}\n\
         logged   {seen:?}"
    );
}

/// The outcomes of calls in a server's log: its lines with a `tool` and an
/// `outcome`.
fn logged_outcomes(log: &str) -> Outcomes {
    let field = |line: &str, name: &str| -> Option<String> {
        let rest = line.split(&format!(" {name}=")).nth(1)?;
        let value = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => rest.split(' ').next()?,
        };
        Some(value.to_owned())
    };
    let mut outcomes = Outcomes::new();
    for line in log.lines() {
        if let (Some(tool), Some(outcome)) = (field(line, "tool"), field(line, "outcome")) {
            *outcomes.entry((tool, outcome)).or_default() += 1;
        }
    }
    outcomes
}

/// Waits until the HTTP server has counted every call under the outcome
/// its kind must have, and holds no call, request or session.
async fn settle_http(server: &Corral, book: &CallBook) {
    let expected = expected_outcomes(&book.tally);
    let base = server.base();
    let mut last = String::new();
    let waited = tokio::time::timeout(GUARD, async {
        loop {
            last = reqwest::get(format!("{base}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let gauge = |name: &str| {
                last.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            };
            let idle = [
                "corral_tool_calls_running",
                "corral_tool_calls_waiting",
                "corral_requests_in_flight",
                "corral_http_sessions",
            ]
            .iter()
            .all(|name| gauge(name) == Some(0.0));
            if idle && counted_outcomes(&last) == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "HTTP: the server never settled with the calls' outcomes:\nexpected {expected:?}\n\
         metrics:\n{last}"
    );
    assert!(
        !last.lines().any(|l| l.starts_with("corral_refused_total{")),
        "HTTP: the server refused something:\n{last}"
    );
}

/// `corral_tool_calls_total` of a `/metrics` text, by tool and outcome.
fn counted_outcomes(metrics: &str) -> Outcomes {
    let label = |labels: &str, name: &str| -> Option<String> {
        Some(
            labels
                .split(&format!("{name}=\""))
                .nth(1)?
                .split('"')
                .next()?
                .to_owned(),
        )
    };
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("corral_tool_calls_total{")?;
            let (labels, value) = rest.split_once("} ")?;
            let n: f64 = value.parse().ok()?;
            Some((
                (label(labels, "tool")?, label(labels, "outcome")?),
                n as u64,
            ))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Both servers still answer a new call (a new session over HTTP).
async fn still_serves(stdio: &StdioServer, http: &Corral) {
    let call = Call {
        id: 9_000_000_000,
        kind: Kind::Add,
    };
    let answer = stdio.ask(call.id, &call.request("")).await.unwrap();
    call.check(&answer).unwrap();
    let session = Session::open(&http.mcp(), None).await;
    let body = session.post(&call.request("")).await.text().await.unwrap();
    let answer = crate::front_door::answer(&body, call.id);
    call.check(&answer).unwrap();
    assert_eq!(stdio.answers().get(&call.id), Some(&1));
}
