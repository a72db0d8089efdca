"""A server started as the README says (``./scripts/demo``, ``dingdan serve``: development,
no DINGDAN_SECRET_KEY) does not accept a session cookie signed with the public
DEV_SECRET_KEY: anyone could sign one for the admin (issue 15, item 3)."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import itsdangerous
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from conftest import ref
from dingdan.services.users import OPERATOR, CreateUser, UserFields, create_user
from dingdan.settings import DEV_SECRET_KEY, Settings
from dingdan.web.auth import SESSION_COOKIE, derive_key


def forged_cookie(secret: str, session: dict[str, int]) -> str:
    """Signed exactly as Starlette's SessionMiddleware signs its cookie."""
    key = derive_key(Settings(env="test", secret_key=secret), "session")
    data = b64encode(json.dumps(session).encode("utf-8"))
    return itsdangerous.TimestampSigner(key).sign(data).decode("utf-8")


@pytest.fixture
async def demo_server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      ) -> AsyncIterator[FastAPI]:
    """The app as ``dingdan serve`` builds it in each server process, from the environment."""
    from dingdan.server import app as served

    for name in ("DINGDAN_SECRET_KEY", "DINGDAN_ENV", "DINGDAN_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    monkeypatch.setenv("DINGDAN_RUN_WORKER_IN_PROCESS", "false")
    monkeypatch.setenv("DINGDAN_ARGON2_MEMORY_KIB", "8192")
    monkeypatch.chdir(tmp_path)
    app = served()
    async with LifespanManager(app):
        yield app


async def test_a_demo_server_refuses_a_session_signed_with_the_development_key(
        demo_server: FastAPI, tmp_path: Path) -> None:
    admin = await create_user(CreateUser(UserFields(
        "Admin", email=f"{ref().lower()}@example.com", roles=frozenset({"admin"})), OPERATOR),
        demo_server.state.uow())
    async with demo_server.state.uow(read_only=True) as uow:
        epoch = (await uow.users.get(admin["id"]))["session_epoch"]
    session = {"uid": admin["id"], "epoch": epoch}

    async def people(cookie: str) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo_server),
                                     base_url="http://127.0.0.1:8000",
                                     cookies={SESSION_COOKIE: cookie}) as c:
            return (await c.get("/people")).status_code

    assert await people(forged_cookie(DEV_SECRET_KEY, session)) != 200
    # The cookie is made right: signed with the server's own key, the same session opens.
    own = (tmp_path / ".dingdan_secret").read_text().strip()
    assert await people(forged_cookie(own, session)) == 200
