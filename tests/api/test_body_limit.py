"""Request bodies past ``max_body_bytes`` are refused with 413 before they are read: by
Content-Length up front, and by counting the chunks of a body that declares no length."""

from __future__ import annotations

import json
from typing import Any

import httpx
from endpoints import API

from dingdan.settings import Settings

MIB = 1 << 20
CHUNK = 64 * 1024


class Upload:
    """Drives the ASGI app by hand, so the test sees how much of the body was pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= self.total:
            return {"type": "http.disconnect"}
        size = min(CHUNK, self.total - self.pulled)
        self.pulled += size
        return {"type": "http.request", "body": b"{" + b" " * (size - 1),
                "more_body": self.pulled < self.total}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def post(self, app: Any, path: str, headers: dict[str, str]) -> int:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "root_path": "", "query_string": b"", "server": ("dingdan.test", 80),
                 "client": ("203.0.113.9", 5000),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        await app(scope, self.receive, self.send)
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        status: int = start["status"]
        return status

    def problem(self) -> dict[str, Any]:
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        doc: dict[str, Any] = json.loads(body)
        return doc


def auth(app_client: httpx.AsyncClient) -> dict[str, str]:
    return {"authorization": app_client.headers["Authorization"],
            "content-type": "application/json"}


async def test_a_20_mb_body_is_refused_by_its_length_without_reading_it(
        app_client: httpx.AsyncClient) -> None:
    upload = Upload(20 * MIB)
    status = await upload.post(app_client.app, f"{API}/orders",  # type: ignore[attr-defined]
                               {**auth(app_client), "content-length": str(20 * MIB)})
    assert status == 413
    assert upload.problem()["code"] == "PAYLOAD_TOO_LARGE"
    assert upload.pulled == 0  # not a byte read


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
        app_client: httpx.AsyncClient) -> None:
    upload = Upload(20 * MIB)
    status = await upload.post(app_client.app, f"{API}/orders",  # type: ignore[attr-defined]
                               {**auth(app_client), "transfer-encoding": "chunked"})
    assert status == 413
    assert upload.problem()["code"] == "PAYLOAD_TOO_LARGE"
    assert upload.pulled <= MIB + CHUNK  # reading stopped at the limit


async def test_a_form_past_the_limit_is_refused_before_the_csrf_check_reads_it(
        app_client: httpx.AsyncClient) -> None:
    upload = Upload(20 * MIB)
    status = await upload.post(app_client.app, "/login",  # type: ignore[attr-defined]
                               {"content-type": "application/x-www-form-urlencoded"})
    assert status == 413
    assert upload.pulled <= MIB + CHUNK


async def test_the_limit_is_a_setting_and_the_answer_says_it(settings: Settings,
                                                             clock: Any) -> None:
    from asgi_lifespan import LifespanManager

    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"max_body_bytes": 2000}), clock)
    async with LifespanManager(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dingdan.test") as c:
        r = await c.post(f"{API}/orders", content=b"x" * 2001,
                         headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        assert r.json()["params"] == {"max_bytes": 2000} and "2000" in r.json()["detail"]
        assert r.headers["x-frame-options"] == "DENY"  # still a secured answer
        small = await c.post(f"{API}/orders", content=b"x" * 2000,
                             headers={"content-type": "application/json"})
        assert small.status_code == 400  # read, then refused for what it is
        assert small.json()["code"] == "MALFORMED_JSON"


async def test_ordinary_bodies_pass(app_client: httpx.AsyncClient) -> None:
    r = await app_client.post(f"{API}/warehouses", json={"code": "BL-1", "name": "仓",
                                                         "region": "上海"})
    assert r.status_code == 201, r.text
