#!/usr/bin/env python3
"""Answers a tool's questions (`corral:mcp/client`) with the official Python SDK.

Usage:
    ask.py [--mode legacy|2026-07-28] [--form accept|decline|never|none]
           [--delay SECONDS] [--sample TEXT] [--roots URI,...]
           --call TOOL JSON [--call TOOL JSON ...] stdio -- CMD ARGS...
    ask.py ... http URL

The client declares elicitation (unless --form none), sampling (with
--sample) and roots (with --roots), answers each form as --form says
(`accept` fills in every field the schema requires: booleans true, strings
"yes", numbers 1; `never` never answers), after --delay seconds, samples
with the text --sample and lists the roots --roots. It calls each tool in
turn and prints one JSON object:

    {"protocol": version, "calls": [{"is_error", "structured", "text"}
                                    or {"error": {"code", "message", "data"}}],
     "forms": [messages], "samples": [last user texts], "roots_asked": count}

In the 2026-07-28 mode the SDK retries an input-required result by itself.
Any failure of the client exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from client import TIMEOUT_SECONDS, parse_with_transport, run_main

NAME = "python ask client"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", default="legacy", help="protocol negotiation: legacy or 2026-07-28")
    parser.add_argument("--form", default="accept", choices=["accept", "decline", "never", "none"])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--sample", help="answer sampling requests with this text (declares sampling)")
    parser.add_argument("--roots", help="comma-separated root URIs (declares roots)")
    parser.add_argument("--call", nargs=2, action="append", metavar=("TOOL", "JSON"), required=True)
    return parse_with_transport(parser, argv)


def filled(schema: dict[str, Any]) -> dict[str, Any]:
    """A value for every required field of a form's schema."""
    values: dict[str, Any] = {}
    properties = schema.get("properties", {})
    for name in schema.get("required", list(properties)):
        kind = properties.get(name, {}).get("type")
        values[name] = {"boolean": True, "number": 1, "integer": 1}.get(kind, "yes")
    return values


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from mcp import Client, types
    from mcp.client.stdio import StdioServerParameters
    from mcp.shared.exceptions import MCPError

    if args.transport == "stdio":
        server: Any = StdioServerParameters(command=args.command[0], args=args.command[1:])
    else:
        server = args.url

    forms: list[str] = []
    samples: list[str] = []
    roots_asked = 0

    async def on_form(_context: Any, params: Any) -> Any:
        forms.append(params.message)
        if args.form == "never":
            await asyncio.Event().wait()
        await asyncio.sleep(args.delay)
        if args.form == "decline":
            return types.ElicitResult(action="decline")
        schema = params.requested_schema
        if not isinstance(schema, dict):
            schema = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        return types.ElicitResult(action="accept", content=filled(schema))

    async def on_sample(_context: Any, params: Any) -> Any:
        last = params.messages[-1].content if params.messages else None
        samples.append(getattr(last, "text", str(last)))
        await asyncio.sleep(args.delay)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=args.sample),
            model="test-model",
            stop_reason="endTurn",
        )

    async def on_roots(_context: Any) -> Any:
        nonlocal roots_asked
        roots_asked += 1
        return types.ListRootsResult(
            roots=[types.Root(uri=uri, name=uri.rsplit("/", 1)[-1]) for uri in args.roots.split(",")]
        )

    options: dict[str, Any] = {}
    if args.form != "none":
        options["elicitation_callback"] = on_form
    if args.sample is not None:
        options["sampling_callback"] = on_sample
    if args.roots is not None:
        options["list_roots_callback"] = on_roots

    out: dict[str, Any] = {"calls": []}
    async with Client(server, mode=args.mode, read_timeout_seconds=TIMEOUT_SECONDS, **options) as client:
        out["protocol"] = client.protocol_version
        for tool, arguments in args.call:
            try:
                result = await client.call_tool(tool, json.loads(arguments))
            except MCPError as err:
                out["calls"].append({"error": {"code": err.code, "message": err.message, "data": err.error.data}})
                continue
            text = next((b.text for b in result.content if getattr(b, "type", None) == "text"), None)
            out["calls"].append(
                {"is_error": bool(result.is_error), "structured": result.structured_content, "text": text}
            )
    out["forms"] = forms
    out["samples"] = samples
    out["roots_asked"] = roots_asked
    return out


def main() -> None:
    run_main(run, parse_args(sys.argv[1:]), NAME)


if __name__ == "__main__":
    main()
