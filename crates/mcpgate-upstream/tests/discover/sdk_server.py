"""An MCP server on the official Python SDK, for discovery's tests.

Usage: sdk_server.py   (with the SDK 2.x venv: MCPServer, dual-era; with 1.x: FastMCP, handshake only)

Serves Streamable HTTP on http://127.0.0.1:<free port>/mcp with two tools, `echo` and `add`,
and prints `LISTENING <port>` once it accepts connections.
"""

import socket

import anyio
import uvicorn

try:
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import FastMCP as Server

server = Server("discovery-sdk-server")


@server.tool()
async def echo(text: str) -> str:
    """Echoes the text."""
    return text


@server.tool()
async def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


async def main() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    try:
        app = server.streamable_http_app(host="127.0.0.1")
    except TypeError:  # SDK 1.x takes its host in the settings
        server.settings.host = "127.0.0.1"
        app = server.streamable_http_app()
    runner = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(runner.serve, [listener])
        while not runner.started:
            await anyio.sleep(0.01)
        print(f"LISTENING {port}", flush=True)


if __name__ == "__main__":
    anyio.run(main)
