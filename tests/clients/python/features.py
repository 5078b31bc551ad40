#!/usr/bin/env python3
"""Drives the `corral:mcp` features of a server with the official Python SDK.

Usage:
    features.py [--mode legacy|2026-07-28] stdio -- CMD ARGS...
    features.py [--mode legacy|2026-07-28] http URL

With --call TOOL JSON, the client calls one tool of any server and prints
the tool's description, its content blocks, the log messages and the
progress reports it received.

With --examples, the server must serve the example components `docs-server`
and `fs-tools`: the client lists and reads the documents, fills in the
`summarize` prompt, completes its argument and calls `search` with a progress
callback, and prints what it received.

With --flood, the server must serve the `hostile` test component instead:
the client calls `notice_flood` (10,000 log messages and progress reports of
20,000 bytes each) and prints how many of each arrived, the longest log text
and the last progress value.

Otherwise the server must serve the `conformance` test component. The client asks for
log messages at level debug, then: calls `test_tool_with_progress` with a
progress callback, `test_tool_with_logging` with a logging callback,
`test_image_content` and `test_multiple_content_types`; lists and reads
resources (a text, a binary, a template, a missing one); lists prompts, gets
one with arguments and one with an image; completes a prompt argument. It
prints one JSON object with what it received. Any failure exits non-zero with
the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from client import TIMEOUT_SECONDS, parse_with_transport, run_main

NAME = "python features client"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", default="legacy", help="protocol negotiation: legacy or 2026-07-28")
    parser.add_argument(
        "--call",
        nargs=2,
        metavar=("TOOL", "JSON"),
        help="instead: call TOOL with the JSON arguments and print its content, logs and progress",
    )
    parser.add_argument(
        "--examples",
        action="store_true",
        help="instead: use the example components `docs` (docs-server) and `files` (fs-tools)",
    )
    parser.add_argument(
        "--flood",
        action="store_true",
        help="instead: call the hostile component's notice_flood(10000, 20000) and count what arrives",
    )
    return parse_with_transport(parser, argv)


def blocks(result: Any) -> list[dict[str, Any]]:
    return [block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.types import PromptReference

    if args.transport == "stdio":
        server: Any = StdioServerParameters(command=args.command[0], args=args.command[1:])
    else:
        server = args.url

    logs: list[dict[str, Any]] = []

    async def on_log(params: Any) -> None:
        logs.append({"level": str(params.level), "data": params.data, "logger": params.logger})

    progress: list[list[Any]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append([done, total, message])

    out: dict[str, Any] = {}
    async with Client(
        server,
        mode=args.mode,
        read_timeout_seconds=TIMEOUT_SECONDS,
        logging_callback=on_log,
        log_level="debug",
    ) as client:
        out["protocol"] = client.protocol_version
        if args.mode == "legacy":
            await client.set_logging_level("debug")
        if args.call:
            tool, arguments = args.call
            listed = await client.list_tools()
            out["description"] = next((t.description for t in listed.tools if t.name == tool), None)
            result = await client.call_tool(tool, json.loads(arguments), progress_callback=on_progress)
            out["content"] = blocks(result)
            out["is_error"] = bool(result.is_error)
            out["logs"] = logs
            out["progress"] = progress
            return out
        if args.examples:
            listed = await client.list_resources()
            out["resources"] = sorted(r.uri for r in listed.resources)
            first = sorted(r.uri for r in listed.resources)[0]
            read = await client.read_resource(first)
            out["read"] = [c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in read.contents]
            prompt = await client.get_prompt("summarize", {"uri": first})
            out["prompt"] = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in prompt.messages]
            completed = await client.complete(
                PromptReference(type="ref/prompt", name="summarize"),
                {"name": "uri", "value": "file:///docs/"},
            )
            out["completion"] = completed.completion.values
            result = await client.call_tool("search", {"path": "/data", "needle": "corral"}, progress_callback=on_progress)
            out["search"] = result.structured_content
            out["progress"] = progress
            out["logs"] = logs
            return out
        if args.flood:
            result = await client.call_tool("notice_flood", {"count": 10000, "size": 20000}, progress_callback=on_progress)
            out["result"] = result.structured_content
            out["logs"] = len(logs)
            out["longest_log"] = max((len(str(entry["data"])) for entry in logs), default=0)
            out["last_log"] = logs[-1] if logs else None
            out["progress"] = len(progress)
            out["last_progress"] = progress[-1][0] if progress else None
            again = await client.call_tool("notice_flood", {"count": 1, "size": 1}, progress_callback=on_progress)
            out["again"] = again.structured_content
            return out

        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        out["progress_result"] = blocks(result)
        out["progress"] = progress

        result = await client.call_tool("test_tool_with_logging", {})
        out["logging_result"] = blocks(result)
        out["logs"] = logs

        out["image"] = blocks(await client.call_tool("test_image_content", {}))
        out["mixed"] = blocks(await client.call_tool("test_multiple_content_types", {}))

        listed = await client.list_resources()
        out["resources"] = sorted(r.uri for r in listed.resources)
        templates = await client.list_resource_templates()
        out["templates"] = [t.uri_template for t in templates.resource_templates]
        for name, uri in [("text", "test://static-text"), ("binary", "test://static-binary"), ("template", "test://template/42/data")]:
            read = await client.read_resource(uri)
            out[f"read_{name}"] = [c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in read.contents]
        try:
            await client.read_resource("test://no-such-resource")
            out["missing"] = "no error"
        except Exception as err:  # noqa: BLE001 - the SDK raises its MCPError
            error = getattr(err, "error", None)
            out["missing"] = {"code": getattr(error, "code", None), "data": getattr(error, "data", None)}

        prompts = await client.list_prompts()
        out["prompts"] = sorted(p.name for p in prompts.prompts)
        got = await client.get_prompt("test_prompt_with_arguments", {"arg1": "hello", "arg2": "world"})
        out["prompt_args"] = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in got.messages]
        got = await client.get_prompt("test_prompt_with_image")
        out["prompt_image"] = [m.content.type for m in got.messages]
        try:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only one"})
            out["prompt_missing_arg"] = "no error"
        except Exception as err:  # noqa: BLE001
            error = getattr(err, "error", None)
            out["prompt_missing_arg"] = {"code": getattr(error, "code", None), "message": getattr(error, "message", None)}

        completed = await client.complete(
            PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": "par"},
        )
        out["completion"] = completed.completion.values
    return out


def main() -> None:
    run_main(run, parse_args(sys.argv[1:]), NAME)

if __name__ == "__main__":
    main()
