"""A bounded schemathesis run over the whole OpenAPI document, against a real server.

Every operation gets a few generated requests (fixed: ``derandomize``), signed in as an admin;
each answer must not be a 5xx and must match the document's response schema. It runs against
a real uvicorn server on a fresh SQLite database, so what the document promises is what the
server on the wire does. New endpoints are covered without new tests. Kept small (a few
examples per operation) so CI spends about two minutes on it; ``DINGDAN_FUZZ_EXAMPLES`` runs
more by hand.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dingdan.settings import Settings

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("DINGDAN_FUZZ_EXAMPLES", "6"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server on a fresh, migrated SQLite database, and an admin API token."""
    import uvicorn

    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR
    from dingdan.store.engine import make_engine
    from dingdan.store.migrate import upgrade
    from dingdan.store.uow import UnitOfWorkFactory
    from dingdan.web.app import create_app

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    upgrade(url)

    async def token() -> str:
        engine = make_engine(url)
        try:
            return (await issue_token("fuzz", UnitOfWorkFactory(engine)(), roles=["admin"],
                                      actor=OPERATOR)).token
        finally:
            await engine.dispose()

    bearer = asyncio.run(token())
    app = create_app(Settings(database_url=url, env="test", default_language="en",
                              token_cache_seconds=60, argon2_time_cost=1,
                              argon2_memory_kib=8192, argon2_parallelism=1,
                              static_dir=Path("/nonexistent")))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:  # bounded poll for the server to listen
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fuzz server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", bearer
    server.should_exit = True
    thread.join(timeout=30)


def _document() -> dict[str, object]:
    """The OpenAPI document the server serves (built without starting anything)."""
    from dingdan.web.app import create_app

    return create_app(Settings(env="test", database_url="sqlite+aiosqlite:///:memory:")).openapi()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx_or_an_answer_the_document_does_not_promise(
        case: schemathesis.Case, served: tuple[str, str]) -> None:
    base, bearer = served
    case.call_and_validate(base_url=base,
                           headers={"Authorization": f"Bearer {bearer}"},
                           checks=[not_a_server_error, response_schema_conformance])
