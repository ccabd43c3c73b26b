"""An OAuth-protected MCP server built on the official MCP Python SDK (PyPI `mcp`, 2.x), as an
interoperability peer that mcp-vault did not write. The SDK's own handlers do the OAuth protocol:
metadata (RFC 8414 and RFC 9728), dynamic client registration, token endpoint client
authentication, PKCE, refresh, revocation and the bearer check on the MCP endpoint. This file only
supplies the storage behind them: an in-memory provider that approves every authorization request
at once, so a "browser" that just follows redirects (`curl -sL`) completes the login.

    python_sdk_server.py --port-file PATH [--token-lifetime SECONDS]
                         [--transport streamable-http | --transport sse [--sse-path PATH]]

Listens on 127.0.0.1 on a free port, writes the port to PATH once it accepts requests. Set up by
scripts/python-peers, which pins the SDK's version.

Transports (--transport):
  streamable-http (default)  MCP over Streamable HTTP at /mcp; the OAuth resource is BASE/mcp.
  sse                        ONLY the legacy HTTP+SSE transport (2024-11-05), laid out as the SDK
                             does it: GET SSE-PATH opens the stream, whose first event is
                             `endpoint` with data `/messages/?session_id=<hex>`, and the client
                             POSTs its messages there (202, answers arrive on the stream). The
                             OAuth resource is BASE+SSE-PATH. SSE-PATH defaults to /sse, where
                             nothing answers at /mcp (404); with --sse-path /mcp a POST to /mcp
                             gets 405 and a GET opens the stream, the layout in which a client
                             given BASE/mcp falls back from Streamable HTTP to SSE by the spec.

Tools: whoami, slow_count(n) (n progress notifications ~50 ms apart, then "counted n"),
ask_user() (asks the client by elicitation/create and returns the answer).

Test-control routes, plain HTTP without authentication (tests only; never do this in a server):
  POST /test/expire-sessions  forget every MCP session: later requests naming one get 404
  POST /test/revoke-access    every access token issued so far answers 401; refresh tokens still work
  GET|POST /test/stats        JSON counters, see class Stats
"""

import argparse
import asyncio
import json
import os
import secrets
import socket
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qs

import uvicorn
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import Context, MCPServer  # mcp 2.x renamed FastMCP to MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

SCOPE = "mcp"
MESSAGE_PATH = "/messages/"  # where the SSE transport's `endpoint` event sends POSTs (the SDK's default)


class AutoApprovingProvider:
    """Implements the SDK's OAuthAuthorizationServerProvider protocol (a typing.Protocol, so no base
    class is needed). The SDK has already validated every request before calling these methods."""

    def __init__(self, resource: str, token_lifetime: int):
        self.resource, self.token_lifetime = resource, token_lifetime
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.partner: dict[str, str] = {}  # access token <-> refresh token issued together
        self.expiry: dict[str, float] = {}  # access token -> time.time() at which it expires

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.clients[client_info.client_id] = client_info  # client_id and secret were minted by the SDK

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        # The return value is where /authorize redirects to: straight back to the client, approved.
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code, client_id=client.client_id, scopes=params.scopes or [SCOPE], expires_at=time.time() + 300,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource or self.resource, subject="test-user")
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code: str) -> AuthorizationCode | None:
        return self.codes.get(authorization_code)  # the SDK checks the client, expiry, redirect URI and PKCE

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode) -> OAuthToken:
        del self.codes[authorization_code.code]  # single use
        return self._issue(authorization_code)

    async def load_refresh_token(self, client, refresh_token: str) -> RefreshToken | None:
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes: list[str]) -> OAuthToken:
        await self.revoke_token(refresh_token)  # rotation: the old pair stops working
        return self._issue(refresh_token.model_copy(update={"scopes": scopes}))

    async def load_access_token(self, token: str) -> AccessToken | None:
        # The SDK's bearer middleware checks the resource, and expires_at too, but in whole seconds
        # (up to a second late); the exact expiry is checked here, so that short lifetimes are exact.
        if time.time() >= self.expiry.get(token, 0):
            return None
        return self.access.get(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        for value in (token.token, self.partner.get(token.token)):  # revoking one revokes both
            self.access.pop(value, None)
            self.expiry.pop(value, None)
            self.refresh.pop(value, None)
            self.partner.pop(value, None)

    def revoke_all_access_tokens(self) -> int:
        """For /test/revoke-access: every access token stops working, its refresh token does not."""
        revoked = len(self.access)
        self.access.clear()
        self.expiry.clear()  # the partner entries stay, so rotating a refresh token still cleans up
        return revoked

    def _issue(self, grant: AuthorizationCode | RefreshToken) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        common = dict(client_id=grant.client_id, scopes=grant.scopes, resource=grant.resource, subject=grant.subject)
        now = time.time()
        self.access[access] = AccessToken(token=access, expires_at=int(now) + self.token_lifetime, **common)
        self.expiry[access] = now + self.token_lifetime
        self.refresh[refresh] = RefreshToken(token=refresh, **common)
        self.partner[access], self.partner[refresh] = refresh, access
        return OAuthToken(access_token=access, refresh_token=refresh, expires_in=self.token_lifetime,
                          scope=" ".join(grant.scopes))


class Stats:
    """The counters /test/stats reports, as JSON:

      token_requests        POSTs to /token by grant_type, e.g. {"authorization_code": 1, "refresh_token": 2}
      refresh_requests      token_requests["refresh_token"]
      initialize_requests   POSTs to the MCP endpoint carrying an initialize request, whatever the answer
      mcp_get_requests      GETs of the MCP endpoint: standalone streams (with --transport sse: the stream)
      mcp_delete_requests   DELETEs of the MCP endpoint: clients ending their sessions
      sessions_expired      sessions dropped by /test/expire-sessions
      access_tokens_revoked access tokens dropped by /test/revoke-access
      responses             "METHOD /path" -> HTTP status -> count, for every request

    observe() wraps the whole app, so refused requests (401, 404, ...) count too. It reads a POST's
    body only for /token and the MCP endpoints, and hands the same bytes on to the app."""

    def __init__(self, mcp_path: str, post_path: str):
        self.mcp_path, self.post_path = mcp_path, post_path  # post_path: where MCP messages are POSTed
        self.token = Counter()
        self.initialize = self.mcp_get = self.mcp_delete = self.sessions_expired = self.access_tokens_revoked = 0
        self.responses = defaultdict(Counter)

    def as_json(self) -> dict:
        return {
            "token_requests": dict(self.token), "refresh_requests": self.token["refresh_token"],
            "initialize_requests": self.initialize, "mcp_get_requests": self.mcp_get,
            "mcp_delete_requests": self.mcp_delete, "sessions_expired": self.sessions_expired,
            "access_tokens_revoked": self.access_tokens_revoked,
            "responses": {route: {str(status): n for status, n in counts.items()}
                          for route, counts in sorted(self.responses.items())},
        }

    def observe(self, app):
        async def observed(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            method, path = scope["method"], scope["path"]
            if method == "POST" and path in ("/token", self.post_path):
                body, receive = await _read_body(receive)
                if path == "/token":
                    self.token[parse_qs(body.decode("latin-1")).get("grant_type", ["(none)"])[0]] += 1
                elif _is_initialize(body):
                    self.initialize += 1
            elif path == self.mcp_path:
                self.mcp_get += method == "GET"
                self.mcp_delete += method == "DELETE"

            async def counting_send(message):
                if message["type"] == "http.response.start":  # counted when sent: streams stay open
                    self.responses[f"{method} {path}"][message["status"]] += 1
                await send(message)

            await app(scope, receive, counting_send)

        return observed


async def _read_body(receive):
    """Reads a request's whole body; returns it and a receive that replays it to the app."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # the client went away; let the app find out
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, replayed = b"".join(chunks), False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when it comes

    return body, replay


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    messages = message if isinstance(message, list) else [message]
    return any(isinstance(m, dict) and m.get("method") == "initialize" for m in messages)


class Answer(BaseModel):
    answer: str = Field(description="Anything at all")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    parser.add_argument("--transport", choices=["streamable-http", "sse"], default="streamable-http")
    parser.add_argument("--sse-path", default="/sse", help="with --transport sse: where GET opens the stream")
    args = parser.parse_args()
    mcp_path = "/mcp" if args.transport == "streamable-http" else args.sse_path

    # Bind first, so the issuer and resource URLs baked into the metadata carry the real port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    provider = AutoApprovingProvider(f"{base}{mcp_path}", args.token_lifetime)
    stats = Stats(mcp_path, post_path=MESSAGE_PATH if args.transport == "sse" else mcp_path)
    server = MCPServer(
        name="python-sdk-peer",
        auth_server_provider=provider,
        auth=AuthSettings(
            issuer_url=base,  # the SDK serves /authorize, /token, /register, /revoke under it
            resource_server_url=f"{base}{mcp_path}",  # turns on /.well-known/oauth-protected-resource{mcp_path}
            validate_token_resource=True,  # the endpoint refuses tokens bound (RFC 8707) to another resource
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE]),
            revocation_options=RevocationOptions(enabled=True),
            required_scopes=[SCOPE],
        ),
        log_level="WARNING",
    )

    @server.tool()
    def whoami() -> str:
        """The client id and subject of the access token this call was made with."""
        token = get_access_token()
        return f"client {token.client_id}, subject {token.subject}" if token else "anonymous"

    @server.tool()
    async def slow_count(n: int, ctx: Context) -> str:
        """Sends n progress notifications about 50 ms apart, then answers "counted n"."""
        for i in range(1, n + 1):
            await asyncio.sleep(0.05)
            await ctx.report_progress(i, n, f"{i} of {n}")  # sent only if the request had a progressToken
        return f"counted {n}"

    @server.tool()
    async def ask_user(ctx: Context) -> str:
        """Asks the client (elicitation/create, form mode) for an answer and returns it. The client
        must have declared the elicitation capability."""
        result = await ctx.elicit("Say something for ask_user", Answer)
        if result.action != "accept":
            return f"the user did not answer: {result.action}"
        return f"the user answered: {result.data.answer}"

    @server.custom_route("/test/expire-sessions", methods=["POST"])
    async def expire_sessions(request: Request) -> JSONResponse:
        if args.transport == "sse":
            return JSONResponse({"expired": await expire_sse_sessions()})
        # StreamableHTTPSessionManager keeps each live session's transport in _server_instances
        # (session id -> StreamableHTTPServerTransport) and answers 404 "Session not found" for an
        # Mcp-Session-Id it does not find there. _discard_session is what it calls itself when a
        # session ends (DELETE, idle timeout, crash): it drops the id from _server_instances and
        # _session_owners at once, then terminates the transport, which closes the session's
        # streams (open POST responses and the GET stream end) and stops its server task.
        manager = server.session_manager
        sessions = list(manager._server_instances.items())
        for session_id, transport in sessions:
            await manager._discard_session(session_id, transport)
        stats.sessions_expired += len(sessions)
        return JSONResponse({"expired": len(sessions)})

    @server.custom_route("/test/revoke-access", methods=["POST"])
    async def revoke_access(request: Request) -> JSONResponse:
        revoked = provider.revoke_all_access_tokens()
        stats.access_tokens_revoked += revoked
        return JSONResponse({"revoked": revoked})

    @server.custom_route("/test/stats", methods=["GET", "POST"])
    async def get_stats(request: Request) -> JSONResponse:
        return JSONResponse(stats.as_json())

    async def expire_sse_sessions() -> int:
        # sse_app keeps its SseServerTransport to itself; the route for MESSAGE_PATH holds it as
        # the owner of the bound method handle_post_message (inside the RequireAuthMiddleware).
        # The transport maps session_id -> the writer feeding that session's server loop, and
        # answers 404 "Could not find session" for a session_id it does not find there. Closing
        # the writer ends the server loop, which ends the GET stream.
        [mount] = [route for route in app.routes if getattr(route, "path", None) == MESSAGE_PATH.rstrip("/")]
        transport = mount.app.app.__self__
        writers = list(transport._read_stream_writers.items())
        for session_id, writer in writers:
            transport._read_stream_writers.pop(session_id, None)
            transport._session_owners.pop(session_id, None)
            await writer.aclose()
        stats.sessions_expired += len(writers)
        return len(writers)

    # host= makes the SDK allow only 127.0.0.1/localhost Host headers (DNS rebinding protection).
    if args.transport == "sse":
        app = server.sse_app(sse_path=args.sse_path, message_path=MESSAGE_PATH, host="127.0.0.1")
    else:
        app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    uvicorn_server = uvicorn.Server(uvicorn.Config(stats.observe(app), log_level="warning"))
    serving = asyncio.create_task(uvicorn_server.serve(sockets=[sock]))
    while not uvicorn_server.started and not serving.done():
        await asyncio.sleep(0.02)
    if uvicorn_server.started:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)  # readers never see a half-written file
    await serving


if __name__ == "__main__":
    asyncio.run(main())
