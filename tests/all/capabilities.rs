//! Capabilities: each granted action works, each escape is refused with a
//! message naming the missing grant, and nothing outside the grants is
//! touched (files byte-for-byte unchanged, ungranted ports never connected).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::support::{Server, all_text, error, ok};

const SECRET: &str = "top secret: must never be read\n";
const TOKEN: &str = "token-from-the-host-0123";

/// A TCP server on 127.0.0.1 that records the peer of each connection it
/// accepts and answers each with a small HTTP response whose body is "pong".
struct Listener {
    port: u16,
    peers: watch::Receiver<Vec<SocketAddr>>,
}

async fn listener() -> Listener {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let (record, peers) = watch::channel(Vec::new());
    tokio::spawn(async move {
        while let Ok((mut stream, peer)) = socket.accept().await {
            record.send_modify(|peers| peers.push(peer));
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\npong")
                    .await;
            });
        }
    });
    Listener { port, peers }
}

impl Listener {
    /// How many connections reached the listener before now. A probe
    /// connection from the test goes in behind any earlier one (the kernel
    /// queues them in order); once the probe is accepted, everything before
    /// it has been counted, so no wait is a guess.
    async fn connections_so_far(&self) -> usize {
        let probe = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let probe = probe.local_addr().unwrap();
        let mut peers = self.peers.clone();
        let peers = tokio::time::timeout(
            Duration::from_secs(30),
            peers.wait_for(|peers| peers.contains(&probe)),
        )
        .await
        .expect("the listener accepts the probe")
        .expect("the listener runs");
        peers.iter().position(|p| *p == probe).unwrap_or_default()
    }
}

/// The host side of a test: a sandbox tree with granted and ungranted
/// parts, and two listeners (one granted, one not).
struct World {
    root: tempfile::TempDir,
    granted: Listener,
    ungranted: Listener,
}

impl World {
    async fn new() -> World {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("data/sub")).unwrap();
        std::fs::create_dir_all(r.join("out")).unwrap();
        std::fs::write(r.join("data/hello.txt"), "hello from data\n").unwrap();
        std::fs::write(
            r.join("data/sub/notes.txt"),
            "first line\nthe needle is here\n",
        )
        .unwrap();
        std::fs::write(r.join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink(r.join("secret.txt"), r.join("data/link-to-secret")).unwrap();
        std::os::unix::fs::symlink(r, r.join("data/link-to-root")).unwrap();
        World {
            root,
            granted: listener().await,
            ungranted: listener().await,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.path().join(p)
    }

    fn grants(&self) -> String {
        format!(
            r#"dirs = [
  {{ host = "{data}", guest = "/data", mode = "ro" }},
  {{ host = "{out}", guest = "/out", mode = "rw" }},
]
env = {{ GREETING = "hello" }}
env_from_host = ["CORRAL_TEST_TOKEN"]
network = {{ allow = ["127.0.0.1:{port}"] }}
"#,
            data = self.path("data").display(),
            out = self.path("out").display(),
            port = self.granted.port,
        )
    }

    async fn serve(&self, config: &str) -> Server {
        Server::start_full(
            config,
            ClientLifecycleMode::Initialize,
            &[
                ("CORRAL_TEST_TOKEN", TOKEN),
                ("CORRAL_TEST_HIDDEN", "never-seen"),
            ],
        )
        .await
    }

    async fn escapes(&self) -> Server {
        let config = format!(
            "[components.escapes]\npath = \"{}\"\n{}",
            corral_test_artifacts::escapes().display(),
            self.grants()
        );
        self.serve(&config).await
    }

    /// Every file of the tree with its bytes, for before/after checks.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        collect(self.root.path(), &mut files);
        files.sort();
        files
    }
}

fn collect(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            collect(&path, files);
        } else if meta.is_file() {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        } else {
            files.push((
                path.clone(),
                std::fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            ));
        }
    }
}

fn denial(port: u16) -> String {
    format!(
        "network access to 127.0.0.1:{port} denied: not granted to component \"escapes\" \
         (add it to components.escapes.network.allow)"
    )
}

#[tokio::test]
async fn granted_directories_work_in_their_mode() {
    let world = World::new().await;
    let server = world.escapes().await;
    let read = ok(&server
        .call("read_file", json!({"path": "/data/hello.txt"}))
        .await);
    assert_eq!(read, json!({"result": "hello from data\n"}));
    let listing = ok(&server.call("list_dir", json!({"path": "/data"})).await);
    assert!(
        listing["result"].as_str().unwrap().contains("hello.txt"),
        "{listing}"
    );
    ok(&server
        .call(
            "write_file",
            json!({"path": "/out/made.txt", "contents": "written"}),
        )
        .await);
    assert_eq!(
        std::fs::read_to_string(world.path("out/made.txt")).unwrap(),
        "written"
    );
    ok(&server
        .call(
            "rename",
            json!({"from": "/out/made.txt", "to": "/out/moved.txt"}),
        )
        .await);
    ok(&server
        .call("remove_file", json!({"path": "/out/moved.txt"}))
        .await);
    assert!(!world.path("out/moved.txt").exists());
}

#[tokio::test]
async fn every_filesystem_escape_is_refused_and_nothing_changes() {
    let world = World::new().await;
    let server = world.escapes().await;
    let before = world.snapshot();
    let secret = world.path("secret.txt").display().to_string();
    let reads = [
        "/data/../secret.txt".to_owned(),
        "/data/../../../../etc/passwd".to_owned(),
        "/etc/passwd".to_owned(),
        secret.clone(),
        "/data/link-to-secret".to_owned(),
        "/data/link-to-root/secret.txt".to_owned(),
        "/out/../secret.txt".to_owned(),
    ];
    for path in &reads {
        let result = server.call("read_file", json!({"path": path})).await;
        let message = error(&result);
        assert!(!message.contains("top secret"), "{path}: {message}");
    }
    let writes = [
        json!({"tool": "write_file", "args": {"path": "/data/new.txt", "contents": "x"}}),
        json!({"tool": "write_file", "args": {"path": "/data/hello.txt", "contents": "overwritten"}}),
        json!({"tool": "write_file", "args": {"path": "/out/../escaped.txt", "contents": "x"}}),
        json!({"tool": "write_file", "args": {"path": "/data/link-to-secret", "contents": "x"}}),
        json!({"tool": "write_file", "args": {"path": secret, "contents": "x"}}),
        json!({"tool": "create_dir", "args": {"path": "/data/newdir"}}),
        json!({"tool": "rename", "args": {"from": "/data/hello.txt", "to": "/data/renamed.txt"}}),
        json!({"tool": "rename", "args": {"from": "/data/hello.txt", "to": "/out/stolen.txt"}}),
        json!({"tool": "remove_file", "args": {"path": "/data/hello.txt"}}),
        json!({"tool": "remove_file", "args": {"path": "/data/link-to-secret"}}),
    ];
    for case in &writes {
        let result = server
            .call(case["tool"].as_str().unwrap(), case["args"].clone())
            .await;
        error(&result);
    }
    assert_eq!(
        world.snapshot(),
        before,
        "files outside the grants and in read-only grants are unchanged"
    );
}

#[tokio::test]
async fn only_granted_environment_variables_and_no_arguments_reach_the_guest() {
    let world = World::new().await;
    let server = world.escapes().await;
    assert_eq!(
        ok(&server.call("read_env", json!({"name": "GREETING"})).await),
        json!({"result": "hello"})
    );
    assert_eq!(
        ok(&server
            .call("read_env", json!({"name": "CORRAL_TEST_TOKEN"}))
            .await),
        json!({"result": TOKEN})
    );
    for hidden in ["CORRAL_TEST_HIDDEN", "PATH", "HOME", "RUST_LOG"] {
        assert_eq!(
            ok(&server.call("read_env", json!({"name": hidden})).await),
            json!({"result": null}),
            "{hidden}"
        );
    }
    let all = ok(&server.call("list_env", json!({})).await);
    let mut names: Vec<&str> = all["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["CORRAL_TEST_TOKEN", "GREETING"]);
    assert_eq!(
        ok(&server.call("list_args", json!({})).await),
        json!({"result": []})
    );
    assert!(
        !server.stderr().contains(TOKEN),
        "the token is never logged"
    );
}

#[tokio::test]
async fn sockets_reach_granted_ports_only() {
    let world = World::new().await;
    let server = world.escapes().await;
    let reply = ok(&server
        .call(
            "tcp_connect",
            json!({"address": format!("127.0.0.1:{}", world.granted.port)}),
        )
        .await);
    assert!(
        reply["result"].as_str().unwrap().contains("pong"),
        "{reply}"
    );

    let refused = server
        .call(
            "tcp_connect",
            json!({"address": format!("127.0.0.1:{}", world.ungranted.port)}),
        )
        .await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        all_text(&refused).contains(&denial(world.ungranted.port)),
        "{}",
        all_text(&refused)
    );
    let udp = server
        .call(
            "udp_send",
            json!({"address": format!("127.0.0.1:{}", world.ungranted.port)}),
        )
        .await;
    assert!(
        all_text(&udp).contains(&denial(world.ungranted.port)),
        "{}",
        all_text(&udp)
    );
    let lookup = server.call("resolve", json!({"host": "localhost"})).await;
    assert_eq!(
        lookup.is_error,
        Some(true),
        "no host name is granted, so no name lookup: {}",
        all_text(&lookup)
    );

    assert_eq!(
        world.ungranted.connections_so_far().await,
        0,
        "the ungranted port saw no connection"
    );
    assert!(
        server.stderr().contains("capability denied"),
        "denials are logged"
    );
}

#[tokio::test]
async fn http_reaches_granted_hosts_only() {
    let world = World::new().await;
    let server = world.escapes().await;
    let granted = format!("http://127.0.0.1:{}/data", world.granted.port);
    let body = ok(&server.call("http_get", json!({"url": granted})).await);
    assert!(body.to_string().contains("pong"), "{body}");
    let ungranted = format!("http://127.0.0.1:{}/", world.ungranted.port);
    let refused = server.call("http_get", json!({"url": ungranted})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        all_text(&refused).contains(&denial(world.ungranted.port)),
        "{}",
        all_text(&refused)
    );
    let elsewhere = server
        .call("http_get", json!({"url": "http://example.com/"}))
        .await;
    assert!(
        all_text(&elsewhere).contains("network access to example.com:80 denied"),
        "{}",
        all_text(&elsewhere)
    );
    assert_eq!(world.ungranted.connections_so_far().await, 0);
}

#[tokio::test]
async fn a_component_with_no_grants_reaches_nothing() {
    let world = World::new().await;
    let config = format!(
        "[components.escapes]\npath = \"{}\"\n",
        corral_test_artifacts::escapes().display()
    );
    let server = world.serve(&config).await;
    error(
        &server
            .call("read_file", json!({"path": "/data/hello.txt"}))
            .await,
    );
    assert_eq!(
        ok(&server.call("list_env", json!({})).await),
        json!({"result": []})
    );
    let refused = server
        .call(
            "tcp_connect",
            json!({"address": format!("127.0.0.1:{}", world.granted.port)}),
        )
        .await;
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(world.granted.connections_so_far().await, 0);
}

#[tokio::test]
async fn fs_tools_and_http_fetch_work_within_their_grants() {
    let world = World::new().await;
    let config = format!(
        r#"[components.files]
path = "{files}"
dirs = [
  {{ host = "{data}", guest = "/data", mode = "ro" }},
  {{ host = "{out}", guest = "/out", mode = "rw" }},
]

[components.fetch]
path = "{fetch}"
network = {{ allow = ["127.0.0.1:{port}"] }}
"#,
        files = corral_test_artifacts::fs_tools().display(),
        fetch = corral_test_artifacts::http_fetch().display(),
        data = world.path("data").display(),
        out = world.path("out").display(),
        port = world.granted.port,
    );
    let server = world.serve(&config).await;
    let listing = ok(&server.call("list_files", json!({"path": "/data"})).await);
    let names: Vec<&str> = listing["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"hello.txt") && names.contains(&"sub"),
        "{listing}"
    );
    let hits = ok(&server
        .call("search", json!({"path": "/data", "needle": "needle"}))
        .await);
    assert_eq!(hits["result"][0]["line"], 2, "{hits}");
    ok(&server
        .call(
            "write_file",
            json!({"path": "/out/report.txt", "contents": "done"}),
        )
        .await);
    assert_eq!(
        std::fs::read_to_string(world.path("out/report.txt")).unwrap(),
        "done"
    );
    error(
        &server
            .call(
                "write_file",
                json!({"path": "/data/report.txt", "contents": "done"}),
            )
            .await,
    );

    let url = format!("http://127.0.0.1:{}/", world.granted.port);
    let fetched = ok(&server
        .call("fetch_external_data", json!({"url": url}))
        .await);
    assert_eq!(fetched["status"], 200, "{fetched}");
    assert_eq!(fetched["body"], "pong");

    let tools = server.tools().await;
    let hints = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        serde_json::to_value(tool.annotations.clone().unwrap()).unwrap()
    };
    assert_eq!(
        hints("list_files")["destructiveHint"],
        Value::Bool(true),
        "a rw dir is granted"
    );
    assert_eq!(hints("list_files")["readOnlyHint"], Value::Bool(false));
    assert_eq!(
        hints("fetch_external_data")["openWorldHint"],
        Value::Bool(true)
    );
    assert_eq!(
        hints("fetch_external_data")["destructiveHint"],
        Value::Bool(false)
    );
}

/// `wasi:config`: granted keys reach the component, values from the host
/// are passed by name and never logged or audited, and a component that
/// imports the interface without the grant is refused.
#[tokio::test]
async fn configuration_values_reach_only_a_granted_component() {
    const NAME: &str = "corral tracker (secret-looking 7f3a9)";
    let links = corral_test_artifacts::issue_links().display().to_string();
    let config = format!(
        r#"[components.links]
path = "{links}"
config = {{ tracker_url = "https://github.com/example/corral/" }}
config_from_host = ["tracker_name"]

[components.nolinks]
path = "{links}"
tool_prefix = "no_"
"#
    );
    let server = Server::start_full(
        &config,
        ClientLifecycleMode::Initialize,
        &[("tracker_name", NAME)],
    )
    .await;
    assert_eq!(
        ok(&server.call("issue_link", json!({"number": 42})).await),
        json!({"result": "https://github.com/example/corral/issues/42"})
    );
    assert_eq!(
        ok(&server.call("tracker", json!({})).await),
        json!({"name": NAME, "url": "https://github.com/example/corral"})
    );
    let search = ok(&server
        .call(
            "search_link",
            json!({"query": "deadline & fuel", "state": "closed"}),
        )
        .await);
    assert_eq!(
        search["result"],
        "https://github.com/example/corral/issues?q=is%3Aclosed%20is%3Aissue%20deadline%20%26%20fuel"
    );
    let refused = error(&server.call("no_issue_link", json!({"number": 1})).await);
    assert!(
        refused.starts_with("capability not granted")
            && refused.contains("wasi:config/store")
            && refused.contains("components.nolinks.config"),
        "{refused}"
    );
    assert!(!server.stderr().contains("7f3a9"), "a value was logged");

    let (ok, audit, stderr) =
        crate::support::run_corral_with_env(&["audit"], &config, &[("tracker_name", NAME)]);
    assert!(ok, "{stderr}");
    assert!(
        audit.contains("reads 2 configuration keys (tracker_url, tracker_name)"),
        "{audit}"
    );
    assert!(
        audit.contains("imports wasi:config but no configuration key is granted"),
        "{audit}"
    );
    assert!(
        !audit.contains("7f3a9") && !audit.contains("example/corral"),
        "{audit}"
    );
}
