//! Containment: every host resource a guest can make the host hold or block
//! on is bounded per call, and a hostile component never takes the server,
//! the other components or the host with it.
//!
//! Each test drives an attack component from `guest-tools/test-components/`
//! (`hostile`, or a WebAssembly text component under `wat/`) through the
//! real binary, then checks that the attack ended with an answer naming the
//! budget, that another component still answers, and that the server's
//! memory and descriptors are back where they were.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{ProcessUse, Server, all_text, error, ok, text};

/// How far the server's resident memory may stay above where it was once
/// an attack is over (the allocator keeps some freed memory for reuse).
const SETTLED_KIB: u64 = 8 * 1024;

/// Components for the attacks: `hostile` with `grants` (TOML lines), and
/// `calc`, the well-behaved neighbour.
fn config(grants: &str, extra: &str) -> String {
    format!(
        "[components.hostile]\npath = \"{hostile}\"\n{grants}\n\n[components.calc]\npath = \"{calc}\"\n{extra}\n",
        hostile = corral_test_artifacts::hostile().display(),
        calc = corral_test_artifacts::calc().display(),
    )
}

/// Compiles `guest-tools/test-components/wat/NAME.wat` into `dir`.
fn wat_component(name: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../guest-tools/test-components/wat")
        .join(format!("{name}.wat"));
    let bytes = wat::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The neighbour answers, at once.
async fn calc_still_answers(server: &Server) {
    let started = Instant::now();
    assert_eq!(
        ok(&server.call("add", json!({"a": 20, "b": 22})).await),
        json!({"result": 42})
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the neighbour took {:?}",
        started.elapsed()
    );
}

/// Warms the server up (both components called once), then returns its use.
async fn settled(server: &Server) -> ProcessUse {
    calc_still_answers(server).await;
    server.usage()
}

/// Asserts the server is back to `before` (memory within [`SETTLED_KIB`],
/// descriptors within a few) and prints what the attack cost at its peak.
fn assert_recovered(server: &Server, before: ProcessUse, attack: &str) {
    // What a call's host tasks (an HTTP body's, say) hold is freed when they
    // end, which may be just after the answer: wait for the RSS to come
    // back, for 10 s at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut after = server.usage();
    while after.rss_kib > before.rss_kib + SETTLED_KIB && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        after = server.usage();
    }
    eprintln!(
        "{attack}: RSS {} KiB before, peak {} KiB, {} KiB after; descriptors {} before, {} after",
        before.rss_kib, after.peak_rss_kib, after.rss_kib, before.descriptors, after.descriptors
    );
    assert!(
        after.rss_kib <= before.rss_kib + SETTLED_KIB,
        "{attack}: RSS went from {} KiB to {} KiB",
        before.rss_kib,
        after.rss_kib
    );
    assert!(
        after.descriptors <= before.descriptors + 4,
        "{attack}: descriptors went from {} to {}",
        before.descriptors,
        after.descriptors
    );
}

fn reached(result: &Value) -> (u64, String) {
    let count = result["count"].as_u64().unwrap_or(0);
    let stopped = result["stopped_by"].as_str().unwrap_or_default().to_owned();
    (count, stopped)
}

#[tokio::test]
async fn wasi_http_is_not_linked_without_a_network_grant() {
    let server = Server::start(&config("", "")).await;
    let before = settled(&server).await;
    let message = error(
        &server
            .call(
                "hold_fields",
                json!({"count": 2000, "bytes": 100_000, "hold_ms": 0}),
            )
            .await,
    );
    assert!(
        message.starts_with("capability not granted") && message.contains("wasi:http"),
        "{message}"
    );
    assert!(message.contains("components.hostile.network"), "{message}");
    calc_still_answers(&server).await;
    assert_recovered(&server, before, "wasi:http without a grant");
    assert!(
        server.usage().peak_rss_kib < before.rss_kib + 16 * 1024,
        "no wasi:http object was made"
    );
}

#[tokio::test]
async fn host_memory_held_through_wasi_http_is_bounded_per_call() {
    let server = Server::start(&config(
        "network = { allow = [\"127.0.0.1:9\"] }\nlimits = { host_memory = \"32MiB\", timeout = \"60s\" }",
        "",
    ))
    .await;
    let before = settled(&server).await;
    for (tool, args) in [
        (
            "hold_fields",
            json!({"count": 5000, "bytes": 100_000, "hold_ms": 0}),
        ),
        (
            "hold_request_bodies",
            json!({"count": 400, "bytes": 2 * 1024 * 1024, "hold_ms": 0}),
        ),
    ] {
        let message = error(&server.call(tool, args).await);
        assert!(
            message.starts_with("host memory limit reached") && message.contains("32.0 MiB"),
            "{tool}: {message}"
        );
        assert!(
            message.contains("components.hostile.limits.host_memory"),
            "{tool}: {message}"
        );
        calc_still_answers(&server).await;
    }
    assert!(
        server.usage().peak_rss_kib < before.rss_kib + 96 * 1024,
        "the peak was {} KiB over a 32 MiB budget",
        server.usage().peak_rss_kib - before.rss_kib
    );
    assert_recovered(&server, before, "host memory through wasi:http");
}

#[tokio::test]
async fn handles_are_bounded_per_call() {
    let server = Server::start(&config("limits = { handles = 1000 }", "")).await;
    let before = settled(&server).await;
    let message = error(
        &server
            .call("hold_pollables", json!({"count": 50_000, "hold_ms": 0}))
            .await,
    );
    assert!(message.starts_with("too many handles"), "{message}");
    assert!(
        message.contains("components.hostile.limits.handles"),
        "{message}"
    );
    calc_still_answers(&server).await;
    assert_recovered(&server, before, "handles");
}

#[tokio::test]
async fn open_files_and_sockets_are_bounded_per_call() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("notes.txt"), "notes\n").unwrap();
    let grants = format!(
        "dirs = [ {{ host = \"{}\", guest = \"/data\" }} ]\nnetwork = {{ allow = [\"127.0.0.1:9\"] }}\nlimits = {{ descriptors = 32 }}",
        root.path().display()
    );
    let server = Server::start(&config(&grants, "")).await;
    let before = settled(&server).await;
    for (tool, args) in [
        (
            "hold_files",
            json!({"path": "/data/notes.txt", "count": 25_000, "hold_ms": 0}),
        ),
        ("hold_tcp_sockets", json!({"count": 25_000, "hold_ms": 0})),
        ("hold_udp_sockets", json!({"count": 25_000, "hold_ms": 0})),
    ] {
        let message = error(&server.call(tool, args).await);
        assert!(
            message.starts_with("too many open files and sockets"),
            "{tool}: {message}"
        );
        assert!(
            message.contains("components.hostile.limits.descriptors"),
            "{tool}: {message}"
        );
        let during = server.usage();
        assert!(
            during.descriptors < before.descriptors + 8,
            "{tool}: {} descriptors are still open",
            during.descriptors
        );
        calc_still_answers(&server).await;
    }
    // Within the budget, files open.
    let held = ok(&server
        .call(
            "hold_files",
            json!({"path": "/data/notes.txt", "count": 20, "hold_ms": 0}),
        )
        .await);
    assert_eq!(reached(&held).0, 20, "{held}");
    assert_recovered(&server, before, "descriptors");
}

#[tokio::test]
async fn name_lookups_answer_granted_names_only_and_never_ask_a_resolver() {
    let server = Server::start(&config("network = { allow = [\"localhost:9\"] }", "")).await;
    let before = settled(&server).await;
    let granted = ok(&server
        .call("lookup_names", json!({"name": "localhost", "count": 200}))
        .await);
    assert_eq!(granted["answered"], 200, "{granted}");
    assert!(
        granted["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "127.0.0.1"),
        "{granted}"
    );
    for name in [
        "c2vjcmv0.attacker.example",
        "runsc",
        "vm",
        "LOCALHOST.example",
    ] {
        let result = server
            .call("lookup_names", json!({"name": name, "count": 200}))
            .await;
        let looked = ok(&result);
        assert_eq!(looked["answered"], 0, "{name}: {looked}");
        assert!(
            all_text(&result).contains(&format!("name lookup of {name:?} denied")),
            "{name}: {}",
            all_text(&result)
        );
    }
    calc_still_answers(&server).await;
    assert_recovered(&server, before, "name lookups");
}

/// A TCP listener on `ip:port` counting its connections and answering each
/// with a small HTTP response.
async fn counting_listener(socket: TcpListener) -> Arc<AtomicUsize> {
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                // Read the whole request first: answering before it is read
                // makes the client see a reset connection.
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    connections
}

/// DNS rebinding: the granted name resolves to 127.0.0.1 when corral
/// starts and to 127.0.0.2 afterwards. The request must go where the name
/// resolved at start. The server runs in a mount namespace of its own with
/// a private `/etc/hosts`, which the test rewrites.
#[tokio::test]
async fn http_to_a_granted_name_goes_where_it_resolved_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 rebind.test\n").unwrap();
    let (first, second, port) = loop {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        if let Ok(second) = TcpListener::bind(("127.0.0.2", port)).await {
            break (first, second, port);
        }
    };
    let at_start = counting_listener(first).await;
    let rebound = counting_listener(second).await;
    let config = format!(
        "[components.escapes]\npath = \"{}\"\nnetwork = {{ allow = [\"rebind.test:{port}\"] }}\n",
        corral_test_artifacts::escapes().display()
    );
    let config_path = dir.path().join("corral.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut command = tokio::process::Command::new("unshare");
    command
        .arg("--mount")
        .arg("sh")
        .arg("-c")
        .arg(r#"mount --bind "$0" /etc/hosts && exec "$1" serve --config "$2""#)
        .arg(&hosts)
        .arg(crate::support::CORRAL)
        .arg(&config_path)
        .env("CORRAL_CACHE_DIR", crate::support::cache_dir());
    let server = Server::start_command(command, ClientLifecycleMode::Initialize).await;
    std::fs::write(&hosts, "127.0.0.2 rebind.test\n").unwrap();
    let result = server
        .call(
            "http_get",
            json!({"url": format!("http://rebind.test:{port}/")}),
        )
        .await;
    assert_eq!(
        result.is_error,
        Some(false),
        "{}\n{}",
        all_text(&result),
        server.stderr()
    );
    assert_eq!(
        at_start.load(Ordering::SeqCst),
        1,
        "the start address was not used"
    );
    assert_eq!(
        rebound.load(Ordering::SeqCst),
        0,
        "the request followed the name to its new address"
    );
}

#[tokio::test]
async fn special_files_are_refused_without_blocking() {
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let grants = format!(
        "dirs = [ {{ host = \"{}\", guest = \"/data\" }} ]\nlimits = {{ timeout = \"60s\" }}",
        root.path().display()
    );
    let server = Server::start(&config(&grants, "")).await;
    let before = settled(&server).await;
    let calls = (0..50).map(|_| server.call("read_special", json!({"path": "/data/fifo"})));
    let started = Instant::now();
    for result in futures::future::join_all(calls).await {
        let message = all_text(&result);
        assert_eq!(result.is_error, Some(true), "{message}");
        assert!(
            message.contains("FIFO") && !message.starts_with("deadline"),
            "{message}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refusing a FIFO took {:?}",
        started.elapsed()
    );
    calc_still_answers(&server).await;
    assert_recovered(&server, before, "special files");
}

#[tokio::test]
async fn refusals_are_logged_once_with_a_count() {
    let server = Server::start(&config("network = { allow = [\"127.0.0.1:9\"] }", "")).await;
    let result = ok(&server
        .call(
            "refused_connects",
            json!({"address": "127.0.0.1:1", "count": 20_000}),
        )
        .await);
    assert_eq!(result["refused"], 20_000, "{result}");
    calc_still_answers(&server).await;
    let log = server.stderr();
    let lines = log
        .lines()
        .filter(|l| l.contains("capability denied"))
        .count();
    assert!(
        (1..=17).contains(&lines),
        "{lines} log lines for one call's refusals"
    );
    assert!(log.contains("count=20000"), "{log}");
}

#[tokio::test]
async fn guest_output_cannot_forge_log_lines() {
    let server = Server::start(&config("", "")).await;
    let forged = "2026-11-30T00:00:00.000000Z  INFO corral::calls: call finished tool=\"add\" outcome=\"ok\"";
    let text = format!("innocent\n{forged}\r\n\u{1b}[2Kcleared\n");
    ok(&server.call("write_stderr", json!({"text": text})).await);
    calc_still_answers(&server).await;
    let log = server.stderr();
    assert!(
        !log.lines().any(|l| l.starts_with("2026-11-30T00:00:00")),
        "a guest wrote a log line of its own:\n{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "an escape sequence reached the log"
    );
    assert!(log.contains("innocent"), "{log}");
}

#[tokio::test]
async fn results_are_bounded_while_they_are_built() {
    let dir = tempfile::tempdir().unwrap();
    let amplify = wat_component("amplify", dir.path());
    let config = format!(
        "[components.amplify]\npath = \"{}\"\n\n[components.calc]\npath = \"{}\"\n",
        amplify.display(),
        corral_test_artifacts::calc().display()
    );
    let server = Server::start(&config).await;
    let before = settled(&server).await;
    for (tool, args) in [
        ("cells", json!({"count": 520_000})),
        ("cell_lists", json!({"count": 1000, "bytes": 1000})),
        ("strings", json!({"count": 120, "bytes": 1024 * 1024})),
        ("byte_lists", json!({"count": 64, "bytes": 1024 * 1024})),
        ("bytes", json!({"count": 2_000_000})),
    ] {
        let message = error(&server.call(tool, args).await);
        assert!(
            message.starts_with("host memory limit reached")
                || message.starts_with("the result is too large"),
            "{tool}: {message}"
        );
        calc_still_answers(&server).await;
    }
    let peak = server.usage().peak_rss_kib - before.rss_kib;
    assert!(
        peak < 160 * 1024,
        "building refused results took {peak} KiB at the peak"
    );
    // A large result within the bounds still goes through.
    let fine = ok(&server.call("bytes", json!({"count": 100_000})).await);
    assert_eq!(fine["result"].as_array().unwrap().len(), 100_000);
    assert_recovered(&server, before, "amplified results");
}

/// The slowest wasm per unit of fuel, a chain of loads that each miss the
/// cache and the TLB, still meets its deadline: a running guest checks it
/// every so much fuel, and fuel alone would let this run for minutes.
#[tokio::test]
async fn a_guest_chasing_cache_missing_loads_meets_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let chase = wat_component("chase", dir.path());
    let config = format!(
        "[components.chase]\npath = \"{}\"\nlimits = {{ memory = \"256MiB\", fuel = 18_000_000_000_000_000_000, timeout = \"1s\" }}\n\n\
         [components.calc]\npath = \"{}\"\n",
        chase.display(),
        corral_test_artifacts::calc().display()
    );
    let server = Server::start(&config).await;
    let message = error(&server.call("chase", json!({"steps": 0})).await);
    assert!(message.starts_with("deadline exceeded"), "{message}");
    calc_still_answers(&server).await;
    // A short chase within the budgets answers.
    let reached = ok(&server.call("chase", json!({"steps": 1000})).await);
    assert!(reached["result"].is_u64(), "{reached}");
}

#[test]
fn a_component_that_needs_more_than_its_share_of_the_pool_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (name, what, key) in [
        ("pool-starve", "memories", "server.pool.memories"),
        (
            "pool-instances",
            "core instances",
            "server.pool.core_instances",
        ),
        ("multi-memory", "memories", "server.pool.memories"),
    ] {
        let path = wat_component(name, dir.path());
        let config = format!("[components.greedy]\npath = \"{}\"\n", path.display());
        let (ok, _, stderr) = crate::support::run_corral(&["check"], &config);
        assert!(!ok, "{name} was accepted");
        assert!(
            stderr.contains("cannot run within one call's share of the instance pool")
                && stderr.contains(what)
                && stderr.contains(key),
            "{name}: {stderr}"
        );
    }
}

/// A granted directory vanishes from under the server: calls fail, but no
/// answer says where the directory was on the host.
#[tokio::test]
async fn error_answers_never_name_host_paths() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(work.join("inner")).unwrap();
    let config = format!(
        "[components.escapes]\npath = \"{}\"\ndirs = [\n  {{ host = \"{w}\", guest = \"/work\", mode = \"rw\" }},\n  {{ host = \"{w}/inner\", guest = \"/work/inner\" }},\n]\n",
        corral_test_artifacts::escapes().display(),
        w = work.display(),
    );
    let server = Server::start(&config).await;
    std::fs::remove_dir_all(&work).unwrap();
    let host = root.path().display().to_string();
    for (tool, args) in [
        ("read_env", json!({"name": "X"})),
        ("list_dir", json!({"path": "/work/inner"})),
        ("read_file", json!({"path": "/work/inner/x"})),
        ("write_file", json!({"path": "/work/x", "contents": "x"})),
        ("create_dir", json!({"path": "/work/new"})),
        ("list_dir", json!({"path": "/work"})),
    ] {
        let answer = all_text(&server.call(tool, args).await);
        assert!(
            !answer.contains(&host),
            "{tool} answered with a host path: {answer}"
        );
    }
    assert_eq!(
        ok(&server.call("read_env", json!({"name": "X"})).await),
        json!({"result": null}),
        "a call that touches no file still works"
    );
}

#[test]
fn a_cache_directory_other_users_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared-cache");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = format!(
        "[server]\ncache_dir = \"{}\"\n\n[components.calc]\npath = \"{}\"\n",
        shared.display(),
        corral_test_artifacts::calc().display()
    );
    let path = root.path().join("corral.toml");
    std::fs::write(&path, config).unwrap();
    let output = std::process::Command::new(crate::support::CORRAL)
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("can be written by other users") && stderr.contains("chmod 700"),
        "{stderr}"
    );
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o777, "the server changed the directory's mode");
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "the server wrote native code into a directory others can write"
    );
}

/// One component attacks in a loop while another serves a steady load:
/// every well-behaved call succeeds, and promptly.
#[tokio::test]
async fn a_hostile_neighbour_does_not_disturb_steady_calls() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("notes.txt"), "notes\n").unwrap();
    let fifo = root.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let amplify = wat_component("amplify", dir.path());
    let grants = format!(
        "dirs = [ {{ host = \"{}\", guest = \"/data\" }} ]\nnetwork = {{ allow = [\"127.0.0.1:9\", \"localhost:9\"] }}",
        root.path().display()
    );
    let config = format!(
        "{}\n[components.amplify]\npath = \"{}\"\n",
        config(&grants, ""),
        amplify.display()
    );
    let server = Server::start(&config).await;
    let before = settled(&server).await;
    let attacks = [
        (
            "hold_fields",
            json!({"count": 5000, "bytes": 100_000, "hold_ms": 0}),
        ),
        (
            "hold_files",
            json!({"path": "/data/notes.txt", "count": 25_000, "hold_ms": 0}),
        ),
        ("hold_tcp_sockets", json!({"count": 25_000, "hold_ms": 0})),
        ("hold_pollables", json!({"count": 50_000, "hold_ms": 0})),
        (
            "lookup_names",
            json!({"name": "leak.attacker.example", "count": 1000}),
        ),
        ("read_special", json!({"path": "/data/fifo"})),
        (
            "refused_connects",
            json!({"address": "127.0.0.1:1", "count": 5000}),
        ),
        ("cells", json!({"count": 520_000})),
        ("strings", json!({"count": 120, "bytes": 1024 * 1024})),
    ];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacker = {
        let done = done.clone();
        let server = &server;
        async move {
            let mut rounds = 0;
            while !done.load(Ordering::SeqCst) {
                for (tool, args) in &attacks {
                    server.call(tool, args.clone()).await;
                }
                rounds += 1;
            }
            rounds
        }
    };
    let steady = async {
        let mut latencies = Vec::new();
        for i in 0..300 {
            let started = Instant::now();
            let result = server.call("add", json!({"a": i, "b": 1})).await;
            latencies.push(started.elapsed());
            assert_eq!(ok(&result), json!({"result": i + 1}), "{}", text(&result));
        }
        done.store(true, Ordering::SeqCst);
        latencies
    };
    let (rounds, mut latencies) = tokio::join!(attacker, steady);
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    eprintln!(
        "hostile neighbour: {} attack rounds; add latency p50 {:?}, p99 {:?}, max {:?}",
        rounds,
        at(0.5),
        at(0.99),
        at(1.0)
    );
    assert!(rounds >= 1, "the attacker never finished a round");
    assert_recovered(&server, before, "hostile neighbour");
}
