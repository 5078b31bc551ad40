"""Per-call latency and idle memory of one tool per language: Rust (`calc`
`add`), Python (`py-units` `convert`, componentize-py) and JavaScript
(`js-csv-stats` `summarize`, jco/ComponentizeJS).

    python3 bench/languages.py [CALLS] [BINARY]

CALLS sequential calls per tool (default 200) after 20 warm-up calls, over
stdio, one `corral serve` per tool, each with the compiled-component cache
already warm (a first, unmeasured start fills a private cache directory).
BINARY defaults to target/release/corral. Needs the components built (any
`cargo test` run builds them: guest-tools/target/wasm32-wasip2/release and
guest-tools/target/other-languages).

Prints per tool: the component's size; the time from spawn to the answer of
`tools/list`; the server's RSS once it answers (idle, no call made yet) and
after the calls (idle again); the client-side wall time per call (median,
p95, max); the server's CPU time per call (utime + stime from /proc) and its
minor page faults per call (what a fresh instance touches of its memory image
beyond the pages the pool keeps resident).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TARGET = os.path.join(ROOT, "guest-tools", "target")
TOOLS = [
    ("rust calc add", os.path.join(TARGET, "wasm32-wasip2", "release", "calc.wasm"), "add",
     lambda i: {"a": i, "b": 1}),
    ("python convert", os.path.join(TARGET, "other-languages", "py_units.wasm"), "convert",
     lambda i: {"quantity": {"value": i, "unit": "km"}, "to": "miles", "rounding": {"decimals": 3}}),
    ("js summarize", os.path.join(TARGET, "other-languages", "js_csv_stats.wasm"), "summarize",
     lambda i: {"csv": f"name,age,member\nann,{i},true\nbob,,false\ncy,40,true\n"}),
]
WARMUP = 20
TICK = os.sysconf("SC_CLK_TCK")


def proc_status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def stat(pid):
    """(CPU seconds, minor page faults) of process `pid` so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[7])


class Server:
    """`corral serve` on stdio, spoken to in raw JSON-RPC lines."""

    def __init__(self, binary, config, cache):
        env = {**os.environ, "RUST_LOG": "warn", "CORRAL_CACHE_DIR": cache}
        env.pop("RUST_BACKTRACE", None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [binary, "serve", "--config", config], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "bench-languages", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.tools = [t["name"] for t in self.request("tools/list", {})["result"]["tools"]]
        self.ready = time.perf_counter() - self.started

    def send(self, message):
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        answer = json.loads(self.process.stdout.readline())
        assert answer.get("id") == self.next_id, answer
        return answer

    def call(self, tool, arguments):
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        assert answer["result"].get("isError") is False, answer
        return answer

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def measure(binary, label, path, tool, arguments, calls, tmp):
    config = os.path.join(tmp, f"{tool}.toml")
    with open(config, "w") as f:
        f.write(f'[components.c]\npath = "{path}"\n')
    cache = os.path.join(tmp, "cache")
    Server(binary, config, cache).close()  # fills the cache: compiling is not measured
    server = Server(binary, config, cache)
    assert tool in server.tools, server.tools
    pid = server.process.pid
    rss_idle = proc_status(pid, "VmRSS:")
    for i in range(WARMUP):
        server.call(tool, arguments(i))
    times = []
    cpu_before, faults_before = stat(pid)
    for i in range(calls):
        start = time.perf_counter()
        server.call(tool, arguments(i))
        times.append(time.perf_counter() - start)
    cpu_after, faults_after = stat(pid)
    cpu = (cpu_after - cpu_before) / calls
    faults = (faults_after - faults_before) / calls
    rss_after = proc_status(pid, "VmRSS:")
    peak = proc_status(pid, "VmHWM:")
    server.close()
    times.sort()
    ms = lambda s: s * 1000
    print(f"{label:16} {os.path.getsize(path) / 2**20:6.1f} MiB  ready {ms(server.ready):6.0f} ms  "
          f"RSS idle {rss_idle:5.1f} MiB, after {calls} calls {rss_after:5.1f} MiB (peak {peak:5.1f})  "
          f"per call: median {ms(statistics.median(times)):6.3f} ms, "
          f"p95 {ms(times[int(len(times) * 0.95) - 1]):6.3f} ms, max {ms(times[-1]):6.3f} ms; "
          f"server CPU {ms(cpu):6.3f} ms, {faults:5.0f} page faults")


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "release", "corral")
    print(f"{binary}, {calls} sequential calls per tool over stdio after {WARMUP} warm-up calls")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path, tool, arguments in TOOLS:
            measure(binary, label, path, tool, arguments, calls, tmp)


if __name__ == "__main__":
    main()
