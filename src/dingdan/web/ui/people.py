"""Pages: sign-in and sign-out, the person's password, people and roles, API tokens, the
audit log. They call the same use cases as the API (``services/users.py``, ``tokens.py``,
``audit.py``), so the same permissions and the same audit record apply.

Forms post with a ``csrftoken`` field as well as HTMX's ``x-csrftoken`` header, so they work
without script too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dingdan.domain.errors import DomainError, Unauthenticated
from dingdan.domain.events import Actor
from dingdan.domain.people import LANGUAGES
from dingdan.domain.permissions import Permission, Role, can
from dingdan.services import audit as audit_svc
from dingdan.services import catalogue as catalogue_svc
from dingdan.services import tokens as token_svc
from dingdan.services import users as svc
from dingdan.services.audit import AuditQuery
from dingdan.web.auth import (
    PageActorDep,
    end_session,
    safe_next,
    session_id,
    start_session,
)
from dingdan.web.auth import (
    client_address as client_ip,
)
from dingdan.web.csrf import csrf_token
from dingdan.web.errors import STATUS as ERROR_STATUS
from dingdan.web.i18n import error_text, field_message
from dingdan.web.ui import LANG_COOKIE, error_response, page_language, render
from dingdan.web.ui.people_text import OBJECT_TYPES, ROLE_LABELS, people_text

router = APIRouter()

FormStr = Annotated[str, Form()]
OptForm = Annotated[str | None, Form()]


def _uow(request: Request, read_only: bool = False) -> Any:
    return request.app.state.uow(read_only=read_only)


def _ctx(request: Request, **kw: Any) -> dict[str, Any]:
    lang = page_language(request)
    return {"tp": lambda key: people_text(key, lang), "form_csrf": csrf_token(request),
            "roles_all": [r.value for r in Role], "role_labels": ROLE_LABELS,
            "languages": LANGUAGES, **kw}


def _problem(request: Request, exc: DomainError) -> dict[str, Any]:
    lang = page_language(request)
    title, detail = error_text(exc.code, lang, exc.params)
    return {"code": exc.code, "title": title, "detail": detail,
            "fields": [(d.loc, field_message(d.code, lang, d.message)) for d in exc.details]}


def _status(exc: DomainError) -> int:
    return next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 400)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- sign-in, sign-out, password -------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "people/login.html", _ctx(request, next=safe_next(next), login=""))


@router.post("/login")
async def login(request: Request, login: FormStr, password: FormStr,
                next: OptForm = None) -> Response:
    settings = request.app.state.settings
    try:
        signed = await svc.sign_in(
            svc.SignIn(login, password, client_ip(request), request.headers.get("user-agent"),
                       session_seconds=settings.session_max_age_seconds),
            _uow(request), request.app.state.passwords, request.app.state.sign_in_limits)
    except DomainError as exc:
        retry = exc.params.get("retry_after")
        return render(request, "people/login.html",
                      _ctx(request, next=safe_next(next), login=login,
                           problem=_problem(request, exc)), status_code=_status(exc),
                      headers={"Retry-After": str(retry)} if retry else None)
    response = _see_other(safe_next(next))
    start_session(request, signed)
    if signed.language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, signed.language, max_age=365 * 86400,
                            samesite="lax", secure=settings.https)
    return response


@router.post("/logout")
async def logout(request: Request, everywhere: OptForm = None) -> Response:
    if everywhere:
        try:
            actor = await _signed_in(request)
            await svc.sign_out_everywhere(actor, _uow(request))
        except Unauthenticated:
            pass
    await end_session(request)
    return _see_other("/login")


async def _signed_in(request: Request) -> Actor:
    from dingdan.web.auth import current_actor

    return await current_actor(request, None)


@router.get("/account/password")
async def password_page(request: Request, actor: PageActorDep) -> Response:
    return render(request, "people/password.html", _ctx(request), actor=actor)


@router.post("/account/password")
async def change_password(request: Request, actor: PageActorDep, current: FormStr,
                          new: FormStr, confirm: FormStr) -> Response:
    if new != confirm:
        return render(request, "people/password.html",
                      _ctx(request, mismatch=True), actor=actor, status_code=422)
    try:
        await svc.change_password(svc.ChangePassword(actor, current, new, session_id(request)),
                                  _uow(request), request.app.state.passwords)
    except DomainError as exc:
        return render(request, "people/password.html",
                      _ctx(request, problem=_problem(request, exc)), actor=actor,
                      status_code=_status(exc))
    return render(request, "people/password.html", _ctx(request, changed=True), actor=actor)


# --- people and roles ---------------------------------------------------------------------

async def _warehouses(request: Request, actor: Actor) -> list[dict[str, Any]]:
    return await catalogue_svc.list_warehouses(_uow(request, True), actor=actor)


def _fields(name: str, email: str | None, phone: str | None, language: str | None,
            roles: list[str], warehouses: list[str]) -> svc.UserFields:
    return svc.UserFields(name, email or None, phone or None, language or None,
                          frozenset(roles), frozenset(warehouses))


@router.get("/people")
async def people(request: Request, actor: PageActorDep) -> Response:
    try:
        rows = await svc.list_users(_uow(request, True), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "people/people.html",
                  _ctx(request, rows=rows, warehouses=await _warehouses(request, actor), form={}),
                  actor=actor)


@router.post("/people")
async def create_person(request: Request, actor: PageActorDep, name: FormStr,
                        email: OptForm = None, phone: OptForm = None, language: OptForm = None,
                        password: OptForm = None,
                        roles: Annotated[list[str] | None, Form()] = None,
                        warehouses: Annotated[list[str] | None, Form()] = None) -> Response:
    try:
        user = await svc.create_user(svc.CreateUser(
            _fields(name, email, phone, language, roles or [], warehouses or []), actor,
            password or None), _uow(request), request.app.state.passwords)
    except DomainError as exc:
        try:
            rows = await svc.list_users(_uow(request, True), actor=actor)
        except DomainError:
            return error_response(request, exc, actor)
        form = {"name": name, "email": email, "phone": phone, "language": language,
                "roles": roles or [], "warehouses": warehouses or []}
        return render(request, "people/people.html",
                      _ctx(request, rows=rows, warehouses=await _warehouses(request, actor),
                           form=form, problem=_problem(request, exc)),
                      actor=actor, status_code=_status(exc))
    return _see_other(f"/people/{user['id']}")


async def _person_page(request: Request, actor: Actor, user_id: int, status_code: int = 200,
                       **kw: Any) -> Response:
    try:
        user = await svc.get_user(user_id, _uow(request, True), actor=actor)
        tokens = await token_svc.list_tokens(_uow(request, True), actor=actor, user_id=user_id)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "people/person.html",
                  _ctx(request, user=user, tokens=tokens,
                       warehouses=await _warehouses(request, actor), **kw),
                  actor=actor, status_code=status_code)


@router.get("/people/{user_id}")
async def person(request: Request, actor: PageActorDep, user_id: int) -> Response:
    return await _person_page(request, actor, user_id)


@router.post("/people/{user_id}")
async def update_person(request: Request, actor: PageActorDep, user_id: int, name: FormStr,
                        version: Annotated[int, Form()], email: OptForm = None,
                        phone: OptForm = None, language: OptForm = None,
                        roles: Annotated[list[str] | None, Form()] = None,
                        warehouses: Annotated[list[str] | None, Form()] = None) -> Response:
    changes = {"name": name, "email": email or None, "phone": phone or None,
               "language": language or None, "roles": roles or [],
               "warehouses": warehouses or []}
    try:
        await svc.update_user(svc.UpdateUser(user_id, changes, actor, version), _uow(request))
    except DomainError as exc:
        return await _person_page(request, actor, user_id, _status(exc),
                                  problem=_problem(request, exc))
    return await _person_page(request, actor, user_id, saved=True)


@router.post("/people/{user_id}/active")
async def set_active(request: Request, actor: PageActorDep, user_id: int,
                     active: Annotated[int, Form()]) -> Response:
    try:
        await svc.set_active(svc.SetActive(user_id, bool(active), actor), _uow(request))
    except DomainError as exc:
        return await _person_page(request, actor, user_id, _status(exc),
                                  problem=_problem(request, exc))
    return await _person_page(request, actor, user_id, saved=True)


@router.post("/people/{user_id}/password")
async def reset_password(request: Request, actor: PageActorDep, user_id: int,
                         password: FormStr) -> Response:
    try:
        await svc.reset_password(svc.ResetPassword(user_id, password, actor), _uow(request),
                                 request.app.state.passwords)
    except DomainError as exc:
        return await _person_page(request, actor, user_id, _status(exc),
                                  problem=_problem(request, exc))
    return await _person_page(request, actor, user_id, saved=True)


# --- API tokens -------------------------------------------------------------------------------

async def _tokens_page(request: Request, actor: Actor, status_code: int = 200,
                       **kw: Any) -> Response:
    try:
        tokens = await token_svc.list_tokens(_uow(request, True), actor=actor)
        users = await svc.list_users(_uow(request, True), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    now = request.app.state.uow.clock()
    response = render(request, "people/tokens.html",
                      _ctx(request, tokens=tokens, users=users, now=now,
                           names={u["id"]: u["name"] for u in users}, **kw),
                      actor=actor, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # a new token is on this page once
    return response


@router.get("/tokens")
async def tokens(request: Request, actor: PageActorDep) -> Response:
    return await _tokens_page(request, actor)


@router.post("/tokens")
async def issue_token(request: Request, actor: PageActorDep, name: FormStr,
                      roles: Annotated[list[str] | None, Form()] = None,
                      user_id: OptForm = None, expires_days: OptForm = None) -> Response:
    try:
        owner = int(user_id) if user_id else None
        days = int(expires_days) if expires_days else None
    except ValueError:
        owner, days = None, None
    expires_at = request.app.state.uow.clock() + timedelta(days=days) if days else None
    try:
        issued = await token_svc.issue_token(name, _uow(request), expires_at,
                                             roles=roles or [], actor=actor, user_id=owner)
    except DomainError as exc:
        return await _tokens_page(request, actor, _status(exc), problem=_problem(request, exc))
    return await _tokens_page(request, actor, issued=issued)


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, actor: PageActorDep, token_id: int) -> Response:
    try:
        await token_svc.revoke_token(token_id, _uow(request), actor=actor)
    except DomainError as exc:
        return await _tokens_page(request, actor, _status(exc), problem=_problem(request, exc))
    request.app.state.token_cache.forget(token_id)
    return _see_other("/tokens")


# --- the audit log ----------------------------------------------------------------------

def _local(value: str | None, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


@router.get("/audit")
async def audit(request: Request, actor: PageActorDep,
                user_id: Annotated[str | None, Query()] = None, by: str | None = None,
                object_type: str | None = None, object_id: str | None = None,
                action: str | None = None, at_from: str | None = None, at_to: str | None = None,
                cursor: str | None = None) -> Response:
    tz = ZoneInfo(request.app.state.settings.timezone)
    person = int(user_id) if user_id and user_id.isdigit() else None
    filters = {"user_id": user_id or "", "by": by or "", "object_type": object_type or "",
               "object_id": object_id or "", "action": action or "", "at_from": at_from or "",
               "at_to": at_to or ""}
    try:
        rows, next_cursor = await audit_svc.list_audit(AuditQuery(
            user_id=person, actor=by or None, object_type=object_type or None,
            object_id=(object_id or "").strip() or None, action=(action or "").strip() or None,
            at_from=_local(at_from, tz), at_to=_local(at_to, tz), limit=50),
            _uow(request, True), actor=actor, cursor=cursor or None)
        people = (await svc.list_users(_uow(request, True), actor=actor)
                  if can(actor, Permission.PEOPLE_MANAGE) else [])
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "people/audit.html",
                  _ctx(request, rows=rows, next_cursor=next_cursor, filters=filters,
                       people=people, object_types=OBJECT_TYPES), actor=actor)

