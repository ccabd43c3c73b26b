"""An OAuth-protected MCP server built on the official MCP Python SDK (PyPI `mcp`, 2.x), as an
interoperability peer that mcp-vault did not write. The SDK's own handlers do the OAuth protocol:
metadata (RFC 8414 and RFC 9728), dynamic client registration, token endpoint client
authentication, PKCE, refresh, revocation and the bearer check on /mcp. This file only supplies
the storage behind them: an in-memory provider that approves every authorization request at once,
so a "browser" that just follows redirects (`curl -sL`) completes the login.

    python_sdk_server.py --port-file PATH [--token-lifetime SECONDS]

Listens on 127.0.0.1 on a free port, writes the port to PATH once it accepts requests, serves
MCP over Streamable HTTP at /mcp. Set up by scripts/python-peers, which pins the SDK's version.
"""

import argparse
import asyncio
import os
import secrets
import socket
import time

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer  # mcp 2.x renamed FastMCP to MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

SCOPE = "mcp"


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
        return self.access.get(token)  # the SDK's bearer middleware checks expires_at and resource

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        for value in (token.token, self.partner.get(token.token)):  # revoking one revokes both
            self.access.pop(value, None)
            self.refresh.pop(value, None)
            self.partner.pop(value, None)

    def _issue(self, grant: AuthorizationCode | RefreshToken) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        common = dict(client_id=grant.client_id, scopes=grant.scopes, resource=grant.resource, subject=grant.subject)
        self.access[access] = AccessToken(token=access, expires_at=int(time.time()) + self.token_lifetime, **common)
        self.refresh[refresh] = RefreshToken(token=refresh, **common)
        self.partner[access], self.partner[refresh] = refresh, access
        return OAuthToken(access_token=access, refresh_token=refresh, expires_in=self.token_lifetime,
                          scope=" ".join(grant.scopes))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    args = parser.parse_args()

    # Bind first, so the issuer and resource URLs baked into the metadata carry the real port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    server = MCPServer(
        name="python-sdk-peer",
        auth_server_provider=AutoApprovingProvider(f"{base}/mcp", args.token_lifetime),
        auth=AuthSettings(
            issuer_url=base,  # the SDK serves /authorize, /token, /register, /revoke under it
            resource_server_url=f"{base}/mcp",  # turns on /.well-known/oauth-protected-resource/mcp
            validate_token_resource=True,  # /mcp refuses tokens bound (RFC 8707) to another resource
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

    # host= makes the SDK allow only 127.0.0.1/localhost Host headers (DNS rebinding protection).
    app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
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
