#!/usr/bin/env node
// Drives an MCP server with the TypeScript SDK v1 (@modelcontextprotocol/sdk 1.32,
// 2025-11-25 `initialize` handshake only).
//
//   node client-sdk.mjs stdio -- CMD ARGS...   spawn CMD, MCP on its stdin/stdout
//   node client-sdk.mjs http URL               streamable HTTP at URL
//
// Lists every tool, calls `add` {a: 2, b: 3} and `divide` by zero, and prints
// {"tools": [...], "add": structuredContent, "add_text": text, "divide_is_error": bool}.
// Any failure exits 1 with the reason on stderr. Runs on Node 20 and 22.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { TIMEOUT_MS, exercise, fail, parseArgs, runMain, transportFor } from "./common.mjs";

const NAME = "client-sdk";

runMain(NAME, async () => {
  const options = parseArgs(NAME, process.argv.slice(2), "legacy");
  if (options.mode !== "legacy") {
    fail(NAME, `@modelcontextprotocol/sdk 1.x only speaks the initialize handshake (--mode legacy), not ${options.mode}`);
  }
  const transport = transportFor(options, { StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment });
  const client = new Client({ name: "corral-test-client-sdk", version: "1.0.0" });
  await client.connect(transport, { timeout: TIMEOUT_MS });
  const server = client.getServerVersion();
  process.stderr.write(
    `${NAME}: connected (initialize handshake) to ${server?.name ?? "an anonymous server"} ${server?.version ?? ""}\n`,
  );
  const output = await exercise(NAME, {
    listTools: (cursor) => client.listTools(cursor ? { cursor } : undefined, { timeout: TIMEOUT_MS }),
    callTool: (tool, args) => client.callTool({ name: tool, arguments: args }, undefined, { timeout: TIMEOUT_MS }),
  });
  if (options.transport === "http") {
    // Ends the session politely (DELETE); a server without sessions may refuse it.
    await transport.terminateSession().catch(() => {});
  }
  await client.close();
  process.stdout.write(`${JSON.stringify(output)}\n`);
});
