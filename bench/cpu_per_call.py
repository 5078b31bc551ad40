"""Server CPU per sequential `add` call over stdio, for several corral binaries
run alternately in one run: the unit that idle states and load bend least.

    python3 bench/cpu_per_call.py CALLS ROUNDS NAME=BINARY [NAME=BINARY ...]

Needs the guest tools built (guest-tools/target/wasm32-wasip2/release/calc.wasm).
Reads utime+stime of the server from /proc before and after the measured calls
(after 500 warm-up calls); prints the median per binary."""
import json, os, subprocess, sys, tempfile, time

calls, rounds = int(sys.argv[1]), int(sys.argv[2])
bins = [a.split("=", 1) for a in sys.argv[3:]]
calc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest-tools", "target", "wasm32-wasip2", "release", "calc.wasm")
tmp = tempfile.mkdtemp()
cfg = os.path.join(tmp, "corral.toml")
open(cfg, "w").write(f'[server]\ncache = false\n[components.calc]\npath = "{calc}"\n')
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def run(binary):
    p = subprocess.Popen([binary, "serve", "--config", cfg], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    def send(m):
        p.stdin.write((json.dumps(m) + "\n").encode()); p.stdin.flush()
    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cpu", "version": "1"}}})
    p.stdout.readline()
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    def call(i):
        send({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "add", "arguments": {"a": i, "b": 1}}})
        line = p.stdout.readline()
        assert b'"isError":false' in line or b'"isError": false' in line, line
    for i in range(1, 501):
        call(i)
    c0, t0 = cpu(p.pid), time.perf_counter()
    for i in range(1000, 1000 + calls):
        call(i)
    c1, t1 = cpu(p.pid), time.perf_counter()
    p.stdin.close(); p.wait()
    return (c1 - c0) / calls * 1e6, (t1 - t0) / calls * 1e6

results = {name: [] for name, _ in bins}
for r in range(rounds):
    for name, binary in bins:
        results[name].append(run(binary))
for name, rs in results.items():
    cpus = sorted(x[0] for x in rs); walls = sorted(x[1] for x in rs)
    print(f"{name}: server CPU/call median {cpus[len(cpus)//2]:.1f} us (all {', '.join(f'{c:.1f}' for c in cpus)}); wall/call median {walls[len(walls)//2]:.1f} us")
