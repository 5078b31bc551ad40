// Shared by client-sdk.mjs, client-v2.mjs and features-v2.mjs: argument parsing, the fixed
// sequence of requests, and the one JSON object both clients print.

export const TIMEOUT_MS = 60_000;

const USAGE = (name) =>
  `usage: ${name} [--mode legacy|auto|2026-07-28] stdio -- CMD ARGS...\n` +
  `       ${name} [--mode legacy|auto|2026-07-28] http URL`;

/** Exits with `message` on stderr, prefixed with the client's name. */
export function fail(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}

/**
 * Parses `[--mode M] stdio -- CMD ARGS...` or `[--mode M] http URL`.
 * Returns `{ mode, transport: "stdio", command, args }` or
 * `{ mode, transport: "http", url }`.
 */
export function parseArgs(name, argv, defaultMode) {
  let mode = defaultMode;
  const rest = [...argv];
  while (rest[0]?.startsWith("--mode")) {
    const flag = rest.shift();
    mode = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : rest.shift();
  }
  const transport = rest.shift();
  if (transport === "stdio") {
    if (rest[0] === "--") rest.shift();
    if (rest.length === 0) fail(name, `stdio needs a command\n${USAGE(name)}`);
    return { mode, transport, command: rest[0], args: rest.slice(1) };
  }
  if (transport === "http" && rest.length === 1) {
    return { mode, transport, url: rest[0] };
  }
  fail(name, USAGE(name));
}

function textOf(result) {
  return result.content?.find((block) => block.type === "text")?.text ?? null;
}

/**
 * Runs the fixed sequence through `api` (`listTools(cursor)` and
 * `callTool(tool, args)`, adapted by each client to its SDK): every tool
 * name, `add` {a: 2, b: 3}, `divide` by zero. Returns the object to print.
 */
export async function exercise(name, api) {
  const tools = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const result = await api.listTools(cursor);
    tools.push(...result.tools.map((tool) => tool.name));
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  for (const needed of ["add", "divide"]) {
    if (!tools.includes(needed)) {
      fail(name, `the server lists no \`${needed}\` tool; it lists ${JSON.stringify(tools)}`);
    }
  }
  const add = await api.callTool("add", { a: 2, b: 3 });
  if (add.isError) fail(name, `add failed: ${JSON.stringify(textOf(add))}`);
  const divide = await api.callTool("divide", { dividend: 1, divisor: 0 });
  return {
    tools,
    add: add.structuredContent ?? null,
    add_text: textOf(add),
    divide_is_error: divide.isError === true,
  };
}

/** Runs `main`, printing its failure (with causes) and exiting 1. */
export function runMain(name, main) {
  const timer = setTimeout(() => fail(name, `no answer within ${(2 * TIMEOUT_MS) / 1000} s`), 2 * TIMEOUT_MS);
  timer.unref();
  main().then(
    () => process.exit(0),
    (err) => {
      let detail = err?.stack ?? String(err);
      for (let cause = err?.cause; cause; cause = cause.cause) detail += `\ncaused by: ${cause?.stack ?? cause}`;
      fail(name, `failed: ${detail}`);
    },
  );
}

/**
 * The transport `options` ask for, built from one SDK's classes (v1 and v2
 * name them alike): a child process on stdio that inherits RUST_LOG, or
 * streamable HTTP at the URL.
 */
export function transportFor(options, { StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment }) {
  if (options.transport !== "stdio") return new StreamableHTTPClientTransport(new URL(options.url));
  const inherited = process.env.RUST_LOG === undefined ? {} : { RUST_LOG: process.env.RUST_LOG };
  return new StdioClientTransport({
    command: options.command,
    args: options.args,
    env: { ...getDefaultEnvironment(), ...inherited },
    stderr: "inherit",
  });
}
