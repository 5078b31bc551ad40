#!/usr/bin/env python3
"""Drives an MCP server with the official Python SDK (`mcp`, see requirements.txt).

Usage:
    client.py [--mode auto|legacy|2026-07-28] stdio -- CMD ARGS...
    client.py [--mode auto|legacy|2026-07-28] http URL

Connects (stdio: spawns CMD ARGS... and speaks MCP on its stdin/stdout;
http: streamable HTTP at URL), lists every tool, calls `add` with
{"a": 2, "b": 3} and `divide` with divisor 0, and prints one JSON object:

    {"tools": [names], "add": structuredContent, "add_text": text,
     "divide_is_error": bool}

`--mode` is the SDK's protocol negotiation: `auto` (the default) tries the
2026-07-28 `server/discover` first and falls back to the `initialize`
handshake, `legacy` forces `initialize`, a version string adopts it directly.
The negotiated version is reported on stderr. Any failure exits non-zero with
the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

TIMEOUT_SECONDS = 60.0


def fail(message: str, name: str = "python client") -> None:
    print(f"{name}: {message}", file=sys.stderr)
    sys.exit(1)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", default="auto", help="protocol negotiation: auto, legacy or a version (default: auto)")
    return parse_with_transport(parser, argv)


def parse_with_transport(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Adds the `stdio -- CMD ARGS...` and `http URL` transports to `parser`
    (shared with features.py) and parses `argv`."""
    sub = parser.add_subparsers(dest="transport", required=True)
    stdio = sub.add_parser("stdio", help="spawn a server and talk over its stdin/stdout")
    stdio.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    http = sub.add_parser("http", help="connect over streamable HTTP")
    http.add_argument("url")
    args = parser.parse_args(argv)
    if args.transport == "stdio":
        command = args.command
        if command and command[0] == "--":
            command = command[1:]
        if not command:
            parser.error("stdio needs a command: client.py stdio -- CMD ARGS...")
        args.command = command
    return args


def text_of(result: Any) -> str | None:
    for block in result.content:
        if getattr(block, "type", None) == "text":
            return block.text
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from mcp import Client
        from mcp.client.stdio import StdioServerParameters
    except ImportError as err:
        fail(f"the mcp package is not installed ({err}); run scripts/install-test-clients")

    if args.transport == "stdio":
        server: Any = StdioServerParameters(command=args.command[0], args=args.command[1:])
    else:
        server = args.url

    async with Client(server, mode=args.mode, read_timeout_seconds=TIMEOUT_SECONDS) as client:
        info = client.server_info
        print(
            f"python client: connected with protocol {client.protocol_version}"
            f" to {info.name if info else 'an anonymous server'}",
            file=sys.stderr,
        )

        names: list[str] = []
        cursor: str | None = None
        for _ in range(100):
            page = await client.list_tools(cursor=cursor)
            names.extend(tool.name for tool in page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        for needed in ("add", "divide"):
            if needed not in names:
                fail(f"the server lists no `{needed}` tool; it lists {names}")

        add = await client.call_tool("add", {"a": 2, "b": 3})
        if add.is_error:
            fail(f"add failed: {text_of(add)!r}")
        divide = await client.call_tool("divide", {"dividend": 1, "divisor": 0})

        return {
            "tools": names,
            "add": add.structured_content,
            "add_text": text_of(add),
            "divide_is_error": bool(divide.is_error),
        }


def main() -> None:
    run_main(run, parse_args(sys.argv[1:]), "python client")


def run_main(run: Any, args: argparse.Namespace, name: str) -> None:
    """Runs `run(args)` within the timeout and prints its JSON object; any
    failure exits non-zero, naming each cause of an exception group."""
    try:
        output = asyncio.run(asyncio.wait_for(run(args), timeout=2 * TIMEOUT_SECONDS))
    except SystemExit:
        raise
    except BaseException as err:  # noqa: BLE001 - report every failure, including exception groups
        detail = repr(err)
        for sub in getattr(err, "exceptions", ()):  # an exception group: name each cause
            detail += f"\n  {sub!r}"
        fail(f"failed: {detail}", name)
    print(json.dumps(output))


if __name__ == "__main__":
    main()
