"""Logs in to python_sdk_server.py by hand, as a public OAuth client, and prints the token response.

    oauth_login.py SERVER-BASE [--resource URL] [--refresh REFRESH-TOKEN --client-id ID]

Registers a public client (RFC 7591, token_endpoint_auth_method "none"), runs the authorization
code flow with PKCE (S256) against /authorize (which the server approves at once and answers with a
redirect carrying the code; nothing listens at the redirect URI, it is only read from Location),
exchanges the code at /token and prints the JSON answer with "client_id" added. With --refresh it
only runs the refresh_token grant. RESOURCE defaults to SERVER-BASE/mcp (with the server's
--transport sse it is SERVER-BASE/sse, or whatever --sse-path says). Standard library only.
"""

import argparse
import base64
import hashlib
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # makes urllib raise HTTPError for the 302, whose Location carries the code


def _post(url: str, body: bytes, content_type: str) -> dict:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        sys.exit(f"oauth_login: POST {url}: {e.code} {e.read().decode(errors='replace')}")


def _token(base: str, **form: str) -> dict:
    return _post(f"{base}/token", urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")


def login(base: str, resource: str) -> dict:
    client = _post(f"{base}/register", json.dumps({
        "client_name": "oauth_login.py", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "scope": "mcp",
    }).encode(), "application/json")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT_URI, "scope": "mcp",
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource})
    try:
        urllib.request.build_opener(_NoRedirect).open(f"{base}/authorize?{query}")
        sys.exit("oauth_login: /authorize did not redirect")
    except urllib.error.HTTPError as e:
        if e.code not in (302, 303, 307):
            sys.exit(f"oauth_login: /authorize: {e.code} {e.read().decode(errors='replace')}")
        location = urllib.parse.urlparse(e.headers["Location"])
    answer = urllib.parse.parse_qs(location.query)
    if answer.get("state") != [state] or "code" not in answer:
        sys.exit(f"oauth_login: unexpected redirect {location.geturl()}")
    token = _token(base, grant_type="authorization_code", code=answer["code"][0], redirect_uri=REDIRECT_URI,
                   client_id=client["client_id"], code_verifier=verifier, resource=resource)
    return token | {"client_id": client["client_id"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="e.g. http://127.0.0.1:PORT")
    parser.add_argument("--resource", help="default: BASE/mcp")
    parser.add_argument("--refresh", metavar="REFRESH-TOKEN")
    parser.add_argument("--client-id")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    resource = args.resource or f"{base}/mcp"
    if args.refresh:
        if not args.client_id:
            parser.error("--refresh needs --client-id")
        token = _token(base, grant_type="refresh_token", refresh_token=args.refresh, client_id=args.client_id,
                       resource=resource) | {"client_id": args.client_id}
    else:
        token = login(base, resource)
    print(json.dumps(token))


if __name__ == "__main__":
    main()
