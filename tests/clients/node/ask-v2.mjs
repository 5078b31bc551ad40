#!/usr/bin/env node
// Answers a tool's questions (`corral:mcp/client`) with the TypeScript SDK
// v2 client (@modelcontextprotocol/client 2.4), in either protocol era.
//
//   node ask-v2.mjs [--mode legacy|2026-07-28] [--form accept|decline] [--sample TEXT]
//                   --call TOOL JSON stdio -- CMD ARGS...
//   node ask-v2.mjs ... http URL
//
// The client declares elicitation (and sampling with --sample), answers each
// form as --form says (`accept` fills in every required field: booleans
// true, numbers 1, strings "yes"), calls TOOL once and prints one JSON
// object, like tests/clients/python/ask.py:
//
//   {"protocol", "calls": [{"is_error", "structured", "text"}], "forms": [messages]}
//
// In the 2026-07-28 era the SDK fulfils an input-required result through the
// same handlers and retries by itself. Any failure exits 1 with the reason.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";

import { TIMEOUT_MS, fail, parseArgs, runMain, transportFor } from "./common.mjs";

const NAME = "ask-v2";

/** Takes `--NAME VALUE` pairs off the front of `argv`. */
function takeFlags(argv, names) {
  const flags = {};
  const rest = [...argv];
  while (names.includes(rest[0])) {
    const name = rest.shift().slice(2);
    flags[name] = name === "call" ? [rest.shift(), rest.shift()] : rest.shift();
  }
  return { flags, rest };
}

function filled(schema) {
  const values = {};
  const properties = schema?.properties ?? {};
  for (const name of schema?.required ?? Object.keys(properties)) {
    const type = properties[name]?.type;
    values[name] = type === "boolean" ? true : type === "number" || type === "integer" ? 1 : "yes";
  }
  return values;
}

runMain(NAME, async () => {
  const argv = process.argv.slice(2);
  const modeFlags = [];
  while (argv[0] === "--mode") modeFlags.push(argv.shift(), argv.shift());
  const { flags, rest } = takeFlags(argv, ["--form", "--sample", "--call"]);
  if (!flags.call) fail(NAME, "--call TOOL JSON is required");
  const options = parseArgs(NAME, [...modeFlags, ...rest], "legacy");
  const mode = options.mode === "legacy" ? "legacy" : { pin: options.mode };
  const capabilities = { elicitation: {} };
  if (flags.sample !== undefined) capabilities.sampling = {};
  const client = new Client(
    { name: "corral-test-ask-v2", version: "1.0.0" },
    { versionNegotiation: { mode }, capabilities },
  );
  const forms = [];
  client.setRequestHandler("elicitation/create", async (request) => {
    forms.push(request.params.message);
    if (flags.form === "decline") return { action: "decline" };
    return { action: "accept", content: filled(request.params.requestedSchema) };
  });
  if (flags.sample !== undefined) {
    client.setRequestHandler("sampling/createMessage", async () => ({
      role: "assistant",
      content: { type: "text", text: flags.sample },
      model: "test-model",
      stopReason: "endTurn",
    }));
  }
  const transport = transportFor(options, { StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment });
  await client.connect(transport, { timeout: TIMEOUT_MS });
  const out = { protocol: client.getNegotiatedProtocolVersion(), calls: [] };
  const [tool, args] = flags.call;
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) }, { timeout: TIMEOUT_MS });
  out.calls.push({
    is_error: result.isError === true,
    structured: result.structuredContent ?? null,
    text: result.content?.find((block) => block.type === "text")?.text ?? null,
  });
  out.forms = forms;
  await client.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
