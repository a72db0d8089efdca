"""Security headers on every response, pages and API alike: one ASGI middleware.

- ``Content-Security-Policy``: scripts, styles, images and connections from this site only;
  no inline script, no inline style, no ``eval`` (the templates carry no ``<script>`` blocks,
  ``on…=`` handlers, ``hx-on`` or ``style=`` attributes: behaviour lives in ``static/app.js``
  and looks in ``static/app.css``); ``frame-ancestors 'none'`` so no other site can frame the
  back office (clickjacking), ``form-action``/``base-uri`` ``'self'``, no plugins;
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``;
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (order numbers and
  filters in our URLs never leave for another site);
- ``Strict-Transport-Security`` when the site is served over HTTPS (``settings.https``).

A response that already carries one of these headers keeps its own value.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"  # one year, as the HSTS preload list asks


def security_headers(https: bool) -> dict[str, str]:
    headers = {"content-security-policy": CSP, "x-frame-options": "DENY",
               "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
    if https:
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
