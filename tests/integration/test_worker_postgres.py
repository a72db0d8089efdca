"""Workers side by side on PostgreSQL: claims with FOR UPDATE SKIP LOCKED never hand one
row to two workers; LISTEN/NOTIFY wakes an idle worker; and a worker process killed with
SIGKILL half-way through 500 notifications loses none of them — another worker finishes,
and the SMTP server's de-duplicating mailbox holds every (event, recipient) exactly once.

Each test has a database of its own (the workers read every row in it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dingdan.adapters.notify.email import EmailSender
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.engine import make_engine
from dingdan.store.tables_delivery import deliveries
from dingdan.store.uow import UnitOfWorkFactory
from peers import wait_until
from smtp_peer import SmtpPeer
from worker_support import fresh_pg_database, make_worker, pg_template  # noqa: F401

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from fresh_pg_database(request)


@pytest.fixture
async def pg_uows(pg_db: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = make_engine(pg_db, pool_size=5, max_overflow=20)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer


async def queue_events(uows: UnitOfWorkFactory, n: int, tag: str) -> dict[str, str]:
    """``n`` order-placed events in the outbox, each for a customer of its own:
    event id -> the email address it must reach."""
    expected = {}
    async with uows() as uow:
        repo = DeliveryRepo(uow.conn)
        now = uow.now()
        for i in range(n):
            event_id = str(uuid.uuid4())
            email = f"{tag}-{i}@example.com"
            number = f"DDK{tag[:6].upper()}{i:05d}"
            expected[event_id] = email
            await repo.add_outbox(event_id=event_id, type="order.placed", order_number=number,
                                  now=now, payload={
                                      "event_id": event_id, "type": "order.placed",
                                      "occurred_at": now.isoformat(), "order_number": number,
                                      "data": {}, "order": {
                                          "number": number, "status": "pending_payment",
                                          "payment_status": "unpaid", "total": 9900,
                                          "currency": "CNY",
                                          "customer": {"name": f"客户{i}", "email": email,
                                                       "phone": None}}})
        await uow.commit()
    return expected


def sender_for(smtp: SmtpPeer) -> EmailSender:
    return EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                       from_addr="noreply@shop.example", timeout=10, pool_size=4)


async def statuses(uows: UnitOfWorkFactory) -> dict[str, int]:
    async with uows(read_only=True) as uow:
        rows = await uow.conn.execute(select(deliveries.c.status, func.count())
                                      .group_by(deliveries.c.status))
        return {r[0]: int(r[1]) for r in rows}


async def wait_for_statuses(uows: UnitOfWorkFactory, wanted: dict[str, int],
                            within: float) -> None:
    """Poll the delivery log until it shows ``wanted``, failing after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (seen := await statuses(uows)) != wanted:
        if loop.time() > deadline:
            raise AssertionError(f"delivery log shows {seen}, not {wanted}")
        await asyncio.sleep(0.05)


async def test_two_workers_never_deliver_the_same_row_twice(pg_db: str, smtp: SmtpPeer):
    engines = [make_engine(pg_db, pool_size=5, max_overflow=10) for _ in range(2)]
    uows = [UnitOfWorkFactory(e) for e in engines]
    expected = await queue_events(uows[0], 300, uuid.uuid4().hex[:8])
    senders = [sender_for(smtp), sender_for(smtp)]
    workers = [make_worker(u, {"email": s}, owner=f"w{i}", batch_size=10, concurrency=4,
                           jobs=False)
               for i, (u, s) in enumerate(zip(uows, senders, strict=True))]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        await wait_until(lambda: smtp.count(set(expected.values())) >= 300, within=60,
                         what="300 emails")
        await wait_until(lambda: sum(w.stats["sent"] for w in workers) == 300, within=10,
                         what="300 outcomes recorded")
        log = await statuses(uows[0])
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for s in senders:
            await s.close()
        for e in engines:
            await e.dispose()
    assert smtp.duplicates() == 0
    assert smtp.count() == 300
    assert {(r.event_id, r.rcpt_to[0]) for r in smtp.received} == set(expected.items())
    assert all(w.stats["claimed"] > 0 for w in workers), [w.stats for w in workers]
    assert sum(w.stats["claimed"] for w in workers) == 300
    assert log == {"sent": 300}


async def test_notify_wakes_an_idle_worker_long_before_its_poll(pg_uows, smtp: SmtpPeer):
    sender = sender_for(smtp)
    worker = make_worker(pg_uows, {"email": sender}, poll_seconds=60, jobs=False,
                         listen_url=pg_uows.engine.url.render_as_string(hide_password=False))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await wait_until(lambda: worker.listening and worker.stats["steps"] >= 2, within=10,
                         what="the worker to listen and go idle")
        started = asyncio.get_running_loop().time()
        expected = await queue_events(pg_uows, 1, uuid.uuid4().hex[:8])
        await wait_until(lambda: smtp.count(set(expected.values())) == 1, within=5,
                         what="the email, woken by NOTIFY")
        assert asyncio.get_running_loop().time() - started < 5  # the poll would take 60 s
    finally:
        stop.set()
        await task
        await sender.close()


def _worker_process(db: str, smtp: SmtpPeer, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGDAN_")}
    env.update({
        "DINGDAN_ENV": "test", "DINGDAN_DATABASE_URL": db,
        "DINGDAN_SMTP_HOST": "127.0.0.1", "DINGDAN_SMTP_PORT": str(smtp.port),
        "DINGDAN_SMTP_TLS": "none", "DINGDAN_SMTP_FROM": "noreply@shop.example",
        "DINGDAN_DEFAULT_LANGUAGE": "en", "DINGDAN_VAPID_KEY_FILE": "/nonexistent/vapid.pem",
        "DINGDAN_WORKER_BATCH_SIZE": "20", "DINGDAN_WORKER_CONCURRENCY": "5",
        "DINGDAN_WORKER_LEASE_SECONDS": "4", "DINGDAN_WORKER_POLL_SECONDS": "0.2",
        "DINGDAN_SMTP_POOL_SIZE": "5"})
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from dingdan.cli import main; main()", "worker"],
            env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
async def test_a_killed_worker_loses_nothing_and_the_next_one_finishes(
        pg_db: str, pg_uows: UnitOfWorkFactory, smtp: SmtpPeer, tmp_path: Path):
    expected = await queue_events(pg_uows, 500, uuid.uuid4().hex[:8])
    addresses = set(expected.values())
    smtp.delay = 0.01  # the kill must land half-way, not after the last message
    log = tmp_path / "workers.log"
    first = _worker_process(pg_db, smtp, log)
    try:
        await wait_until(lambda: smtp.count(addresses) >= 250, within=90,
                         what=f"half of the emails (worker log: {log})")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = smtp.count(addresses)
    assert first.returncode == -signal.SIGKILL
    assert at_kill < 500, "the worker finished before it was killed; nothing was tested"
    in_flight = (await statuses(pg_uows)).get("pending", 0)
    assert in_flight > 0

    second = _worker_process(pg_db, smtp, log)
    try:
        await wait_until(lambda: len(smtp.mailbox(addresses)) == 500, within=90,
                         what=f"every email after the restart (worker log: {log})")
        await wait_for_statuses(pg_uows, {"sent": 500}, within=15)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()
    assert second.returncode == 0, log.read_text()[-3000:]
    assert await statuses(pg_uows) == {"sent": 500}
    box = smtp.mailbox(addresses)
    assert {(r.event_id, rcpt) for (_mid, rcpt), r in box.items()} == set(expected.items())
    # At least once: only what was in flight when the worker died may have arrived twice,
    # with the same Message-ID, so the mailbox above holds it once.
    duplicates = smtp.duplicates(addresses)
    assert duplicates <= 5, f"{duplicates} duplicates; at most the 5 in flight may repeat"
    print(f"killed after {at_kill}/500 accepted; {duplicates} re-sent in-flight message(s)")
