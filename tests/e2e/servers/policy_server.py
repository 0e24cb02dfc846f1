"""A dual-era MCP upstream for the policy journeys, on the official Python SDK 2.x `MCPServer`.

Usage: policy_server.py PORT   (0 picks a free port)

Serves Streamable HTTP on http://127.0.0.1:PORT/mcp and answers both protocol eras on that
one endpoint: 2026-07-28 requests (`server/discover`, per-request `_meta`, no session) and the
2025-11-25 `initialize` handshake with sessions. When it listens it prints one line to stdout,
`MCPGATE_E2E_LISTENING 127.0.0.1:PORT`, with the port it bound.

Tools, each shaped for one policy outcome:
  k8s_run_pod {image}     text "k8s_run_pod ok: <image>" (allowed, argument-checked, rate-limited)
  delete_file {path}      text "deleted <path>" (denied by policy with a reason)
  secret_tool             text "the secret" (hidden by policy)
  restart_service {name}  text "restarted <name>" (held for approval)
  slow_task {steps}       progress 1..steps over about a second, then "slow_task done after N steps"
  ask_name                elicits {"name"} and answers "Hello, <name>!"

`ask_name` fills its parameter with a resolver that returns `Elicit(...)`: `MCPServer` asks in the
negotiated era's way, as an `InputRequiredResult` that the client retries with `inputResponses`
at 2026-07-28, and as an `elicitation/create` request on the call's stream at 2025-11-25.
"""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import anyio
import uvicorn
from pydantic import BaseModel

from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve

LISTENING = "MCPGATE_E2E_LISTENING"

server = MCPServer("mcpgate-e2e-policy-server", version="1.0.0")


class Name(BaseModel):
    name: str


@server.tool()
async def k8s_run_pod(image: str) -> str:
    """Runs a pod from an image."""
    return f"k8s_run_pod ok: {image}"


@server.tool()
async def delete_file(path: str) -> str:
    """Deletes a file."""
    return f"deleted {path}"


@server.tool()
async def secret_tool() -> str:
    """Reveals the secret."""
    return "the secret"


@server.tool()
async def restart_service(name: str) -> str:
    """Restarts a service."""
    return f"restarted {name}"


@server.tool()
async def slow_task(ctx: Context, steps: int = 4) -> str:
    """Works for about a second, reporting progress at each step."""
    for step in range(1, steps + 1):
        await anyio.sleep(1.0 / steps)
        await ctx.report_progress(step, steps, f"step {step} of {steps}")
    return f"slow_task done after {steps} steps"


async def elicit_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


@server.tool()
async def ask_name(who: Annotated[Name, Resolve(elicit_name)]) -> str:
    """Asks the user for their name and greets them."""
    return f"Hello, {who.name}!"


async def main(port: int) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    host, bound = listener.getsockname()
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(runner.serve, [listener])
        while not runner.started:
            await anyio.sleep(0.01)
        print(f"{LISTENING} {host}:{bound}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    anyio.run(main, int(sys.argv[1]))
