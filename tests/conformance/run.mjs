// Runs the official MCP conformance suites against a real `corral serve --http`.
// Started by scripts/conformance (which builds corral and the conformance
// component first); run it with the Node 22 that scripts/install-test-clients
// installs:
//
//   tests/clients/node/node_modules/.bin/node tests/conformance/run.mjs \
//       [--corral PATH] [--suite 2025-11-25|2026-07-28] [--keep] [--verbose]
//
// Suites (both server modes of @modelcontextprotocol/conformance):
//   2025-11-25  version 0.1.16, its whole active server suite (scenarios for
//               2025-06-18 and 2025-11-25, `initialize` handshake, sessions)
//   2026-07-28  version 0.2.0-alpha.12 with `--requirements 2026-07-28`
//               (the stateless 2026 wire; its `not_scored` scenarios run too)
//
// A scenario passes when at least one of its checks is a SUCCESS and none is
// a FAILURE or a WARNING (the rule of the suites' own --expected-failures
// baseline; SKIPPED and INFO checks do not count). Every failure must be
// listed in tests/conformance/expected-failures.txt, either a whole scenario
// (`SUITE SCENARIO REASON`) or single checks (`SUITE SCENARIO:CHECK-ID
// REASON`, as the suites' own baselines allow). The run fails on a failure not
// listed there and on a listed scenario or check that passes now (remove its
// line); a listed check that did not run is tolerated (a failed prerequisite
// may skip it).

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const NODE_DIR = join(REPO, "tests", "clients", "node");
const MODULES = join(NODE_DIR, "node_modules");
const EXPECTED_FILE = join(HERE, "expected-failures.txt");
const TEMPLATE = join(HERE, "corral.toml.in");
const COMPONENT = join(REPO, "guest-tools", "target", "wasm32-wasip2", "release", "conformance.wasm");
const INSTALL_HINT = "run scripts/install-test-clients";

const STARTUP_TIMEOUT_MS = 30_000;
const SUITE_TIMEOUT_MS = 20 * 60_000;

const SUITES = [
  {
    name: "2025-11-25",
    module: "conformance-0-1",
    args: [],
    describe: "active server suite (2025-06-18 and 2025-11-25 scenarios)",
  },
  {
    name: "2026-07-28",
    module: "conformance-0-2",
    args: ["--requirements", "2026-07-28"],
    describe: "--requirements 2026-07-28",
    requirements: "2026-07-28",
  },
];

function die(message) {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { corral: join(REPO, "target", "debug", "corral"), suites: null, keep: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--corral") options.corral = resolve(argv[++i] ?? die("--corral needs a path"));
    else if (arg === "--suite") (options.suites ??= []).push(argv[++i] ?? die("--suite needs a name"));
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--verbose") options.verbose = true;
    else die(`unknown argument ${arg}; usage: run.mjs [--corral PATH] [--suite NAME]... [--keep] [--verbose]`);
  }
  for (const name of options.suites ?? []) {
    if (!SUITES.some((suite) => suite.name === name)) {
      die(`unknown suite ${name}; the suites are ${SUITES.map((s) => s.name).join(", ")}`);
    }
  }
  return options;
}

/**
 * `SUITE SCENARIO REASON` and `SUITE SCENARIO:CHECK-ID REASON` lines; `#`
 * starts a comment. Returns Map(suite -> Map(scenario -> { reason, checks:
 * Map(check id -> reason) })); `reason` is set for a whole-scenario entry.
 */
function readExpected() {
  const expected = new Map(SUITES.map((suite) => [suite.name, new Map()]));
  if (!existsSync(EXPECTED_FILE)) return expected;
  readFileSync(EXPECTED_FILE, "utf8")
    .split("\n")
    .forEach((raw, index) => {
      const where = `${EXPECTED_FILE}:${index + 1}`;
      const line = raw.replace(/#.*/, "").trim();
      if (!line) return;
      const [suite, target, ...reason] = line.split(/\s+/);
      if (!expected.has(suite) || !target || reason.length === 0) {
        die(`${where}: expected "SUITE SCENARIO[:CHECK-ID] REASON" with SUITE one of ${SUITES.map((s) => s.name).join(", ")}`);
      }
      const [scenario, check] = target.split(":");
      const scenarios = expected.get(suite);
      if (!scenarios.has(scenario)) scenarios.set(scenario, { reason: undefined, checks: new Map() });
      const entry = scenarios.get(scenario);
      if (check === undefined) {
        if (entry.reason !== undefined || entry.checks.size) die(`${where}: ${suite} ${scenario} is listed twice`);
        entry.reason = reason.join(" ");
      } else {
        if (entry.reason !== undefined || entry.checks.has(check)) die(`${where}: ${suite} ${target} is listed twice or with its whole scenario`);
        entry.checks.set(check, reason.join(" "));
      }
    });
  return expected;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(file, lines = 30) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function startCorral(options, work) {
  if (!existsSync(options.corral)) die(`${options.corral} does not exist; build it with \`cargo build -p corral\``);
  if (!existsSync(COMPONENT)) {
    die(`${COMPONENT} does not exist; build it with \`cargo build --release --target wasm32-wasip2 --manifest-path guest-tools/Cargo.toml -p conformance\``);
  }
  const config = join(work, "corral.toml");
  writeFileSync(config, readFileSync(TEMPLATE, "utf8").replaceAll("@CONFORMANCE_WASM@", COMPONENT));
  const port = await freePort();
  const log = join(work, "corral.log");
  const out = createWriteStream(log);
  const child = spawn(options.corral, ["serve", "--config", config, "--http", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "info" },
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited) die(`corral exited during start-up (${JSON.stringify(exited)}); its log:\n${tail(log)}`);
    try {
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      die(`corral did not answer 200 on ${base}/healthz within ${STARTUP_TIMEOUT_MS / 1000} s; its log:\n${tail(log)}`);
    }
    await sleep(200);
  }
  return {
    url: `${base}/mcp`,
    log,
    isRunning: () => exited === null,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      let timer;
      const killed = await Promise.race([
        done.then(() => true),
        new Promise((r) => (timer = setTimeout(() => r(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!killed) {
        child.kill("SIGKILL");
        await done;
      }
    },
  };
}

function runSuite(suite, url, outDir, logFile, verbose) {
  const entry = join(MODULES, suite.module, "dist", "index.js");
  const args = [entry, "server", "--url", url, "-o", outDir, ...suite.args];
  return new Promise((resolveRun) => {
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(log, { end: false });
      if (verbose) stream.pipe(process.stderr, { end: false });
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), SUITE_TIMEOUT_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      log.end();
      resolveRun({ code, signal, command: `${process.execPath} ${args.join(" ")}` });
    });
  });
}

/** Reads OUT/server-SCENARIO-TIMESTAMP/checks.json into Map(scenario -> checks). */
function readResults(outDir) {
  const results = new Map();
  if (!existsSync(outDir)) return results;
  for (const entry of readdirSync(outDir).sort()) {
    const file = join(outDir, entry, "checks.json");
    if (!existsSync(file)) continue;
    const scenario = entry.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, "");
    let checks;
    try {
      checks = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      checks = [{ id: scenario, status: "FAILURE", errorMessage: `unreadable checks.json: ${err.message}` }];
    }
    results.set(scenario, checks);
  }
  return results;
}

/** The scenarios a requirement set scores (its `server:` list). */
function scoredScenarios(suite) {
  if (!suite.requirements) return null;
  const requireFromNode = createRequire(join(NODE_DIR, "package.json"));
  const YAML = requireFromNode("yaml");
  const file = join(MODULES, suite.module, "requirements", `${suite.requirements}.yaml`);
  return new Set(YAML.parse(readFileSync(file, "utf8")).server ?? []);
}

const FAILING = new Set(["FAILURE", "WARNING"]);

/**
 * Judges one scenario's checks against its expected-failures entry (or
 * undefined). Returns { passed, ok, notes, problems }: `passed` by the rule
 * above, `ok` when nothing is unexpected, `notes` describing failures,
 * `problems` for the final report.
 */
function judge(suite, scenario, checks, entry) {
  const failing = checks.filter((check) => FAILING.has(check.status));
  const passed = failing.length === 0 && checks.some((check) => check.status === "SUCCESS");
  const describe = (check) => `${check.id} ${check.status}: ${(check.errorMessage ?? check.description ?? "").split("\n")[0].slice(0, 200)}`;
  const notes = [];
  const problems = [];
  if (entry?.reason !== undefined) {
    if (passed) problems.push(`${suite} ${scenario} passes now: remove it from expected-failures.txt`);
    else notes.push(`expected: ${entry.reason}`);
    if (!passed && !failing.length) notes.push(`no successful check (${checks.map((c) => `${c.id}=${c.status}`).join(", ")})`);
    return { passed, ok: !passed, notes, problems, failing: failing.map(describe) };
  }
  const listed = entry?.checks ?? new Map();
  for (const check of failing) {
    if (listed.has(check.id)) notes.push(`expected ${check.id}: ${listed.get(check.id)}`);
    else problems.push(`${suite} ${scenario}: ${describe(check)}`);
  }
  for (const id of listed.keys()) {
    const runs = checks.filter((check) => check.id === id);
    if (runs.length && runs.every((check) => check.status === "SUCCESS")) {
      problems.push(`${suite} ${scenario}:${id} passes now: remove it from expected-failures.txt`);
    }
  }
  if (!failing.length && !passed) {
    problems.push(`${suite} ${scenario}: no successful check (${checks.map((c) => `${c.id}=${c.status}`).join(", ")})`);
  }
  return { passed, ok: problems.length === 0, notes, problems, failing: failing.map(describe) };
}

function packageVersion(module) {
  return JSON.parse(readFileSync(join(MODULES, module, "package.json"), "utf8")).version;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) die(`the conformance suites need Node 22 or later, this is ${process.version}; use tests/clients/node/node_modules/.bin/node (${INSTALL_HINT})`);
  for (const suite of SUITES) {
    if (!existsSync(join(MODULES, suite.module, "dist", "index.js"))) {
      die(`${join(MODULES, suite.module)} is missing; ${INSTALL_HINT}`);
    }
  }
  const expected = readExpected();
  const suites = SUITES.filter((suite) => !options.suites || options.suites.includes(suite.name));

  const work = mkdtempSync(join(tmpdir(), "corral-conformance-"));
  const server = await startCorral(options, work);
  process.stdout.write(`corral serving ${server.url} (log: ${server.log})\n`);

  const problems = [];
  const summaries = [];
  try {
    for (const suite of suites) {
      const version = packageVersion(suite.module);
      const outDir = join(work, suite.name);
      mkdirSync(outDir, { recursive: true });
      const logFile = join(work, `${suite.name}.log`);
      process.stdout.write(`\n== suite ${suite.name}: @modelcontextprotocol/conformance ${version}, ${suite.describe}\n`);
      const started = Date.now();
      const run = await runSuite(suite, server.url, outDir, logFile, options.verbose);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const results = readResults(outDir);
      if (results.size === 0) {
        problems.push(`suite ${suite.name} produced no results (exit ${run.code ?? run.signal}); its log:\n${tail(logFile)}`);
        continue;
      }
      if (!server.isRunning()) problems.push(`corral exited during suite ${suite.name}; its log:\n${tail(server.log)}`);
      const scored = scoredScenarios(suite);
      let passed = 0;
      let scoredPassed = 0;
      const listed = expected.get(suite.name);
      for (const [scenario, checks] of results) {
        const verdict = judge(suite.name, scenario, checks, listed.get(scenario));
        const isScored = scored ? scored.has(scenario) : true;
        if (verdict.passed) {
          passed++;
          if (isScored) scoredPassed++;
        }
        const tag = scored && !isScored ? " (not scored)" : "";
        const status = verdict.ok ? (verdict.passed ? "pass" : "fail") : verdict.passed ? "PASS" : "FAIL";
        process.stdout.write(`  ${status} ${scenario}${tag}${verdict.ok ? "" : "  UNEXPECTED"}\n`);
        const details = [
          ...(verdict.ok && !options.verbose ? verdict.notes.slice(0, 1) : verdict.notes),
          ...(verdict.ok && !options.verbose ? [] : verdict.problems.length ? verdict.problems : verdict.failing),
        ];
        for (const line of details) process.stdout.write(`       ${line}\n`);
        problems.push(...verdict.problems);
      }
      for (const scenario of listed.keys()) {
        if (!results.has(scenario)) {
          problems.push(`${suite.name} ${scenario} is listed in expected-failures.txt but the suite did not run it: remove it`);
        }
      }
      const scoredNote = scored ? `; scored by the requirement set: ${scoredPassed}/${[...results.keys()].filter((s) => scored.has(s)).length}` : "";
      const line = `suite ${suite.name} (conformance ${version}): ${passed}/${results.size} scenarios passed${scoredNote} [${seconds} s]`;
      summaries.push(line);
      process.stdout.write(`${line}\n`);
    }
  } finally {
    await server.stop();
  }

  process.stdout.write(`\n${summaries.join("\n")}\n`);
  if (options.keep || problems.length) process.stdout.write(`results and logs kept in ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
  if (problems.length) {
    process.stdout.write(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exit(1);
  }
  process.stdout.write("every failure is expected (tests/conformance/expected-failures.txt)\n");
}

main().catch((err) => die(err?.stack ?? String(err)));
