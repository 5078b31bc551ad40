#!/usr/bin/env node
// Drives an MCP server with the MCP Inspector CLI 2.x (@modelcontextprotocol/inspector
// `--cli`), one Inspector process per request, and prints the same JSON as the
// other clients. Needs Node 22.19 or later: run it with node_modules/.bin/node.
//
//   node_modules/.bin/node client-inspector.mjs [--mode legacy|auto|2026-07-28] stdio -- CMD ARGS...
//   node_modules/.bin/node client-inspector.mjs [--mode legacy|auto|2026-07-28] http URL
//
// `--mode` maps to the Inspector's `--protocol-era` (legacy, auto, modern);
// the default is the Inspector's own for ad-hoc targets, legacy. The three
// Inspector command lines it runs are printed to stderr; see ../README.md.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { TIMEOUT_MS, exercise, fail, parseArgs, runMain } from "./common.mjs";

const NAME = "client-inspector";
const INSPECTOR = join(
  dirname(fileURLToPath(import.meta.url)),
  "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);
const ERAS = { legacy: "legacy", auto: "auto", "2026-07-28": "modern" };

runMain(NAME, async () => {
  const options = parseArgs(NAME, process.argv.slice(2), "legacy");
  const era = ERAS[options.mode] ?? fail(NAME, `--mode must be one of ${Object.keys(ERAS).join(", ")}`);
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    fail(NAME, `the Inspector CLI needs Node 22.19 or later, this is ${process.version}; run it with tests/clients/node/node_modules/.bin/node`);
  }
  const target =
    options.transport === "stdio"
      ? ["--", options.command, ...options.args]
      : ["--transport", "http", "--server-url", options.url];

  // Runs one Inspector request; its `--format json` output is {"result": ...}
  // or, on stderr, {"error": {"code", "message"}} (exit 5 for an isError result).
  const inspect = (method, extra = []) =>
    new Promise((resolve, reject) => {
      const args = [INSPECTOR, "--cli", "--format", "json", "--quiet", "--protocol-era", era, "--method", method, ...extra, ...target];
      process.stderr.write(`${NAME}: mcp-inspector ${args.slice(1).map(quote).join(" ")}\n`);
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        let parsed;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          return reject(new Error(`Inspector ${method} exited ${code} without JSON on stdout:\n${stdout}${stderr}`));
        }
        if (parsed.result === undefined) {
          return reject(new Error(`Inspector ${method} exited ${code}: ${stdout}${stderr}`));
        }
        resolve(parsed.result);
      });
    });

  const output = await exercise(NAME, {
    listTools: (cursor) => inspect("tools/list", cursor ? ["--cursor", cursor] : []),
    callTool: (tool, args) => inspect("tools/call", ["--tool-name", tool, "--tool-args-json", JSON.stringify(args)]),
  });
  process.stdout.write(`${JSON.stringify(output)}\n`);
});

/** Quotes `arg` for a POSIX shell when it needs it (for the logged command lines). */
function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
