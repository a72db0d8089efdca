"""The customer's page: ``/track/{number}``, mobile first, in zh-CN or en, live.

Who may open it (``services.portal``): a visitor who brings a signed link (``?t=…``, from a
customer message) or the order number with the last four digits of its phone. The proof is
kept in the visitor's signed session cookie (``portal``: order number -> until when), and
the token is dropped from the address bar by a redirect. Without a proof the page is the
look-up form — the same form, the same words and the same status whether or not the order
exists, so nothing here tells which order numbers are real. Proofs are rate-limited per
address and per order number (``services.portal_limits``); failures are logged.

Every request acts as a customer actor for that one order (``services.portal.customer_actor``),
so the use cases' own checks keep the visitor to it. Forms post with the session's CSRF token
(checked here: the CSRF middleware guards signed-in sessions only).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, FastAPI, Form, Header, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from dingdan.adapters.documents import html_to_pdf
from dingdan.domain import portal as rules
from dingdan.domain.errors import DomainError, Forbidden, NotFound
from dingdan.domain.events import Actor
from dingdan.domain.orders import Address
from dingdan.services import portal as svc
from dingdan.services.portal_limits import PortalLimits
from dingdan.settings import Settings
from dingdan.web import live
from dingdan.web.auth import client_address
from dingdan.web.csrf import csrf_token
from dingdan.web.errors import STATUS
from dingdan.web.i18n import LANGUAGES, error_text, field_message
from dingdan.web.portal.sections import sections_for
from dingdan.web.portal.text import portal_text
from dingdan.web.ui import LANG_COOKIE, build_templates, page_language
from dingdan.web.ui.text import PAYMENT_METHODS, pick

log = structlog.get_logger("dingdan.portal")

GRANTS = "portal"  # in the session: {order number: until (epoch seconds)}
GRANT_SECONDS = 12 * 3600
MAX_GRANTS = 20
NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,40}$"

router = APIRouter(prefix="/track", include_in_schema=False)

Number = Annotated[str, Path(max_length=40, pattern=NUMBER_PATTERN)]
Line = Annotated[str, Form(max_length=200)]
OptLine = Annotated[str | None, Form(max_length=200)]


# --- language, rendering -------------------------------------------------------------------

def _language(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LANGUAGES else page_language(request)


@pass_context
def _t(ctx: Context, key: str) -> str:
    return portal_text(key, str(ctx.get("lang", "zh-CN")))


@pass_context
def _stage(ctx: Context, key: str) -> str:
    return rules.stage_label(key, str(ctx.get("lang", "zh-CN")))


@pass_context
def _pay_method(ctx: Context, key: str | None) -> str:
    pair = PAYMENT_METHODS.get(key or "")
    return pick(pair, str(ctx.get("lang", "zh-CN"))) if pair else (key or "")


def _common(request: Request) -> dict[str, Any]:
    return {"lang": _language(request), "csrf_token": csrf_token(request),
            "path": request.url.path}


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.portal_templates
    return templates


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    response = _templates(request).TemplateResponse(request, name, ctx,
                                                    status_code=status_code, headers=headers)
    lang = _language(request)
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"  # personal: never in a shared cache
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token stays here
    if request.query_params.get("lang") in LANGUAGES:  # ?lang= sticks for the next requests
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            httponly=True)
    return response


# --- proofs kept in the session --------------------------------------------------------------

def _grants(request: Request) -> dict[str, float]:
    raw = request.session.get(GRANTS)
    now = time.time()
    return {k: v for k, v in raw.items() if isinstance(v, int | float) and v > now} \
        if isinstance(raw, dict) else {}


def _grant(request: Request, number: str) -> None:
    grants = _grants(request)
    grants[number] = int(time.time()) + GRANT_SECONDS
    newest = sorted(grants.items(), key=lambda kv: kv[1])[-MAX_GRANTS:]
    request.session[GRANTS] = dict(newest)


def _actor(request: Request, number: str) -> Actor | None:
    """The customer actor of ``number`` if this visitor proved it is theirs."""
    if number not in _grants(request):
        return None
    return svc.customer_actor(number, ip=client_address(request),
                              client=request.headers.get("user-agent"))


def _uow(request: Request, read_only: bool = False) -> Any:
    return request.app.state.uow(read_only=read_only)


def _limits(request: Request) -> PortalLimits:
    limits: PortalLimits = request.app.state.portal_limits
    return limits


def _check_csrf(request: Request, submitted: str | None) -> bool:
    expected = csrf_token(request)
    return bool(submitted) and hmac.compare_digest(str(submitted), expected)


# --- the look-up ---------------------------------------------------------------------------

def _lookup(request: Request, number: str = "", message: str | None = None,
            status_code: int = 200, seconds: int | None = None) -> HTMLResponse:
    headers = {"Retry-After": str(seconds)} if seconds else None
    return render(request, "portal/lookup.html",
                  {"number": number, "message": message, "seconds": seconds},
                  status_code=status_code, headers=headers)


def _refuse(request: Request, number: str, how: str) -> HTMLResponse:
    log.warning("portal proof failed", how=how, number=number, ip=client_address(request))
    return _lookup(request, number, "lookup.not_found", 404)


@router.get("")
async def lookup_form(request: Request) -> Response:
    return _lookup(request, request.query_params.get("number", "")[:40])


@router.post("")
async def lookup(request: Request, number: Line, last4: Annotated[str, Form(max_length=20)],
                 csrftoken: OptLine = None,
                 x_csrftoken: Annotated[str | None, Header()] = None) -> Response:
    """Order number + the last four digits of its phone: the page, or one answer for every
    kind of failure."""
    number = number.strip().upper()
    if not _check_csrf(request, csrftoken or x_csrftoken):
        return _lookup(request, number, "lookup.not_found", 403)
    wait = await _limits(request).attempt(client_address(request), number)
    if wait is not None:
        log.warning("portal proof limited", number=number, ip=client_address(request))
        return _lookup(request, number, "lookup.too_many", 429, seconds=wait)
    if not await svc.prove_by_phone(number, last4, _uow(request, True)):
        await _limits(request).failed(number)
        return _refuse(request, number, "last4")
    _grant(request, number)
    return RedirectResponse(_page_url(request, number), status_code=303)


def _page_url(request: Request, number: str) -> str:
    lang = request.query_params.get("lang")
    return f"/track/{number}" + (f"?lang={lang}" if lang in LANGUAGES else "")


# --- the page --------------------------------------------------------------------------------

async def _page_context(request: Request, number: str, actor: Actor) -> dict[str, Any]:
    page = await svc.status_page(number, _uow(request, True), actor=actor)
    return {"page": page, "sections": sections_for(page), "help_topics": svc.HELP_TOPICS}


@router.get("/{number}")
async def order_page(request: Request, number: Number, t: str | None = None) -> Response:
    if t is not None:
        if len(t) > 80 or not rules.verify_link(request.app.state.settings.portal_keys,
                                                number, t, _now(request)):
            wait = await _limits(request).attempt(client_address(request), number)
            if wait is not None:
                return _lookup(request, number, "lookup.too_many", 429, seconds=wait)
            await _limits(request).failed(number)
            return _refuse(request, number, "link")
        _grant(request, number)
        return RedirectResponse(_page_url(request, number), status_code=303)
    actor = _actor(request, number)
    if actor is None:
        return _lookup(request, number)
    try:
        ctx = await _page_context(request, number, actor)
    except NotFound:
        return _lookup(request, number, "lookup.not_found", 404)
    return render(request, "portal/order.html", ctx)


def _now(request: Request) -> Any:
    return request.app.state.uow.clock()


@router.get("/{number}/part")
async def order_part(request: Request, number: Number) -> Response:
    """The page's live region alone: the stream's ``order-changed`` swaps it in."""
    actor = _actor(request, number)
    if actor is None:
        return _lookup(request, number, "lookup.not_found", 404)
    return render(request, "portal/_live.html", await _page_context(request, number, actor))


@router.get("/{number}/live")
async def order_stream(request: Request, number: Number, after: str | None = None,
                       last_event_id: str | None = Header(None)) -> Response:
    """``order-changed`` whenever this order changes (the back office's stream, one order)."""
    actor = _actor(request, number)
    if actor is None:
        return Response(status_code=404)
    await svc.status_page(number, _uow(request, True), actor=actor)  # still visible
    response: StreamingResponse = live.stream_response(live.hub_of(request), "order-changed",
                                                       number, last_event_id or after)
    return response


@router.get("/{number}/invoice.pdf")
async def invoice_pdf(request: Request, number: Number) -> Response:
    """The receipt as a PDF, in the page's language (Chinese text in a CJK font)."""
    actor = _actor(request, number)
    if actor is None:
        return _lookup(request, number, "lookup.not_found", 404)
    try:
        inv = await svc.invoice(number, _uow(request, True), actor=actor)
    except DomainError as exc:
        return _flash(request, exc, _status_of(exc))
    env = _templates(request).env
    html = env.get_template("portal/invoice.html").render(inv=inv, lang=_language(request))
    pdf = await asyncio.to_thread(html_to_pdf, html, _invoice_css(env))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="receipt-{number}.pdf"',
        "Cache-Control": "no-store"})


def _invoice_css(env: Any) -> str:
    source: str = env.loader.get_source(env, "portal/invoice.css")[0]
    return source


# --- what the customer does --------------------------------------------------------------------

async def _act(request: Request, number: str, submitted: str | None) -> Actor | Response:
    actor = _actor(request, number)
    if actor is None:
        return _lookup(request, number, "lookup.not_found", 404)
    if not _check_csrf(request, submitted):
        return _flash(request, _CsrfFailed(), 403)
    return actor


class _CsrfFailed(Forbidden):
    """The form's token is not this session's: shown as the CSRF middleware's refusal."""

    code = "CSRF_FAILED"


def _flash(request: Request, exc: DomainError, status_code: int) -> HTMLResponse:
    lang = _language(request)
    title, detail = error_text(exc.code, lang, getattr(exc, "params", {}) or {})
    fields = [(d.loc, field_message(d.code, lang, d.message))
              for d in getattr(exc, "details", [])]
    return render(request, "portal/_flash.html",
                  {"title": title, "detail": detail, "fields": fields, "code": exc.code},
                  status_code=status_code,
                  headers={"HX-Retarget": "#portal-flash", "HX-Reswap": "innerHTML"})


def _status_of(exc: DomainError) -> int:
    return next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)


async def _after_change(request: Request, number: str, actor: Actor, done: str) -> Response:
    ctx = await _page_context(request, number, actor)
    return render(request, "portal/_live.html", {**ctx, "done": done})


@router.post("/{number}/address")
async def change_address(request: Request, number: Number, recipient: Line, phone: Line,
                         province: Line, city: Line, district: Line,
                         street: Annotated[str, Form(max_length=400)],
                         postcode: OptLine = None,
                         expected_version: Annotated[int | None, Form(ge=0, le=2**31 - 1)]
                         = None, csrftoken: OptLine = None,
                         x_csrftoken: Annotated[str | None, Header()] = None) -> Response:
    acting = await _act(request, number, csrftoken or x_csrftoken)
    if isinstance(acting, Response):
        return acting
    address = Address(recipient, phone, province, city, district, street, postcode or None)
    try:
        await svc.change_delivery_address(svc.ChangeDeliveryAddress(
            number, address, acting, expected_version), _uow(request))
    except DomainError as exc:
        return _flash(request, exc, _status_of(exc))
    return await _after_change(request, number, acting, "address.saved")


@router.post("/{number}/cancel")
async def cancel(request: Request, number: Number,
                 reason: Annotated[str, Form(max_length=500)],
                 expected_version: Annotated[int | None, Form(ge=0, le=2**31 - 1)] = None,
                 csrftoken: OptLine = None,
                 x_csrftoken: Annotated[str | None, Header()] = None) -> Response:
    acting = await _act(request, number, csrftoken or x_csrftoken)
    if isinstance(acting, Response):
        return acting
    try:
        await svc.cancel_order(svc.CancelOrder(number, reason, acting, expected_version),
                               _uow(request))
    except DomainError as exc:
        return _flash(request, exc, _status_of(exc))
    return await _after_change(request, number, acting, "cancel.done")


@router.post("/{number}/rating")
async def rate(request: Request, number: Number,
               delivery: Annotated[int, Form(ge=-(2**31), le=2**31 - 1)],
               service: Annotated[int, Form(ge=-(2**31), le=2**31 - 1)],
               comment: Annotated[str | None, Form(max_length=rules.COMMENT_MAX)] = None,
               csrftoken: OptLine = None,
               x_csrftoken: Annotated[str | None, Header()] = None) -> Response:
    acting = await _act(request, number, csrftoken or x_csrftoken)
    if isinstance(acting, Response):
        return acting
    try:
        await svc.rate_order(svc.RateOrder(number, delivery, service, comment, acting),
                             _uow(request))
    except DomainError as exc:
        return _flash(request, exc, _status_of(exc))
    return await _after_change(request, number, acting, "rating.thanks")


@router.post("/{number}/help")
async def ask_for_help(request: Request, number: Number,
                       topic: Annotated[str, Form(max_length=32)],
                       text: Annotated[str, Form(max_length=svc.HELP_TEXT_MAX)],
                       csrftoken: OptLine = None,
                       x_csrftoken: Annotated[str | None, Header()] = None) -> Response:
    acting = await _act(request, number, csrftoken or x_csrftoken)
    if isinstance(acting, Response):
        return acting
    try:
        await svc.request_help(svc.RequestHelp(number, topic, text, acting), _uow(request))
    except DomainError as exc:
        return _flash(request, exc, _status_of(exc))
    return await _after_change(request, number, acting, "help.sent")


def status_page_url(request: Request, number: str) -> str:
    """The customer's page of ``number`` with a signed link, as messages carry it: for
    customer service to send, and for shops and chat bots (the API's ``status_page_url``)."""
    settings: Settings = request.app.state.settings
    now = request.app.state.uow.clock()
    token = rules.sign_link(settings.portal_keys[0], number, rules.link_expiry(now))
    return f"{settings.public_base_url.rstrip('/')}/track/{number}?t={token}"


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the customer's page: its templates (the back office's environment, with the
    page's own words and language), its limits, its routes."""
    env = build_templates(settings).env  # an environment of its own: its ``t`` differs
    env.globals.update(t=_t)
    env.filters.update(stage=_stage, pay_method=_pay_method)
    app.state.portal_templates = Jinja2Templates(env=env, context_processors=[_common])
    app.state.portal_limits = PortalLimits(settings.portal_limit_per_address,
                                           settings.portal_limit_per_order,
                                           settings.sign_in_limits_storage)
    app.include_router(router)
