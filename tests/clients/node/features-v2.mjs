#!/usr/bin/env node
// Drives the `corral:mcp` features of a server with the TypeScript SDK v2
// client (@modelcontextprotocol/client 2.4), in either protocol era.
//
//   node features-v2.mjs [--mode legacy|2026-07-28] stdio -- CMD ARGS...
//   node features-v2.mjs [--mode legacy|2026-07-28] http URL
//
// The server must serve the `conformance` test component. The client asks
// for log messages at level debug, then calls `test_tool_with_progress` with
// a progress callback, `test_tool_with_logging`, `test_image_content`; lists
// and reads resources (text, binary, template, missing); lists prompts, gets
// one with arguments; completes a prompt argument. It prints one JSON object
// with what it received (the same keys as tests/clients/python/features.py).
// Any failure exits 1 with the reason on stderr.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";

import { TIMEOUT_MS, parseArgs, runMain, transportFor } from "./common.mjs";

const NAME = "features-v2";

runMain(NAME, async () => {
  const options = parseArgs(NAME, process.argv.slice(2), "legacy");
  const mode = options.mode === "legacy" ? "legacy" : { pin: options.mode };
  const transport = transportFor(options, { StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment });
  const client = new Client({ name: "corral-test-features-v2", version: "1.0.0" }, { versionNegotiation: { mode } });
  const logs = [];
  client.setNotificationHandler("notifications/message", (notification) => {
    logs.push({ level: notification.params.level, data: notification.params.data, logger: notification.params.logger ?? null });
  });
  await client.connect(transport, { timeout: TIMEOUT_MS });
  const out = { protocol: client.getNegotiatedProtocolVersion() };
  // The 2025 era sets the level for the session; the 2026 era has no
  // logging/setLevel, and this SDK sends no level of its own, so the call
  // that should log names its level in `_meta`.
  const legacy = options.mode === "legacy";
  if (legacy) await client.setLoggingLevel("debug", { timeout: TIMEOUT_MS });
  const logMeta = legacy ? {} : { _meta: { "io.modelcontextprotocol/logLevel": "debug" } };

  const progress = [];
  const onprogress = (p) => progress.push([p.progress, p.total ?? null, p.message ?? null]);
  out.progress_result = (await client.callTool({ name: "test_tool_with_progress", arguments: {} }, { timeout: TIMEOUT_MS, onprogress })).content;
  out.progress = progress;
  out.logging_result = (
    await client.callTool({ name: "test_tool_with_logging", arguments: {}, ...logMeta }, { timeout: TIMEOUT_MS })
  ).content;
  out.logs = logs;
  out.image = (await client.callTool({ name: "test_image_content", arguments: {} }, { timeout: TIMEOUT_MS })).content;
  out.mixed = (await client.callTool({ name: "test_multiple_content_types", arguments: {} }, { timeout: TIMEOUT_MS })).content;

  out.resources = (await client.listResources()).resources.map((r) => r.uri).sort();
  out.templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
  for (const [name, uri] of [["text", "test://static-text"], ["binary", "test://static-binary"], ["template", "test://template/42/data"]]) {
    out[`read_${name}`] = (await client.readResource({ uri })).contents;
  }
  try {
    await client.readResource({ uri: "test://no-such-resource" });
    out.missing = "no error";
  } catch (error) {
    out.missing = { code: error.code ?? null, data: error.data ?? null };
  }

  out.prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
  out.prompt_args = (await client.getPrompt({ name: "test_prompt_with_arguments", arguments: { arg1: "hello", arg2: "world" } })).messages;
  out.prompt_image = (await client.getPrompt({ name: "test_prompt_with_image" })).messages.map((m) => m.content.type);
  try {
    await client.getPrompt({ name: "test_prompt_with_arguments", arguments: { arg1: "only one" } });
    out.prompt_missing_arg = "no error";
  } catch (error) {
    out.prompt_missing_arg = { code: error.code ?? null, message: error.message ?? null };
  }
  const completed = await client.complete({
    ref: { type: "ref/prompt", name: "test_prompt_with_arguments" },
    argument: { name: "arg1", value: "par" },
  });
  out.completion = completed.completion.values;
  await client.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
