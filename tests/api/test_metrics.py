"""``GET /metrics`` (issue 16, item 5): off without a token, refused with a wrong one, and
figures that follow what happened — requests by route template, orders placed, the outbox
backlog and its lag on the test's clock."""

from __future__ import annotations

import httpx
import pytest
from api_support import order_in
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from dingdan.settings import Settings

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def requests(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], method: str,
             route: str, status: str) -> float:
    key = ("dingdan_http_requests_total",
           tuple(sorted({"method": method, "route": route, "status": status}.items())))
    return samples.get(key, 0.0)


async def test_metrics_need_the_token(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/metrics")  # the client's admin API token is not the token
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = await app_client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


async def test_metrics_are_off_without_a_token(settings: Settings) -> None:
    from asgi_lifespan import LifespanManager

    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"metrics_token": None}))
    async with LifespanManager(app) as m, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=m.app), base_url="http://t") as c:
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 404


async def test_requests_are_counted_by_route_template(app_client: httpx.AsyncClient) -> None:
    order, _ = await order_in(app_client, "pending_payment")
    before = await scrape(app_client)
    for _ in range(3):
        assert (await app_client.get(f"/api/v1/orders/{order['number']}")).status_code == 200
    assert (await app_client.get("/api/v1/orders/NO-SUCH-ORDER")).status_code == 404
    assert (await app_client.get("/no/such/route")).status_code == 404
    after = await scrape(app_client)
    route = "/api/v1/orders/{number}"
    assert requests(after, "GET", route, "200") - requests(before, "GET", route, "200") == 3
    assert requests(after, "GET", route, "404") - requests(before, "GET", route, "404") == 1
    assert requests(after, "GET", "unmatched", "404") - requests(
        before, "GET", "unmatched", "404") == 1
    count = ("dingdan_http_request_duration_seconds_count",
             tuple(sorted({"method": "GET", "route": route}.items())))
    assert after[count] - before.get(count, 0.0) == 4


async def test_orders_and_outbox_lag_follow_the_database(app_client: httpx.AsyncClient,
                                                         clock: object) -> None:
    await order_in(app_client, "pending_payment")
    samples = await scrape(app_client)
    assert samples[("dingdan_orders_placed_last_minute", ())] >= 1
    assert samples[("dingdan_outbox_unpublished", ())] >= 1  # no worker runs here
    assert samples[("dingdan_outbox_lag_seconds", ())] == 0.0  # the test's clock stands still
    clock.advance(seconds=90)  # type: ignore[attr-defined]
    samples = await scrape(app_client)
    assert samples[("dingdan_outbox_lag_seconds", ())] == 90.0
    assert samples[("dingdan_orders_placed_last_minute", ())] == 0
    assert ("dingdan_deliveries", (("status", "dead"),)) in samples
    assert ("dingdan_sla_alerts_open", (("kind", "breached"),)) in samples
