#!/usr/bin/env node
// Drives an MCP server with the TypeScript SDK v2 client (@modelcontextprotocol/client 2.4).
//
//   node client-v2.mjs [--mode auto|legacy|2026-07-28] stdio -- CMD ARGS...
//   node client-v2.mjs [--mode auto|legacy|2026-07-28] http URL
//
// `--mode` is the SDK's version negotiation: `auto` (the default here; the
// SDK's own default is `legacy`) probes `server/discover` and falls back to
// `initialize`, `legacy` is the 2025-11-25 handshake, a version pins the
// 2026 stateless era. Lists every tool, calls `add` {a: 2, b: 3} and `divide`
// by zero, and prints
// {"tools": [...], "add": structuredContent, "add_text": text, "divide_is_error": bool}.
// Any failure exits 1 with the reason on stderr; the negotiated protocol
// version goes to stderr. Runs on Node 20 and 22.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";

import { TIMEOUT_MS, exercise, fail, parseArgs, runMain, transportFor } from "./common.mjs";

const NAME = "client-v2";

runMain(NAME, async () => {
  const options = parseArgs(NAME, process.argv.slice(2), "auto");
  const mode = options.mode === "auto" || options.mode === "legacy" ? options.mode : { pin: options.mode };
  const transport = transportFor(options, { StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment });
  const client = new Client(
    { name: "corral-test-client-v2", version: "1.0.0" },
    { versionNegotiation: { mode } },
  );
  await client.connect(transport, { timeout: TIMEOUT_MS });
  const server = client.getServerVersion();
  process.stderr.write(
    `${NAME}: connected with protocol ${client.getNegotiatedProtocolVersion()} (${client.getProtocolEra()} era) ` +
      `to ${server?.name ?? "an anonymous server"}\n`,
  );
  const output = await exercise(NAME, {
    listTools: (cursor) => client.listTools(cursor ? { cursor } : undefined, { timeout: TIMEOUT_MS }),
    callTool: (tool, args) => client.callTool({ name: tool, arguments: args }, { timeout: TIMEOUT_MS }),
  });
  await client.close();
  process.stdout.write(`${JSON.stringify(output)}\n`);
});
