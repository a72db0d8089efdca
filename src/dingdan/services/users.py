"""People use cases: users with their roles and warehouses; sign-in, sign-out, passwords.

Managing people needs ``people.manage``; anyone signed in changes their own password. Every
change lands on the audit record in the same transaction. Password hashes never leave this
module: the views it returns carry ``has_password`` instead.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dingdan.domain.errors import (
    BadCredentials,
    ErrorCollector,
    FieldError,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.orders import normalize_phone
from dingdan.domain.people import check_password, check_person, check_roles
from dingdan.domain.permissions import Permission, Role
from dingdan.services import passwords as pw
from dingdan.services._access import require
from dingdan.services.sign_in_limits import SignInLimits
from dingdan.store.tables import warehouses
from dingdan.store.uow import UnitOfWork

P = Permission
EDITABLE = frozenset({"name", "email", "phone", "language", "roles", "warehouses"})


@dataclass(frozen=True)
class UserFields:
    name: str
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    roles: frozenset[str] = frozenset()
    warehouses: frozenset[str] = frozenset()  # warehouse codes; empty: every warehouse


@dataclass(frozen=True)
class CreateUser:
    fields: UserFields
    actor: Actor
    password: str | None = None  # None: cannot sign in until an admin sets one


@dataclass(frozen=True)
class UpdateUser:
    user_id: int
    changes: dict[str, Any]  # any of EDITABLE
    actor: Actor
    expected_version: int | None = None


@dataclass(frozen=True)
class SetActive:
    user_id: int
    active: bool
    actor: Actor


@dataclass(frozen=True)
class ResetPassword:
    user_id: int
    password: str
    actor: Actor


@dataclass(frozen=True)
class ChangePassword:
    actor: Actor  # the signed-in person, changing their own
    current: str
    new: str
    session: str | None = None  # the session making the change: it stays, the others end


@dataclass(frozen=True)
class SignIn:
    login: str  # email or phone
    password: str
    ip: str | None = None
    client: str | None = None
    source: str = "web"
    session_seconds: int = 12 * 3600  # how long the session it starts lasts


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    epoch: int
    language: str | None
    actor: Actor
    session: str  # the new session's id, for the cookie; the server keeps only its digest


# A session's last_seen_at is written at most this often (not on every page: SQLite has one
# writer).
SEEN_EVERY = timedelta(minutes=5)


def session_digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


def user_actor(user: dict[str, Any], *, ip: str | None = None, client: str | None = None,
               source: str = "web") -> Actor:
    """The actor a signed-in person acts as: their roles, and their warehouses if limited."""
    whs = user.get("warehouse_ids") or []
    return Actor(ActorKind.USER, str(user["id"]), user["name"], source,
                 frozenset(user.get("roles") or ()), frozenset(whs) if whs else None, ip, client)


def _normalized(f: UserFields, errors: ErrorCollector) -> dict[str, Any]:
    email = f.email.strip().lower() if f.email and f.email.strip() else None
    phone = None
    if f.phone and f.phone.strip():
        phone = normalize_phone(f.phone.strip())
        if phone is None:
            errors.add("phone", "invalid_phone", "not a valid phone number")
    check_person(f.name, email, phone or (f.phone or None), f.language, errors)
    check_roles(f.roles, errors)
    return {"name": f.name.strip(), "email": email, "phone": phone, "language": f.language or None}


async def _warehouse_ids(uow: UnitOfWork, codes: frozenset[str]) -> list[int]:
    ids = []
    for code in sorted(codes):
        row = await uow.catalogue.get(warehouses, "code", code)
        if row is None:
            raise ValidationFailed(details=[FieldError("warehouses", "unknown_warehouse",
                                                   f"no warehouse {code}")])
        ids.append(row["id"])
    return ids


async def _codes(uow: UnitOfWork) -> dict[int, str]:
    return {w["id"]: w["code"] for w in await uow.catalogue.list_warehouses()}


def public_user(user: dict[str, Any], codes: dict[int, str]) -> dict[str, Any]:
    """What the API, the pages and the audit log show of a person (never the hash)."""
    return {
        **{k: user[k] for k in ("id", "name", "email", "phone", "language", "active",
                                "failed_attempts", "locked_until", "last_sign_in_at",
                                "version", "created_at", "updated_at")},
        "roles": sorted(user["roles"]),
        "warehouses": sorted(codes.get(w, str(w)) for w in user["warehouse_ids"]),
        "has_password": user["password_hash"] is not None,
    }


def _snapshot(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in ("name", "email", "phone", "language", "active", "roles",
                                 "warehouses", "has_password")}


async def _load(uow: UnitOfWork, user_id: int) -> dict[str, Any]:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound({"kind": "user", "key": user_id})
    return user


async def create_user(cmd: CreateUser, uow: UnitOfWork,
                      passwords: pw.Passwords = pw.DEFAULT) -> dict[str, Any]:
    require(cmd.actor, P.PEOPLE_MANAGE, "user", None)
    errors = ErrorCollector()
    values = _normalized(cmd.fields, errors)
    if cmd.password is not None:
        check_password(cmd.password, errors)
    errors.raise_if_any()
    hashed = await passwords.hash(cmd.password) if cmd.password is not None else None
    async with uow:
        now = uow.now()
        wh_ids = await _warehouse_ids(uow, cmd.fields.warehouses)
        user_id = await uow.users.add({**values, "active": True, "password_hash": hashed,
                                       "failed_attempts": 0, "session_epoch": 1, "version": 1,
                                       "created_at": now, "updated_at": now})
        await uow.users.set_roles(user_id, cmd.fields.roles)
        await uow.users.set_warehouses(user_id, wh_ids)
        view = public_user(await _load(uow, user_id), await _codes(uow))
        await uow.audit.record(cmd.actor, "user.create", "user", user_id, None, _snapshot(view))
        await uow.commit()
    return view


async def update_user(cmd: UpdateUser, uow: UnitOfWork) -> dict[str, Any]:
    """Change a person's details, roles or warehouses (``roles``/``warehouses`` replace)."""
    require(cmd.actor, P.PEOPLE_MANAGE, "user", cmd.user_id)
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        raise ValidationFailed(details=[FieldError(k, "not_editable", f"{k} cannot be changed here")
                                        for k in sorted(unknown)])
    async with uow:
        user = await _load(uow, cmd.user_id)
        codes = await _codes(uow)
        before = public_user(user, codes)
        if cmd.expected_version is not None and cmd.expected_version != user["version"]:
            raise VersionConflict({"kind": "user", "key": cmd.user_id})
        merged = UserFields(
            name=cmd.changes.get("name", user["name"]),
            email=cmd.changes.get("email", user["email"]),
            phone=cmd.changes.get("phone", user["phone"]),
            language=cmd.changes.get("language", user["language"]),
            roles=frozenset(cmd.changes.get("roles", user["roles"])),
            warehouses=frozenset(cmd.changes.get("warehouses", before["warehouses"])))
        errors = ErrorCollector()
        values = _normalized(merged, errors)
        if _is_self(cmd.actor, cmd.user_id) and Role.ADMIN in before["roles"] \
                and Role.ADMIN not in merged.roles:
            errors.add("roles", "own_admin", "you cannot take the admin role from yourself")
        errors.raise_if_any()
        wh_ids = await _warehouse_ids(uow, merged.warehouses)
        if not await uow.users.update(cmd.user_id, user["version"],
                                      {**values, "updated_at": uow.now()}):
            raise VersionConflict({"kind": "user", "key": cmd.user_id})
        await uow.users.set_roles(cmd.user_id, merged.roles)
        await uow.users.set_warehouses(cmd.user_id, wh_ids)
        after = public_user(await _load(uow, cmd.user_id), codes)
        await uow.audit.record(cmd.actor, "user.update", "user", cmd.user_id,
                               *_diff(_snapshot(before), _snapshot(after)))
        await uow.commit()
    return after


def _is_self(actor: Actor, user_id: int) -> bool:
    return actor.kind is ActorKind.USER and actor.id == str(user_id)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any],
                                                                  dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


async def set_active(cmd: SetActive, uow: UnitOfWork) -> dict[str, Any]:
    """Deactivate (sessions and personal tokens stop working at once) or reactivate."""
    require(cmd.actor, P.PEOPLE_MANAGE, "user", cmd.user_id)
    if not cmd.active and _is_self(cmd.actor, cmd.user_id):
        raise ValidationFailed(details=[FieldError("active", "own_account",
                                               "you cannot deactivate yourself")])
    async with uow:
        user = await _load(uow, cmd.user_id)
        now = uow.now()
        if user["active"] != cmd.active:
            if not await uow.users.update(cmd.user_id, user["version"],
                                          {"active": cmd.active, "updated_at": now}):
                raise VersionConflict({"kind": "user", "key": cmd.user_id})
            if not cmd.active:
                await uow.users.bump_epoch(cmd.user_id, now)
                await uow.sessions.revoke_all(cmd.user_id, now)
            await uow.audit.record(cmd.actor, "user.activate" if cmd.active
                                   else "user.deactivate", "user", cmd.user_id,
                                   {"active": user["active"]}, {"active": cmd.active})
        view = public_user(await _load(uow, cmd.user_id), await _codes(uow))
        await uow.commit()
    return view


async def reset_password(cmd: ResetPassword, uow: UnitOfWork,
                         passwords: pw.Passwords = pw.DEFAULT) -> None:
    """An admin sets a new password: the lock is lifted and every session ends."""
    require(cmd.actor, P.PEOPLE_MANAGE, "user", cmd.user_id)
    errors = ErrorCollector()
    check_password(cmd.password, errors)
    errors.raise_if_any()
    hashed = await passwords.hash(cmd.password)
    async with uow:
        user = await _load(uow, cmd.user_id)
        now = uow.now()
        await uow.users.set_sign_in_state(cmd.user_id, {
            "password_hash": hashed, "failed_attempts": 0, "locked_until": None,
            "updated_at": now})
        await uow.users.bump_epoch(cmd.user_id, now)
        await uow.sessions.revoke_all(cmd.user_id, now)
        await uow.audit.record(cmd.actor, "user.password_reset", "user", cmd.user_id,
                               {"locked_until": user["locked_until"],
                                "failed_attempts": user["failed_attempts"]},
                               {"locked_until": None, "failed_attempts": 0})
        await uow.commit()


async def change_password(cmd: ChangePassword, uow: UnitOfWork,
                          passwords: pw.Passwords = pw.DEFAULT) -> int:
    """A person changes their own password. Other sessions end; returns the new epoch for
    the session that made the change."""
    if cmd.actor.kind is not ActorKind.USER:
        raise Unauthenticated()
    user_id = int(cmd.actor.id)
    errors = ErrorCollector()
    check_password(cmd.new, errors, "new")
    if cmd.new == cmd.current:
        errors.add("new", "unchanged", "the new password is the current one")
    errors.raise_if_any()
    async with uow:
        user = await _load(uow, user_id)
    ok = user["password_hash"] is not None and (
        await passwords.verify(cmd.current, user["password_hash"]))[0]
    if not ok:
        raise ValidationFailed(details=[FieldError("current", "wrong_password",
                                               "the current password is not right")])
    hashed = await passwords.hash(cmd.new)
    async with uow:
        now = uow.now()
        await uow.users.set_sign_in_state(user_id, {"password_hash": hashed, "updated_at": now})
        epoch = await uow.users.bump_epoch(user_id, now)
        keep = session_digest(cmd.session) if cmd.session else None
        await uow.sessions.revoke_all(user_id, now, keep=keep)
        if keep is not None:
            await uow.sessions.set_epoch(keep, epoch)
        await uow.audit.record(cmd.actor, "user.password_change", "user", user_id)
        await uow.commit()
    return epoch


async def sign_in(cmd: SignIn, uow: UnitOfWork, passwords: pw.Passwords = pw.DEFAULT,
                  limits: SignInLimits | None = None) -> SignedIn:
    """Check a login and password, and start a session on the server.

    Past the sign-in limits (``services/sign_in_limits.py``) the answer is TooManyAttempts
    before the account is even looked up. An unknown login, a wrong password, a deactivated
    person and one without a password all get the same BadCredentials after the same work
    (a dummy hash is checked), so the answers do not say which accounts exist. The password
    is checked outside any transaction (it is slow on purpose)."""
    limits = limits or SignInLimits()
    wait = await limits.retry_after(cmd.login, cmd.ip)
    if wait is not None:
        raise TooManyAttempts({"retry_after": wait})
    async with uow:
        user = await uow.users.by_login(cmd.login) if cmd.login.strip() else None
    if user is None or not user["active"] or user["password_hash"] is None:
        await passwords.waste_time(cmd.password)
        await limits.failed(cmd.login, cmd.ip)
        raise BadCredentials()
    actor = user_actor(user, ip=cmd.ip, client=cmd.client, source=cmd.source)
    ok, new_hash = await passwords.verify(cmd.password, user["password_hash"])
    if not ok:
        await limits.failed(cmd.login, cmd.ip)
        async with uow:
            count = await uow.users.count_failure(user["id"], uow.now())
            await uow.audit.record(actor, "user.sign_in_failed", "user", user["id"], None,
                                   {"failed_attempts": count})
            await uow.commit()
        raise BadCredentials()
    await limits.succeeded(cmd.login, cmd.ip)
    session = secrets.token_urlsafe(32)
    async with uow:
        now = uow.now()
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None,
                                  "last_sign_in_at": now}
        if new_hash is not None:
            values["password_hash"] = new_hash  # the hashing parameters have changed
        await uow.users.set_sign_in_state(user["id"], values)
        await uow.sessions.add({
            "id": session_digest(session), "user_id": user["id"],
            "session_epoch": user["session_epoch"], "created_at": now, "last_seen_at": now,
            "expires_at": now + timedelta(seconds=cmd.session_seconds),
            "ip": (cmd.ip or "")[:64] or None, "user_agent": (cmd.client or "")[:400] or None})
        await uow.audit.record(actor, "user.sign_in", "user", user["id"], None,
                               {"rehashed": new_hash is not None})
        await uow.commit()
    return SignedIn(user["id"], user["session_epoch"], user["language"], actor, session)


async def session_actor(session: str, uow: UnitOfWork, *, ip: str | None = None,
                        client: str | None = None) -> tuple[Actor, dict[str, Any], bool]:
    """The actor behind a session id, the person, and whether the session's last_seen_at is
    due an update (:func:`touch_session`). Unauthenticated if the session was signed out,
    has expired, or the person was deactivated or signed out everywhere since it began."""
    async with uow:
        row = await uow.sessions.get(session_digest(session))
        user = await uow.users.get(row["user_id"]) if row else None
        now = uow.now()
    if row is None or user is None or row["revoked_at"] is not None \
            or row["expires_at"] <= now or not user["active"] \
            or user["session_epoch"] != row["session_epoch"]:
        raise Unauthenticated()
    actor = user_actor(user, ip=ip, client=client, source="web")
    return actor, user, now - row["last_seen_at"] >= SEEN_EVERY


async def touch_session(session: str, uow: UnitOfWork) -> None:
    async with uow:
        await uow.sessions.touch(session_digest(session), uow.now())
        await uow.commit()


async def sign_out(session: str, uow: UnitOfWork, *, ip: str | None = None,
                   client: str | None = None) -> None:
    """End this one session on the server: its cookie, wherever a copy is, stops working."""
    async with uow:
        row = await uow.sessions.get(session_digest(session))
        if row is None or not await uow.sessions.revoke(row["id"], uow.now()):
            return
        user = await uow.users.get(row["user_id"])
        if user is not None:
            await uow.audit.record(user_actor(user, ip=ip, client=client), "user.sign_out",
                                   "user", row["user_id"])
        await uow.commit()


async def sign_out_everywhere(actor: Actor, uow: UnitOfWork) -> None:
    """End every session of the signed-in person (on every device)."""
    if actor.kind is not ActorKind.USER:
        raise Unauthenticated()
    async with uow:
        epoch = await uow.users.bump_epoch(int(actor.id), uow.now())
        await uow.sessions.revoke_all(int(actor.id), uow.now())
        await uow.audit.record(actor, "user.sign_out_everywhere", "user", actor.id, None,
                               {"session_epoch": epoch})
        await uow.commit()


async def list_users(uow: UnitOfWork, *, actor: Actor,
                     active: bool | None = None) -> list[dict[str, Any]]:
    require(actor, P.PEOPLE_MANAGE, "user", None)
    async with uow:
        codes = await _codes(uow)
        return [public_user(u, codes) for u in await uow.users.search(active)]


async def get_user(user_id: int, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    if not _is_self(actor, user_id):
        require(actor, P.PEOPLE_MANAGE, "user", user_id)
    async with uow:
        return public_user(await _load(uow, user_id), await _codes(uow))


# Someone with the server's database in hand (the CLI, set-up scripts): may do anything.
OPERATOR = Actor(ActorKind.SYSTEM, "operator", "operator", "cli", frozenset({Role.ADMIN.value}))
