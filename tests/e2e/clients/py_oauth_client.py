"""Drives the official Python MCP SDK 2.x's OAuth client (mcp.client.auth.OAuthClientProvider)
through a proxy URL, with no pre-shared token.

Usage: py_oauth_client.py URL

The SDK meets the proxy's 401, reads its Protected Resource Metadata and mcpgate's
authorization server metadata, registers (Dynamic Client Registration: the SDK only sends a
Client ID Metadata Document URL over https) and opens the authorization URL. Opening it is
this driver's job: it prints {"op": "authorize", "url": URL} and reads one line from stdin,
{"callback": URL}, the address the browser was sent back to after the test did the consent
step through the dashboard. The SDK then checks `state` and `iss` and exchanges the code.

Then the protocol of py_client.py: {"op": "initialize", ...}, and one JSON line per step read
from stdin (list, call, sleep), plus
  {"op": "tokens"}   -> {"op": "tokens", "access_token", "refresh_token", "client_id"}
  {"op": "expire"}   -> {"op": "expire"}: the stored access token counts as expired, so the
                        SDK refreshes it before its next request.
An authorization the SDK starts later (the proxy refused its token) prints another
"authorize" line; the test may answer {"callback": ...} again or {"refuse": true} to end.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

import py_client as base

REDIRECT_URI = "http://127.0.0.1:33418/callback"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


async def read_line() -> dict[str, Any]:
    line = await anyio.to_thread.run_sync(sys.stdin.readline)
    if not line:
        raise base.TransportFailure("stdin closed while waiting for the authorization callback")
    return json.loads(line)


async def redirect(url: str) -> None:
    base.emit({"op": "authorize", "url": url})


async def callback() -> AuthorizationCodeResult:
    answer = await read_line()
    if answer.get("refuse"):
        raise base.TransportFailure("the test refused the authorization")
    query = parse_qs(urlparse(answer["callback"]).query)
    if "error" in query:
        raise base.TransportFailure(f"authorization failed: {query['error'][0]}")
    first = lambda name: query[name][0] if name in query else None  # noqa: E731
    return AuthorizationCodeResult(code=first("code") or "", state=first("state"), iss=first("iss"))


async def main(url: str) -> None:
    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="mcpgate e2e (Python SDK)",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect,
        callback_handler=callback,
    )
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(auth=provider, timeout=timeout) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = base.dump(await session.initialize())
                base.emit({"op": "initialize", "sdk": base.SDK, "protocolVersion": init.get("protocolVersion")})
                async for step in base.steps_from(None):
                    op = step.get("op")
                    if op == "tokens":
                        tokens = storage.tokens
                        base.emit({
                            "op": "tokens",
                            "access_token": tokens.access_token if tokens else None,
                            "refresh_token": tokens.refresh_token if tokens else None,
                            "client_id": storage.client_info.client_id if storage.client_info else None,
                        })
                    elif op == "expire":
                        provider.context.token_expiry_time = time.time() - 1
                        base.emit({"op": "expire"})
                    else:
                        with anyio.fail_after(float(step.get("timeout", base.DEFAULT_STEP_TIMEOUT))):
                            base.emit(await base.run_step(session, step))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        anyio.run(main, sys.argv[1])
    except BaseException as error:  # noqa: BLE001 - every failure is reported, then fails the run.
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        traceback.print_exc(file=sys.stderr)
        base.emit({"op": "transport_error", "sdk": base.SDK, "error": base.describe(error)})
        sys.exit(2)
