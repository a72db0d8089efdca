"""The one place errors become HTTP responses: RFC 9457 problem documents with a stable code.

    {"type": "https://dingdan.dev/problems/insufficient-stock", "title": "…", "status": 409,
     "code": "INSUFFICIENT_STOCK", "detail": "…", "instance": "/api/v1/orders",
     "errors": [{"loc": "lines.0.sku", "code": "unknown_sku", "message": "…"}], "params": {…}}

Routes never build error responses by hand; they raise domain errors.

An exception nobody expected is caught by :class:`InternalErrorMiddleware` (installed
outermost but one by ``create_app``): logged once, with Python's plain traceback and the
request id but never the request's headers, body or the frames' locals, and answered at
once with a 500 ``INTERNAL_ERROR`` problem naming the request id, with ``Connection: close``
(the server then closes the connection cleanly rather than resetting it).
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingdan.domain import errors as de
from dingdan.web.i18n import error_text, field_message, negotiate
from dingdan.web.request_ids import request_id

log = structlog.get_logger("dingdan.web")

PROBLEM = "application/problem+json"

STATUS: dict[type[de.DomainError], int] = {
    de.ValidationFailed: 422,
    de.AmountsInconsistent: 422,
    de.IllegalTransition: 409,
    de.InsufficientStock: 409,
    de.NotFound: 404,
    de.VersionConflict: 409,
    de.IdempotencyConflict: 409,
    de.AlreadyExists: 409,
    de.Conflict: 409,
    de.Unauthenticated: 401,
    de.Forbidden: 403,
    de.TooManyAttempts: 429,
    de.UrlNotAllowed: 422,
    de.RateLimited: 429,
    de.StoreUnavailable: 503,
}


class FieldProblem(BaseModel):
    loc: str
    code: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error of this API is answered."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: list[FieldProblem] = []
    params: dict[str, Any] = {}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries so every error a route can give is in the document.

    ``model`` puts Problem in the components (FastAPI files it under application/json);
    the reference files it under the media type errors are actually sent as.
    """
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {s: {"model": Problem, "content": {PROBLEM: ref}} for s in statuses}


def language(request: Request) -> str:
    default = getattr(request.app.state, "default_language", "zh-CN")
    return negotiate(request.headers.get("accept-language"), default)


def problem(request: Request, status: int, code: str, params: dict[str, Any] | None = None,
            details: list[tuple[str, str, str]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    lang = language(request)
    params = params or {}
    title, detail = error_text(code, lang, params)
    body = Problem(
        type=f"https://dingdan.dev/problems/{code.lower().replace('_', '-')}",
        title=title, status=status, code=code, detail=detail, instance=request.url.path,
        errors=[FieldProblem(loc=loc, code=c, message=field_message(c, lang, msg))
                for loc, c, msg in details or []],
        params={k: v for k, v in params.items() if _jsonable(v)},
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM,
                        headers={"Content-Language": lang, **(headers or {})})


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | list | dict) or v is None


def install(app: FastAPI) -> None:
    @app.exception_handler(de.DomainError)
    async def _domain(request: Request, exc: de.DomainError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if type(exc) is cls), None)
        if status is None:
            status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, de.RateLimited | de.StoreUnavailable):
            headers = {"Retry-After": str(exc.params.get("retry_after", 60))}
        return problem(request, status, exc.code, exc.params,
                       [(d.loc, d.code, d.message) for d in exc.details], headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(request, 400, "MALFORMED_JSON")
        # Only loc, type and msg: never the input (it may be an int no JSON encoder takes, or
        # a 100 KB string) nor ctx.
        details = [(_loc(e.get("loc", ())), _field_code(e), str(e.get("msg", ""))[:300])
                   for e in errs[:50]]
        return problem(request, 422, "VALIDATION_FAILED", None, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE",
                401: "UNAUTHENTICATED", 403: "FORBIDDEN"}.get(exc.status_code, "VALIDATION_FAILED")
        if exc.status_code >= 500:
            return internal_error(request, exc.status_code)
        # Keep what the exception says about itself (401's challenge); a 405 lists every
        # method the path takes (RFC 9110), which the one route that raised it does not know.
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem(request, exc.status_code, code, headers=headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # Only what escaped InternalErrorMiddleware (a middleware outside it) gets here;
        # Starlette re-raises it afterwards, and the server logs it.
        return internal_error(request)


def internal_error(request: Request, status: int = 500) -> JSONResponse:
    return problem(request, status, "INTERNAL_ERROR", {"request_id": request_id(request.scope)},
                   headers={"Connection": "close"})


class InternalErrorMiddleware:
    """Turns an unexpected exception into a logged 500 problem document; see the module's
    docstring. Pure ASGI, so nothing is buffered and streams pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except de.StoreUnavailable as exc:  # raised outside the routes (a session look-up)
            log.warning("database unavailable", method=scope.get("method"),
                        path=scope.get("path"))
            if not started:
                retry = str(exc.params.get("retry_after", 5))
                await problem(Request(scope), 503, exc.code, exc.params,
                              headers={"Retry-After": retry})(scope, receive, send)
        except Exception as exc:  # a bug: answered and logged here, once
            log.error("unhandled error", method=scope.get("method"), path=scope.get("path"),
                      error=type(exc).__name__, exc_info=exc)
            if started:  # half an answer is out: the server closes the connection
                return
            await internal_error(Request(scope))(scope, receive, send)


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at this path: a full match when asked with that method."""
    routes = request.app.router.routes
    allowed = [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
               if any(r.matches({**request.scope, "method": m})[0] is Match.FULL
                      for r in routes)]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.append("HEAD")
    return allowed


# The rules' stable codes, whichever layer finds the fault: the schema's bounds are the
# domain's ranges, and text that must not be empty is "required".
_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _field_code(error: Any) -> str:
    code = str(error.get("type", "invalid"))
    if code in _BOUNDS:
        return "out_of_range"
    if code == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
        return "required"
    return code


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p)[:100] for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts)
