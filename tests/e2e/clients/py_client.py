"""Drives the official Python MCP SDK (2.x or 1.x, whichever is installed) through a proxy.

Usage: py_client.py URL TOKEN [SCRIPT]

SCRIPT is a JSON array of steps. Without it, steps are read from stdin, one JSON object
(or array) per line, and each is answered as soon as it is done, so a test can act
between steps (revoke a grant, check the audit log). One JSON line goes to stdout first
for `initialize`, then one per step:

  {"op": "list"}                       -> {"op": "list", "tools": [names...]}
  {"op": "call", "tool": T, "arguments": {...}, "times": N, "progress": true}
                                       -> {"op": "call", "tool": T, "results": [
                                             {"isError", "text", "structuredContent",
                                              "content", "error": {"code", "message"},
                                              "progress": [{"progress", "total", "at"}],
                                              "started", "finished"}, ...]}

Times are seconds since the Unix epoch. A JSON-RPC error is a result (its code and
message are reported); anything else (HTTP failure, a dead session, a step that takes
longer than its "timeout", default 20 s) is printed as {"op": "transport_error", ...}
and ends the process with status 2: that is the failure a test must see.

With MCPGATE_E2E_SAMPLING_REPLY set, the client declares the sampling capability and
answers every `sampling/createMessage` from the server with that text.

With MCPGATE_E2E_ELICIT_REPLY set (a JSON object), the client declares elicitation and accepts
every elicitation with that content; each call result lists the elicitations answered during
it as "elicitations": [{"message"}].

With MCPGATE_E2E_MODE set (2.x only), the driver uses the high-level `mcp.client.Client` with
that `mode`: "auto" (probe server/discover, fall back to initialize), "legacy" (initialize) or
a version to adopt ("2026-07-28"). At 2026-07-28 an elicitation arrives as an
InputRequiredResult that `Client` answers through the same callback and retries with
inputResponses. The `initialize` line's "protocolVersion" is the version negotiated.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from importlib.metadata import version
from typing import Any

import anyio

from mcp import ClientSession, types

try:  # 1.x: the long-standing helper that takes headers.
    from mcp.client.streamable_http import streamablehttp_client

    SDK_LINE = 1
except ImportError:  # 2.x: bring your own httpx2 client.
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    SDK_LINE = 2

MODE = os.environ.get("MCPGATE_E2E_MODE")
if MODE is not None and SDK_LINE != 2:
    sys.exit("MCPGATE_E2E_MODE needs the 2.x SDK's mcp.client.Client")

try:
    from mcp.shared.exceptions import McpError as ProtocolError
except ImportError:
    from mcp.shared.exceptions import MCPError as ProtocolError

SDK = f"python-mcp {version('mcp')}"
DEFAULT_STEP_TIMEOUT = 20.0

# Elicitations answered since the current call started.
ELICITATIONS: list[dict[str, Any]] = []


class TransportFailure(Exception):
    """Ends the run: the session can no longer be trusted."""


def emit(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


async def list_page(session: Any, cursor: str | None) -> Any:
    if MODE is not None:  # mcp.client.Client
        return await session.list_tools(cursor=cursor)
    if cursor is None:
        return await session.list_tools()
    return await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor))


async def list_tools(session: ClientSession) -> dict[str, Any]:
    names: list[str] = []
    cursor = None
    while True:
        page = dump(await list_page(session, cursor))
        names.extend(tool["name"] for tool in page.get("tools", []))
        cursor = page.get("nextCursor")
        if not cursor:
            return {"op": "list", "tools": names}


async def call_once(session: ClientSession, step: dict[str, Any]) -> dict[str, Any]:
    progress: list[dict[str, Any]] = []

    async def on_progress(value: float, total: float | None, message: str | None = None) -> None:
        progress.append({"progress": value, "total": total, "message": message, "at": time.time()})

    outcome: dict[str, Any] = {"started": time.time()}
    ELICITATIONS.clear()
    try:
        result = await session.call_tool(
            step["tool"],
            step.get("arguments", {}),
            progress_callback=on_progress if step.get("progress") else None,
        )
    except ProtocolError as error:
        outcome["error"] = {"code": error.error.code, "message": error.error.message}
    else:
        body = dump(result)
        outcome["isError"] = bool(body.get("isError", False))
        outcome["content"] = body.get("content", [])
        outcome["text"] = "".join(
            block.get("text", "") for block in outcome["content"] if block.get("type") == "text"
        )
        outcome["structuredContent"] = body.get("structuredContent")
    outcome["finished"] = time.time()
    outcome["progress"] = progress
    outcome["elicitations"] = list(ELICITATIONS)
    return outcome


async def run_step(session: ClientSession, step: dict[str, Any]) -> dict[str, Any]:
    op = step.get("op")
    if op == "list":
        return await list_tools(session)
    if op == "call":
        results = [await call_once(session, step) for _ in range(int(step.get("times", 1)))]
        return {"op": "call", "tool": step["tool"], "results": results}
    if op == "sleep":
        await anyio.sleep(float(step.get("seconds", 0)))
        return {"op": "sleep"}
    raise ValueError(f"unknown op {op!r}")


async def steps_from(script: str | None):
    if script is not None:
        for step in json.loads(script):
            yield step
        return
    while True:
        line = await anyio.to_thread.run_sync(sys.stdin.readline)
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        value = json.loads(line)
        for step in value if isinstance(value, list) else [value]:
            yield step


async def drive(session: ClientSession, script: str | None) -> None:
    started = time.time()
    init = dump(await session.initialize())
    emit(
        {
            "op": "initialize",
            "sdk": SDK,
            "protocolVersion": init.get("protocolVersion"),
            "serverInfo": init.get("serverInfo"),
            "elapsed": time.time() - started,
        }
    )
    await run_steps(session, script)


async def run_steps(session: Any, script: str | None) -> None:
    async for step in steps_from(script):
        timeout = float(step.get("timeout", DEFAULT_STEP_TIMEOUT))
        try:
            with anyio.fail_after(timeout):
                emit(await run_step(session, step))
        except TimeoutError as error:
            raise TransportFailure(f"step {step.get('op')} took longer than {timeout} s") from error


def session_options() -> dict[str, Any]:
    options: dict[str, Any] = {}
    reply = os.environ.get("MCPGATE_E2E_SAMPLING_REPLY")
    if reply is not None:

        async def sample(_context: Any, _params: Any) -> Any:
            content = types.TextContent(type="text", text=reply)
            return types.CreateMessageResult(role="assistant", content=content, model="e2e-stub")

        options["sampling_callback"] = sample
    elicit_reply = os.environ.get("MCPGATE_E2E_ELICIT_REPLY")
    if elicit_reply is not None:
        content = json.loads(elicit_reply)

        async def elicit(_context: Any, params: Any) -> Any:
            ELICITATIONS.append({"message": getattr(params, "message", None)})
            return types.ElicitResult(action="accept", content=content)

        options["elicitation_callback"] = elicit
    return options


async def drive_client(client: Any, script: str | None) -> None:
    """`drive` for the high-level 2.x `Client`, which negotiated when it was entered."""
    info = client.server_info
    emit(
        {
            "op": "initialize",
            "sdk": SDK,
            "mode": MODE,
            "protocolVersion": client.protocol_version,
            "serverInfo": dump(info) if info is not None else None,
        }
    )
    await run_steps(client, script)


async def main(url: str, token: str, script: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if os.environ.get("MCPGATE_E2E_TRANSPORT") == "sse":
        # The legacy HTTP+SSE transport (2024-11-05); both SDK lines share this call.
        from mcp.client.sse import sse_client

        async with sse_client(url, headers=headers) as (read, write):
            async with ClientSession(read, write, **session_options()) as session:
                await drive(session, script)
        return
    if SDK_LINE == 1:
        async with streamablehttp_client(url, headers=headers) as (read, write, _session_id):
            async with ClientSession(read, write, **session_options()) as session:
                await drive(session, script)
    elif MODE is not None:
        from mcp.client import Client

        timeout = httpx2.Timeout(30.0, read=300.0)
        async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
            transport = streamable_http_client(url, http_client=http)
            async with Client(transport, mode=MODE, **session_options()) as client:
                await drive_client(client, script)
    else:
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write, **session_options()) as session:
                    await drive(session, script)


def describe(error: BaseException) -> str:
    """The innermost causes of an exception group, or the exception itself."""
    inner = getattr(error, "exceptions", None)
    if inner:
        return "; ".join(describe(e) for e in inner)
    return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    try:
        anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    except BaseException as error:  # noqa: BLE001 - every failure is reported, then fails the run.
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        traceback.print_exc(file=sys.stderr)
        emit({"op": "transport_error", "sdk": SDK, "error": describe(error)})
        sys.exit(2)
