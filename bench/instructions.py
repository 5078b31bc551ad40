"""Instructions (callgrind) or server CPU time per sequential tool call over
stdio, Corral against the native floor: units that idle states, clock speed
and other load on the machine do not bend (instructions), or bend little
(CPU time).

    python3 bench/instructions.py [--unit instructions|cpu] [--tools add,analyze_code]
        [--transport stdio|http|http-new-connections]
        [--calls 200,1200] [--corral target/release/corral]
        [--native bench/target/release/native-server] [--only corral|native]
        [--sizes 1024,1048576,...]  # adds the size sweep (see below)

Over `http`, the calls go through one kept-alive connection; over
`http-new-connections`, each call opens a connection of its own (as the rmcp
client of bench/loadgen does), so what a server spends per connection counts.

Instructions: each server runs under `valgrind --tool=callgrind` (user-space
instructions of every thread, the JIT-compiled guest code included; the
kernel's are not counted) twice, once for each count of `--calls`, after the
same warm-up; the difference of the two totals divided by the difference of
the counts is the cost of one call, start-up and shut-down cancelled out.
CPU: one process per server, utime+stime from /proc/PID/stat around the
larger count of calls (after the warm-up), divided by that count.

The size sweep (`--sizes`) calls the `type_echo` test component's
`echo_string` and `echo_list` (Corral) and the floor's tools of the same
names: a string or a list<u32> of about each size (in JSON bytes) that the
guest reads and sends back, and `add` carrying each size in `params._meta`,
which no tool reads. Reported per MiB of request:
(cost at the size − cost of the same call at 1 byte) / MiB.

Needs the release builds (`bench/run` builds them) and, for instructions,
valgrind. Prints a Markdown table on stdout."""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GUESTS = os.path.join(ROOT, "guest-tools", "target", "wasm32-wasip2", "release")
WARMUP = 20


def python_source(path=None):
    """The `analyze_code` input of bench/loadgen (it writes it to its work dir)."""
    path = path or os.path.join(ROOT, "bench", "target", "work", "analyze_code-input.py")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run bench/run (or loadgen) once, it writes the input")
    return open(path).read()


def config(work, guests=GUESTS):
    path = os.path.join(work, "corral.toml")
    with open(path, "w") as f:
        f.write(
            # Valgrind cannot reserve more than a few memory slots of 4 GiB
            # (the pool's reservation per linear memory): one call slot,
            # one memory per instance. Results of the size sweep reach 8 MiB
            # of JSON (the value and its text block).
            "[server]\nname = \"corral-instructions\"\nmax_concurrent_calls = 1\n"
            "max_result_size = \"64MiB\"\n"
            "[server.http]\nmax_body_size = \"64MiB\"\n"
            "[server.pool]\nmemories = 1\n\n"
            f"[components.calc]\npath = \"{guests}/calc.wasm\"\n\n"
            f"[components.analyzer]\npath = \"{guests}/code_analyzer.wasm\"\n\n"
            f"[components.echo]\npath = \"{guests}/type_echo.wasm\"\n"
            "limits = { host_memory = \"1GiB\" }\n"
        )
    return path


class Server:
    """A server over stdio, maybe under callgrind. Subclasses change how a
    message travels (`exchange`); the handshake and the calls are shared."""

    def __init__(self, argv, unit, work, env):
        self.spawn(argv, unit, work, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.handshake()

    def spawn(self, argv, unit, work, env, **streams):
        self.out = None
        if unit == "instructions":
            self.out = os.path.join(work, f"callgrind.{os.getpid()}.{id(self)}.out")
            argv = ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={self.out}"] + argv
        self.p = subprocess.Popen(argv, stderr=subprocess.DEVNULL, env=env, **streams)

    def handshake(self):
        self.exchange({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "instructions", "version": "1"}}})
        self.exchange({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.id = 1

    def exchange(self, message):
        """Sends `message`; the answer's bytes if it is a request."""
        self.p.stdin.write((json.dumps(message) + "\n").encode())
        self.p.stdin.flush()
        return self.p.stdout.readline() if "id" in message else None

    def call(self, params):
        self.id += 1
        answer = self.exchange({"jsonrpc": "2.0", "id": self.id, "method": "tools/call", "params": params})
        if not (b'"isError":false' in answer or b'"isError": false' in answer):
            raise SystemExit(f"call failed: {answer[:400]!r}")

    def cpu(self):
        fields = open(f"/proc/{self.p.pid}/stat").read().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        """Ends the server; the instructions it executed in all, if counted."""
        self.p.stdin.close()
        self.p.wait()
        return self.total()

    def total(self):
        """The instructions the ended server executed in all, if counted."""
        if self.out is None:
            return None
        text = open(self.out).read()
        os.unlink(self.out)
        total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        return int(total.group(1))


class HttpServer(Server):
    """A server over streamable HTTP on a free loopback port, maybe under
    callgrind; one session, its calls on one kept-alive connection or each
    on a new one."""

    def __init__(self, argv, unit, work, env, new_connections=False):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.spawn(argv + ["--http", f"127.0.0.1:{self.port}"], unit, work, env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.new_connections = new_connections
        self.session = None
        deadline = time.monotonic() + 300
        while True:
            try:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port)
                self.connection.request("GET", "/healthz")
                health = self.connection.getresponse()
                health.read()
                if health.status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or self.p.poll() is not None:
                    raise SystemExit(f"{argv[0]} did not answer on port {self.port}")
                time.sleep(0.2)
        self.handshake()

    def exchange(self, message):
        if self.new_connections:
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port)
        headers = {"Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        self.connection.request("POST", "/mcp", json.dumps(message), headers)
        response = self.connection.getresponse()
        body = response.read()
        self.session = self.session or response.getheader("Mcp-Session-Id")
        return body

    def close(self):
        self.connection.close()
        self.p.send_signal(signal.SIGINT)
        self.p.wait()
        return self.total()


def start(argv, unit, work, env, transport):
    """A server over `transport` (see the module doc)."""
    if transport == "stdio":
        return Server(argv, unit, work, env)
    return HttpServer(argv, unit, work, env, new_connections=transport == "http-new-connections")


def params_for(tool, python, size=1):
    """The `tools/call` params of `tool`; the sweep's calls carry `size` bytes."""
    if tool == "add":
        return {"name": "add", "arguments": {"a": 20, "b": 22}}
    if tool == "analyze_code":
        return {"name": "analyze_code", "arguments": {"code": python, "language": "python"}}
    if tool == "echo_string":
        return {"name": "echo_string", "arguments": {"value": "x" * size}}
    if tool == "echo_list":
        # "1234567," is 8 bytes of JSON per element.
        return {"name": "echo_list", "arguments": {"value": [1234567] * max(1, size // 8)}}
    if tool == "meta":
        return {"name": "add", "arguments": {"a": 20, "b": 22}, "_meta": {"padding": "y" * size}}
    raise SystemExit(f"unknown tool {tool}")


SWEEP = {
    "echo_string": "`echo_string` (string in and out, read)",
    "echo_list": "`echo_list` (list<u32> in and out, read)",
    "meta": "`add` with `params._meta` (not read)",
}


def measure(argv, unit, work, env, params, counts, transport="stdio"):
    """Cost of one call with `params`: instructions or CPU seconds."""
    if unit == "instructions":
        # A first start fills the compiled-component cache, so that both
        # measured starts read it. Under valgrind, since wasmtime sees other
        # CPU features there and compiles for them.
        start(argv, unit, work, env, transport).close()
        totals = []
        for n in counts:
            server = start(argv, unit, work, env, transport)
            for _ in range(WARMUP + n):
                server.call(params)
            totals.append(server.close())
        return (totals[1] - totals[0]) / (counts[1] - counts[0])
    server = start(argv, unit, work, env, transport)
    for _ in range(WARMUP):
        server.call(params)
    before = server.cpu()
    for _ in range(counts[1]):
        server.call(params)
    used = server.cpu() - before
    server.close()
    return used / counts[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", choices=["instructions", "cpu"], default="instructions")
    parser.add_argument("--tools", default="add,analyze_code")
    parser.add_argument("--transport", choices=["stdio", "http", "http-new-connections"], default="stdio")
    parser.add_argument("--calls", default="200,1200", help="two call counts (instructions); the larger for cpu")
    parser.add_argument("--corral", default=os.path.join(ROOT, "target", "release", "corral"))
    parser.add_argument("--native", default=os.path.join(ROOT, "bench", "target", "release", "native-server"))
    parser.add_argument("--guests", default=GUESTS, help="where the .wasm components are")
    parser.add_argument("--python", help="the analyze_code input (default: loadgen's, in bench/target/work)")
    parser.add_argument("--only", choices=["corral", "native"])
    parser.add_argument("--sizes", default="", help="sizes in bytes for the char_count sweep")
    args = parser.parse_args()
    counts = [int(c) for c in args.calls.split(",")]
    work = tempfile.mkdtemp(prefix="corral-instructions-")
    env = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "RUST_LOG")}
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    servers = {
        "corral": [args.corral, "serve", "--config", config(work, os.path.abspath(args.guests))],
        "native": [args.native],
    }
    if args.only:
        servers = {args.only: servers[args.only]}
    python = python_source(args.python) if "analyze_code" in args.tools else ""
    unit = "instructions" if args.unit == "instructions" else "µs of server CPU"
    scale = 1 if args.unit == "instructions" else 1e6
    rows = []
    for tool in [t for t in args.tools.split(",") if t]:
        costs = {name: measure(argv, args.unit, work, env, params_for(tool, python), counts, args.transport) * scale
                 for name, argv in servers.items()}
        rows.append((f"`{tool}`, per call", costs))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    for tool, label in SWEEP.items() if sizes else ():
        base = {name: measure(argv, args.unit, work, env, params_for(tool, python), counts, args.transport) * scale
                for name, argv in servers.items()}
        for size in sizes:
            costs = {}
            for name, argv in servers.items():
                cost = measure(argv, args.unit, work, env, params_for(tool, python, size), counts, args.transport) * scale
                costs[name] = (cost - base[name]) / (size / 1048576)
            rows.append((f"{label}, {size:,} B, per MiB", costs))
    names = list(servers)
    print(f"| call over {args.transport} ({unit}; calls {args.calls}) | " + " | ".join(names) +
          (" | Corral/native |" if len(names) == 2 else " |"))
    print("|---|" + "---:|" * (len(names) + (1 if len(names) == 2 else 0)))
    for label, costs in rows:
        cells = [f"{costs[n]:,.0f}" if abs(costs[n]) >= 100 else f"{costs[n]:.2f}" for n in names]
        ratio = f" | {costs['corral'] / costs['native']:.2f}" if len(names) == 2 and costs["native"] else ""
        print(f"| {label} | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
