"""The permission matrix through the API: every role × every endpoint, allowed or denied
exactly as ``MATRIX`` says (lifecycle endpoints through ``ACTION_PERMISSION``, via
``permission_for``). A denial is a 403 problem document with code FORBIDDEN and changes
nothing; an allowed call succeeds. The endpoint catalogue must list every operation of the
OpenAPI document, so no endpoint escapes the walk.
"""

from __future__ import annotations

import httpx
import pytest
from endpoints import ENDPOINTS, PUBLIC, Ctx, api_operations

from dingdan.domain.permissions import MATRIX, Role
from people_support import ROLES


def test_the_catalogue_lists_every_api_operation(app_client) -> None:
    listed = {f"{e.method} {e.path}" for e in ENDPOINTS}
    served = api_operations(app_client.app) - {"GET /api/v1/openapi.json"}
    assert served - listed == set(), "endpoints missing from tests/api/endpoints.py"
    assert listed - served == set(), "endpoints in tests/api/endpoints.py that are gone"


@pytest.mark.parametrize("role", ROLES)
async def test_the_api_obeys_the_matrix(app_client, role_client, role: str) -> None:
    client = await role_client(role)
    ctx = await Ctx.create(app_client)
    wrong: list[str] = []
    try:
        for ep in ENDPOINTS:
            call = await ep.make(ctx)
            r = await client.request(ep.method, call.url, json=call.json, params=call.params,
                                     files=call.files)
            allowed = ep.permission is None or ep.permission in MATRIX[Role(role)]
            if ep.name.split(" (")[0] in PUBLIC:
                ok = r.status_code not in (401, 403)
            elif allowed:
                ok = r.status_code < 300
            else:
                ok = r.status_code == 403 and r.json().get("code") == "FORBIDDEN"
            if not ok:
                wrong.append(f"{ep.name}: {r.status_code} {r.text[:160]} — the matrix says "
                             f"{'allowed' if allowed else 'denied'} "
                             f"({ep.permission.value if ep.permission else 'signed in'})")
            if ep.cleanup and r.status_code < 300:
                await ep.cleanup(ctx, call, r)
    finally:
        await ctx.close()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


async def test_nobody_signed_in_gets_401_everywhere_but_the_public_endpoints(app_client) -> None:
    ctx = await Ctx.create(app_client)
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_client.app),
                                  base_url="http://dingdan.test")
    wrong: list[str] = []
    async with anonymous:
        try:
            await _walk_anonymously(anonymous, ctx, wrong)
        finally:
            await ctx.close()
    assert not wrong, "\n".join(wrong)


async def _walk_anonymously(anonymous: httpx.AsyncClient, ctx: Ctx, wrong: list[str]) -> None:
    for ep in ENDPOINTS:
        if ep.name.split(" (")[0] in PUBLIC or ep.path.endswith("/push/subscriptions"):
            continue  # customers subscribe with an order number and its phone or email
        call = await ep.make(ctx)
        r = await anonymous.request(ep.method, call.url, json=call.json, params=call.params,
                                       files=call.files)
        if r.status_code != 401 or r.json().get("code") != "UNAUTHENTICATED":
            wrong.append(f"{ep.name}: {r.status_code}")
