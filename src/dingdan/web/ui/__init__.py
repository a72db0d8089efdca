"""The back office: pages rendered on the server (Jinja2), partial updates with HTMX.

This package owns the one Jinja2 environment (``templates/``), its filters (money, numbers
and dates per locale with Babel; status, action and event labels) and the page language:
the user's choice (the ``dingdan_lang`` cookie the switcher sets) or ``Accept-Language``.
Every page, including the people/tokens/audit pages, renders through :func:`render`, which
adds what ``base.html`` needs (language, the acting person, the CSRF cookie value).

Pages call services only. Assets come from npm (``/static/vendor``) and from ``static/``
(``/static/app``); never from a CDN.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import format_currency, format_decimal
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dingdan.domain import lifecycle
from dingdan.domain.errors import DomainError
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.money import MINOR_UNITS
from dingdan.domain.permissions import Permission, can
from dingdan.settings import Settings
from dingdan.web.csrf import csrf_token
from dingdan.web.errors import STATUS as ERROR_STATUS
from dingdan.web.i18n import LANGUAGES, error_text, field_message, negotiate
from dingdan.web.ui.text import (
    EVENT_LABELS,
    FULFILLMENT_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    pick,
    text,
)

WEB = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB / "templates"
STATIC_DIR = WEB / "static"
LANG_COOKIE = "dingdan_lang"
BABEL_LOCALE = {"zh-CN": "zh_Hans_CN", "en": "en"}


def page_language(request: Request) -> str:
    """The user's choice (cookie) first, then the browser's ``Accept-Language``."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    default = getattr(request.app.state, "default_language", "zh-CN")
    return negotiate(request.headers.get("accept-language"), default)


def _lang(ctx: Context) -> str:
    return str(ctx.get("lang", "zh-CN"))


@pass_context
def _t(ctx: Context, key: str) -> str:
    return text(key, _lang(ctx))


def minor_to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-MINOR_UNITS.get(currency, 2))


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(BABEL_LOCALE.get(lang, "en"))


@functools.cache
def _datetime_pattern(lang: str, fmt: str) -> DateTimePattern:
    """CLDR's date-time pattern for a locale and width, joined once. Babel's
    ``format_datetime`` rebuilds it on every call, which a 50-row list pays 150 times."""
    loc = _locale(lang)
    if fmt in ("short", "medium", "long", "full"):
        joined = (str(loc.datetime_formats[fmt]).replace("{0}", loc.time_formats[fmt].pattern)
                  .replace("{1}", loc.date_formats[fmt].pattern))
        return parse_pattern(joined)
    return parse_pattern(fmt)


def format_money(amount: int, currency: str, lang: str) -> str:
    return format_currency(minor_to_major(amount, currency), currency, locale=_locale(lang))


def format_when(value: datetime, lang: str, tz: ZoneInfo, fmt: str = "short") -> str:
    return _datetime_pattern(lang, fmt).apply(value.astimezone(tz), _locale(lang))


@pass_context
def _money(ctx: Context, amount: int | None, currency: str = "CNY") -> str:
    return "" if amount is None else format_money(amount, currency, _lang(ctx))


@pass_context
def _number(ctx: Context, value: int | float | None) -> str:
    return "" if value is None else format_decimal(value, locale=_locale(_lang(ctx)))


@pass_context
def _dt(ctx: Context, value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return format_when(value, _lang(ctx), ctx["tz"], fmt)


@pass_context
def _status(ctx: Context, status: str | None) -> str:
    if not status:
        return ""
    if status in Status.__members__.values():
        return lifecycle.label(Status(status), _lang(ctx))
    return status


@pass_context
def _action(ctx: Context, action: str) -> str:
    labels = lifecycle.ACTION_LABELS.get(Action(action)) if action in Action.__members__.values() \
        else None
    return labels.get(_lang(ctx), labels["en"]) if labels else action


@pass_context
def _error_message(ctx: Context, code: str | None, params: dict[str, Any] | None) -> str:
    return error_text(code or "INTERNAL_ERROR", _lang(ctx), params or {})[1]


def _from_table(table: Mapping[str, tuple[str, str]]) -> Any:
    @pass_context
    def label(ctx: Context, key: str | None) -> str:
        if not key:
            return ""
        pair = table.get(key)
        return pick(pair, _lang(ctx)) if pair else key
    return label


def _qs(params: Mapping[str, Any], **overrides: Any) -> str:
    """A query string from ``params`` with ``overrides`` (None drops a key)."""
    merged: dict[str, Any] = {**params, **overrides}
    pairs: list[tuple[str, str]] = []
    for k, v in merged.items():
        if v is None or v == "" or v == []:
            continue
        for item in v if isinstance(v, list | tuple) else [v]:
            pairs.append((k, str(item)))
    return urlencode(pairs)


def build_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_common])
    env = templates.env
    env.globals.update(t=_t, tz=ZoneInfo(settings.timezone), qs=_qs, Permission=Permission,
                       can=can, error_message=_error_message,
                       csrf_input=_csrf_input)
    env.filters.update(money=_money, number=_number, dt=_dt, status=_status, action=_action,
                       event=_from_table(EVENT_LABELS), pay_method=_from_table(PAYMENT_METHODS),
                       pay_status=_from_table(PAYMENT_STATUSES),
                       fulfil_status=_from_table(FULFILLMENT_STATUSES))
    return templates


@pass_context
def _csrf_input(ctx: Context) -> Markup:
    """The hidden ``csrftoken`` field every POST form carries, so forms work without script
    (HTMX requests also send the ``x-csrftoken`` header)."""
    return Markup('<input type="hidden" name="csrftoken" value="{}">').format(
        ctx.get("csrf_token", ""))


def _common(request: Request) -> dict[str, Any]:
    return {"lang": page_language(request), "csrf_token": csrf_token(request),
            "path": request.url.path}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, context: Mapping[str, Any] | None = None, *,
           actor: Actor | None = None, status_code: int = 200,
           headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """Render a template with the common context; the acting person drives the navigation."""
    templates: Jinja2Templates = request.app.state.templates
    ctx = {"actor": actor, **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code,
                                          headers=dict(headers or {}))
    response.headers.setdefault("Content-Language", page_language(request))
    return response


def error_response(request: Request, exc: DomainError, actor: Actor | None = None) -> Response:
    """A refusal shown where the person is: a flash fragment for HTMX, else a page."""
    status = next((s for cls, s in ERROR_STATUS.items() if type(exc) is cls), None) or next(
        (s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 400)
    lang = page_language(request)
    title, detail = error_text(exc.code, lang, exc.params)
    fields = [(d.loc, field_message(d.code, lang, d.message)) for d in exc.details]
    ctx = {"title": title, "detail": detail, "fields": fields, "code": exc.code}
    if is_htmx(request):
        return render(request, "ui/_flash.html", ctx, actor=actor, status_code=status,
                      headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return render(request, "ui/error.html", ctx, actor=actor, status_code=status)


def redirect(request: Request, url: str) -> Response:
    """After a change: HTMX loads ``url`` as a page; a plain browser follows a 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the back office on ``app``: templates, our static files, the page routers."""
    from dingdan.web import live
    from dingdan.web.ui import (
        aftersales,
        analytics,
        carriers,
        help,
        home,
        intake,
        notifications,
        orders,
        review,
        stock,
    )

    app.state.templates = build_templates(settings)
    app.mount("/static/app", StaticFiles(directory=STATIC_DIR), name="app-static")
    # Issue 9's pages first: /review/rules/… is not an order of the review queue's routes.
    from dingdan.web.ui import customers, review_rules

    for module in (customers, review_rules):
        app.include_router(module.router, include_in_schema=False)
    for module in (home, intake, orders, review, stock, notifications, carriers, aftersales,
                   help, live, analytics):
        app.include_router(module.router, include_in_schema=False)
