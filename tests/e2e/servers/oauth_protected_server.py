"""An OAuth-protected MCP upstream on the official Python SDK 2.x `MCPServer`.

Usage: oauth_protected_server.py ISSUER [--whoami]
       (ISSUER: the authorization server, e.g. http://127.0.0.1:PORT)

Serves Streamable HTTP on http://127.0.0.1:PORT/mcp as an OAuth 2.1 resource server: it
answers a request without a valid token with 401 and `WWW-Authenticate: Bearer
resource_metadata=...`, serves its Protected Resource Metadata (RFC 9728) naming ISSUER, and
accepts only JWT access tokens signed by a key of ISSUER's JWKS, issued by ISSUER, for its
own URL as audience (RFC 8707), and not expired. When it listens it prints
`MCPGATE_E2E_LISTENING 127.0.0.1:PORT`.

Tools:
  read_notes {topic}   text "notes about <topic>"
  delete_note {id}     text "deleted note <id>"
  whoami {}            text "<sub>": the subject of the token the call came with, so a
                       test sees which upstream user a gateway called as (only with
                       --whoami, so the other tests' tool lists stay as they are)

Test hooks (no token needed; the tests use them and nothing else):
  POST /_test/refuse-seen  from now on refuses every token it accepted so far, as an
                           upstream that revoked or rotated them early would (answers
                           {"refused": n}, the tokens now refused)
  GET  /_test/stats        {"accepted": n, "refused": n}: requests whose token it took or
                           refused
"""

from __future__ import annotations

import socket
import sys

import anyio
import jwt
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer

LISTENING = "MCPGATE_E2E_LISTENING"


class JwksVerifier:
    """Checks signature (the issuer's JWKS), issuer, audience and expiry, and that the
    token (its `jti`) was not refused early through the test hook."""

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKClient(f"{issuer}/jwks", cache_keys=True)
        self.seen: set[str] = set()
        self.refused: set[str] = set()
        self.stats = {"accepted": 0, "refused": 0}

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            key = await anyio.to_thread.run_sync(self.keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "aud", "iss"]},
            )
        except jwt.PyJWTError as error:
            print(f"refused a token: {error}", file=sys.stderr, flush=True)
            self.stats["refused"] += 1
            return None
        jti = str(claims.get("jti") or token)
        if jti in self.refused:
            self.stats["refused"] += 1
            return None
        self.seen.add(jti)
        self.stats["accepted"] += 1
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=claims.get("sub"),
            claims=claims,
        )


def build(issuer: str, url: str, whoami: bool) -> MCPServer:
    verifier = JwksVerifier(issuer, url)
    server = MCPServer(
        "mcpgate-e2e-oauth-server",
        version="1.0.0",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=url,
            required_scopes=["tools"],
            validate_token_resource=False,
        ),
    )

    @server.tool()
    async def read_notes(topic: str, ctx: Context) -> str:
        """Reads the notes about a topic."""
        return f"notes about {topic}"

    @server.tool()
    async def delete_note(id: str) -> str:
        """Deletes a note permanently."""
        return f"deleted note {id}"

    if whoami:

        @server.tool()
        async def whoami() -> str:
            """Reads the name of the signed-in user."""
            token = get_access_token()
            return str(token.subject) if token else "nobody"

    @server.custom_route("/_test/refuse-seen", methods=["POST"])
    async def refuse_seen(request: Request) -> JSONResponse:
        verifier.refused |= verifier.seen
        verifier.seen = set()
        return JSONResponse({"refused": len(verifier.refused)})

    @server.custom_route("/_test/stats", methods=["GET"])
    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(verifier.stats)

    return server


async def main(issuer: str, whoami: bool) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    host, bound = listener.getsockname()
    server = build(issuer, f"http://{host}:{bound}/mcp", whoami)
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(runner.serve, [listener])
        while not runner.started:
            await anyio.sleep(0.01)
        print(f"{LISTENING} {host}:{bound}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--whoami"]):
        sys.exit(__doc__)
    anyio.run(main, sys.argv[1], sys.argv[2:] == ["--whoami"])
