"""The studio's front door: one ASGI middleware every request passes before any database work.

In order:

1. ``Host`` must be the address the studio serves (``127.0.0.1:PORT``): a page
   on another site whose name was rebound to 127.0.0.1 (DNS rebinding) is refused;
2. the random token of the printed URL (``?token=…``) is exchanged for an
   HttpOnly, SameSite=Strict cookie, and the cookie is required on **every**
   request, static files included;
3. only GET/HEAD, and POST when the studio runs with ``--write``; a POST must
   come from the studio's own pages (``Origin``, ``Sec-Fetch-Site``) and be a
   form;
4. a POST body is read whole before the application sees it, within a size
   limit and a time limit, so a slow or endless body never holds a database
   connection;
5. every response carries a CSP without inline scripts, ``nosniff``,
   ``frame-ancestors 'none'``, no referrer and no caching.
"""

from __future__ import annotations

import asyncio
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Chrome send "Origin: null" on our forms
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class StudioGuard:
    """Host, token, method/origin and body checks, then security headers on whatever the app answers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        port: int,
        token: str,
        write: bool,
        body_limit: int = 1 << 20,
        body_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.port = port
        self.host = f"127.0.0.1:{port}"
        self.origin = f"http://{self.host}"
        self.token = token
        self.cookie_name = f"dbops_studio_{port}"  # cookies ignore ports: two studios must not share one
        self.write = write
        self.body_limit = body_limit
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return  # websockets: nothing here speaks them

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(SECURITY_HEADERS)]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        headers = _headers(scope)
        if headers.get("host") != self.host:
            await _plain(
                secured_send,
                403,
                "refused: this studio answers only to Host "
                f"{self.host} (a different name pointing at 127.0.0.1 is a DNS-rebinding attempt)",
            )
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        offered = [v for k, v in query if k == "token"]
        if offered:
            await self._exchange_token(scope, query, offered[-1], secured_send)
            return
        if not self._has_cookie(headers):
            await _plain(
                secured_send,
                403,
                "this studio needs the link `dbops studio` printed (it carries a one-time token); open that link again",
            )
            return
        method = scope["method"]
        if method in ("GET", "HEAD"):
            await self.app(_raw_path_routing(scope), receive, secured_send)
            return
        if method != "POST":
            await _plain(secured_send, 405, f"{method} is not supported", extra=[(b"allow", b"GET, HEAD, POST")])
            return
        if not self.write:
            await _plain(secured_send, 403, "the studio is read-only: restart it with `dbops studio --write` to edit")
            return
        refusal = self._cross_site(headers)
        if refusal:
            await _plain(secured_send, 403, refusal)
            return
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            await _plain(secured_send, 415, "the studio accepts only its own forms (application/x-www-form-urlencoded)")
            return
        body, status = await self._read_body(headers, receive)
        if status:
            message = (
                f"request body larger than {self.body_limit:,} bytes"
                if status == 413
                else f"request body not received within {self.body_timeout:g} s"
            )
            await _plain(secured_send, status, message, extra=[(b"connection", b"close")])
            return
        await self.app(_raw_path_routing(scope), _replay(body, receive), secured_send)

    async def _exchange_token(self, scope: Scope, query: list[tuple[str, str]], offered: str, send: Send) -> None:
        if not secrets.compare_digest(offered.encode(), self.token.encode()):
            await _plain(send, 403, "wrong token: open the link `dbops studio` printed")
            return
        rest = [(k, v) for k, v in query if k != "token"]
        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else quote(scope.get("path", "/"))
        if not path.startswith("/") or path.startswith("//"):  # never a redirect off this origin
            path = "/"
        location = path + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{self.cookie_name}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        # Strip the token from the address bar (history, screenshots) once it is in the cookie.
        await _plain(
            send, 303, "see " + location, extra=[(b"location", location.encode()), (b"set-cookie", cookie.encode())]
        )

    def _has_cookie(self, headers: dict[str, str]) -> bool:
        raw = headers.get("cookie")
        if not raw:
            return False
        try:
            jar = SimpleCookie()
            jar.load(raw)
        except Exception:  # a malformed Cookie header is a missing cookie
            return False
        morsel = jar.get(self.cookie_name)
        return morsel is not None and secrets.compare_digest(morsel.value.encode(), self.token.encode())

    def _cross_site(self, headers: dict[str, str]) -> str | None:
        origin = headers.get("origin")
        if origin != self.origin:
            return (
                f"refused: a write must come from the studio's own page (Origin {origin or 'missing'}, "
                f"expected {self.origin})"
            )
        site = headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            return f"refused: a write must come from the studio's own page (Sec-Fetch-Site {site})"
        return None

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> tuple[bytes, int]:
        """The whole body within the limits, or ``(b"", 413 | 408 | 400)``."""
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return b"", 400
            if int(declared) > self.body_limit:
                return b"", 413
        chunks: list[bytes] = []
        size = 0

        async def read() -> int:
            nonlocal size
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return 400
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.body_limit:
                    return 413
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return 0

        try:
            status = await asyncio.wait_for(read(), timeout=self.body_timeout)
        except TimeoutError:
            return b"", 408
        return b"".join(chunks), status


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        name = key.decode("latin-1").lower()
        if name in out and name != "cookie":  # a repeated Host/Origin is suspicious: keep it unmatchable
            out[name] = out[name] + "," + value.decode("latin-1")
        elif name == "cookie" and name in out:
            out[name] = out[name] + "; " + value.decode("latin-1")
        else:
            out[name] = value.decode("latin-1")
    return out


def _raw_path_routing(scope: Scope) -> Scope:
    """Route on the raw (still percent-encoded) path: a table named ``a/b`` stays one path segment.

    Handlers unquote their path parameters.
    """
    raw = scope.get("raw_path")
    if raw is None:
        return scope
    return {**scope, "path": raw.decode("latin-1").split("?", 1)[0]}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the server's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
