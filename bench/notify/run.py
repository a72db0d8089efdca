"""Notification latency benchmark (issue 4): status change -> email accepted / webhook received.

    .venv/bin/python bench/notify/run.py                      # 25 orders/s for 45 s
    .venv/bin/python bench/notify/run.py --rate 40 --duration 60 --servers 2 --workers 2

One run:

1. drops and re-creates a PostgreSQL database (default ``dingdan_notify``), migrates it
   (``dingdan.store.migrate.upgrade``), seeds 2,000 products, 3 warehouses with ample stock,
   ``ANALYZE``, and issues an ``admin`` API token;
2. starts, in a child process of its own (so the load driver does not share a GIL with it),
   an aiosmtpd server and an HTTP webhook receiver; each records the wall-clock arrival time
   of every message with its ``Dingdan-Event-Id`` header;
3. starts ``dingdan serve`` (``--servers`` processes) and subscribes the receiver to ``["*"]``
   through ``POST /api/v1/webhooks``; then ``--workers`` ``dingdan worker`` processes (the
   first with the timed jobs, the others ``--no-jobs``) with ``DINGDAN_SMTP_*`` pointing at
   the local SMTP server (``tls=none``) and default worker settings (poll 1 s; LISTEN/NOTIFY
   wakes them);
4. places orders at a steady ``--rate`` for ``--duration`` seconds (``POST /api/v1/orders``,
   then ``POST /api/v1/orders/{number}/pay`` right after the answer), then waits (at most
   ``--drain`` seconds) until every queued email and webhook arrived;
5. for every event: t0 = ``order_events.created_at`` (the time stamped in the transaction
   that changed the status), t1 = arrival at the SMTP server / webhook receiver; also
   against the moment the client got the HTTP answer of the status change. Reports
   p50/p90/p99/max and counts per channel, missing deliveries and duplicates.

All processes are on one host, so the clocks are the same clock. Results:
bench/results/notify-<time>.json (git-ignored with the rest of bench/results).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
SKUS = 2_000


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the database ---------------------------------------------------------------------------

def fresh_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    db = u.database
    assert db and db not in ("postgres", "template0", "template1"), "give a scratch database"
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    from dingdan.store.migrate import upgrade

    upgrade(url)
    with psycopg.connect(plain(url)) as conn:
        conn.execute(f"""
INSERT INTO products (sku, name, barcode, price, currency, weight_g, length_mm, width_mm,
                      height_mm, active, version, created_at, updated_at)
SELECT 'SKU-' || lpad(g::text, 5, '0'), '商品 ' || g || ' 号',
       '69' || lpad(g::text, 7, '0') || '0000', 100 + (g * 37) % 9900, 'CNY', 100 + g % 2000,
       100 + g % 300, 80 + g % 200, 20 + g % 100, true, 1, now(), now()
FROM generate_series(1, {SKUS}) g""")
        conn.execute("""
INSERT INTO warehouses (code, name, region, city, address, priority, active, version,
                        created_at, updated_at)
VALUES ('SH', '上海仓', '上海', '上海', '上海 物流园 1 号', 30, true, 1, now(), now()),
       ('GZ', '广州仓', '广东', '广东', '广东 物流园 2 号', 20, true, 1, now(), now()),
       ('CD', '成都仓', '四川', '四川', '四川 物流园 3 号', 10, true, 1, now(), now())""")
        conn.execute("""
INSERT INTO stock (sku, warehouse_id, on_hand, reserved, updated_at)
SELECT p.sku, w.id, 1000000, 0, now() FROM products p CROSS JOIN warehouses w""")
        conn.commit()
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def plain(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(False)


async def issue_admin_token(url: str) -> str:
    from dingdan.domain.events import SYSTEM
    from dingdan.services.tokens import issue_token
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory

    engine = make_engine(url)
    try:
        issued = await issue_token("bench-notify", UnitOfWorkFactory(engine)(),
                                   roles=["admin"], actor=SYSTEM)
    finally:
        await engine.dispose()
    return issued.token


# --- the receivers (a child process) --------------------------------------------------------

def receivers_main(smtp_port: int, http_port: int, ready: Any, stop: Any, counts: Any,
                   conn: Any) -> None:
    """Run aiosmtpd and an HTTP receiver until ``stop``; then send the arrivals on ``conn``."""
    from aiosmtpd.controller import Controller

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lock = threading.Lock()
    emails: list[tuple[str, str, float]] = []  # (event id, recipient, arrival)
    hooks: list[tuple[str, str, float]] = []  # (event id, event type, arrival)

    class SmtpHandler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.time()
            msg = message_from_bytes(envelope.content, policy=default_policy)
            event_id = str(msg["Dingdan-Event-Id"])
            with lock:
                for rcpt in envelope.rcpt_tos:
                    emails.append((event_id, rcpt, now))
                counts[0] += 1
            return "250 2.0.0 queued"

    class HookHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            now = time.time()
            with lock:
                hooks.append((str(self.headers.get("Dingdan-Event-Id")),
                              str(self.headers.get("Dingdan-Event-Type")), now))
                counts[1] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    controller = Controller(SmtpHandler(), hostname="127.0.0.1", port=smtp_port,
                            ready_timeout=10)
    controller.start()
    httpd = ThreadingHTTPServer(("127.0.0.1", http_port), HookHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    ready.set()
    stop.wait()
    httpd.shutdown()
    controller.stop()
    with lock:
        conn.send({"emails": emails, "webhooks": hooks})
    conn.close()


# --- the Dingdan processes ------------------------------------------------------------------

def base_env(url: str, smtp_port: int | None, pythonpath: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGDAN_")}
    env.update({"DINGDAN_DATABASE_URL": url, "DINGDAN_RUN_WORKER_IN_PROCESS": "false",
                "DINGDAN_VAPID_KEY_FILE": "/nonexistent/vapid.pem"})
    if smtp_port is not None:
        env.update({
            "DINGDAN_SMTP_HOST": "127.0.0.1", "DINGDAN_SMTP_PORT": str(smtp_port),
            "DINGDAN_SMTP_TLS": "none", "DINGDAN_SMTP_FROM": "Dingdan <noreply@shop.example>"})
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath,
                                                          env.get("PYTHONPATH")]))
    return env


def start(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_path.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop_proc(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # its own session, started above
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited; see {log_path}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("the server did not come up in 60 s")


# --- the load -------------------------------------------------------------------------------

def order_body(i: int) -> dict[str, Any]:
    skus = [f"SKU-{1 + (i * 7 + k * 613) % SKUS:05d}" for k in range(3)]
    return {
        "channel": "api",
        "customer": {"name": "张伟", "phone": "13800138000",
                     "email": f"buyer{i % 500}@example.com"},
        "shipping_address": {"recipient": "张伟", "phone": "13800138000",
                             "province": "上海市", "city": "上海市", "district": "浦东新区",
                             "street": "世纪大道 100 号", "postcode": "200120"},
        "payment_method": "alipay",
        "lines": [{"sku": s, "quantity": 1 + (i + k) % 3} for k, s in enumerate(skus)],
    }


async def drive(base: str, token: str, rate: float, duration: float,
                run_tag: str) -> dict[str, Any]:
    """Place ``rate`` orders a second (each then paid) for ``duration`` seconds."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    answered: dict[tuple[str, str], float] = {}  # (order number, event type) -> answer time
    errors: list[str] = []
    api_ms: dict[str, list[float]] = {"place": [], "pay": []}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=30) as client:
        async def one(i: int) -> None:
            try:
                t = time.perf_counter()
                r = await client.post("/api/v1/orders", json=order_body(i),
                                      headers={"Idempotency-Key": f"{run_tag}-{i}"})
                api_ms["place"].append((time.perf_counter() - t) * 1000)
                if r.status_code != 201:
                    errors.append(f"place {r.status_code} {r.text[:200]}")
                    return
                number = r.json()["number"]
                answered[(number, "order.placed")] = time.time()
                t = time.perf_counter()
                r = await client.post(f"/api/v1/orders/{number}/pay",
                                      json={"payment_reference": f"PAY-{run_tag}-{i}"})
                api_ms["pay"].append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    errors.append(f"pay {r.status_code} {r.text[:200]}")
                    return
                answered[(number, "order.paid")] = time.time()
            except httpx.HTTPError as exc:
                errors.append(repr(exc))

        tasks = []
        n = int(rate * duration)
        began = time.perf_counter()
        for i in range(n):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        offered_s = time.perf_counter() - began
        await asyncio.gather(*tasks)
    return {"answered": answered, "errors": errors, "orders_offered": n,
            "offered_seconds": round(offered_s, 1),
            "api_ms": {k: summary(v) for k, v in api_ms.items()}}


# --- figures --------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(pct(values, 50), 1), "p90": round(pct(values, 90), 1),
            "p99": round(pct(values, 99), 1), "max": round(max(values), 1),
            "mean": round(statistics.fmean(values), 1)}


def as_epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def analyse(url: str, arrivals: dict[str, list[tuple[str, str, float]]],
            answered: dict[tuple[str, str], float], since: float) -> dict[str, Any]:
    """The events created from ``since`` on (the warm-up's are left out)."""
    with psycopg.connect(plain(url)) as conn:
        events = {r[0]: (r[1], r[2], as_epoch(r[3])) for r in conn.execute(
            "SELECT e.event_id, o.number, e.type, e.created_at FROM order_events e "
            "JOIN orders o ON o.id = e.order_id") if as_epoch(r[3]) >= since}
        before = {r[0] for r in conn.execute("SELECT event_id FROM order_events")} - set(events)
        queued: dict[str, list[tuple[str, str, str]]] = {}
        for channel, event_id, recipient, status in conn.execute(
                "SELECT channel, event_id, recipient, status FROM deliveries"):
            if event_id not in events:
                continue
            queued.setdefault(channel, []).append((event_id, recipient, status))
    out: dict[str, Any] = {"order_events": len(events),
                           "order_events_by_type": {}}
    for _, typ, _ in events.values():
        out["order_events_by_type"][typ] = out["order_events_by_type"].get(typ, 0) + 1
    for channel, key in (("email", "emails"), ("webhook", "webhooks")):
        first: dict[str, float] = {}
        dupes = 0
        warm = {e for e, _, _ in arrivals[key] if e not in events and e in before}
        for event_id, _, t1 in arrivals[key]:
            if event_id in warm:
                continue
            if event_id in first:
                dupes += 1
                first[event_id] = min(first[event_id], t1)
            else:
                first[event_id] = t1
        rows = queued.get(channel, [])
        statuses: dict[str, int] = {}
        for _, _, status in rows:
            statuses[status] = statuses.get(status, 0) + 1
        expected = {e for e, _, _ in rows}
        by_type: dict[str, list[float]] = {}
        from_db: list[float] = []
        from_answer: list[float] = []
        unknown = 0
        for event_id, t1 in first.items():
            if event_id not in events:
                unknown += 1
                continue
            number, typ, t0 = events[event_id]
            from_db.append((t1 - t0) * 1000)
            by_type.setdefault(typ, []).append((t1 - t0) * 1000)
            if (number, typ) in answered:
                from_answer.append((t1 - answered[(number, typ)]) * 1000)
        out[channel] = {
            "queued_events": len(expected), "delivery_rows_by_status": statuses,
            "arrived_events": len(first),
            "arrivals": sum(1 for a in arrivals[key] if a[0] not in warm),
            "duplicates": dupes, "missing": len(expected - set(first)),
            "arrived_but_not_queued": len(set(first) - expected), "unknown_event": unknown,
            "ms_from_event_created_at": summary(from_db),
            "ms_from_http_answer": summary(from_answer),
            "ms_by_event_type": {t: summary(v) for t, v in sorted(by_type.items())},
            "over_2s": sum(1 for v in from_db if v > 2000)}
    return out


# --- the run --------------------------------------------------------------------------------

def main() -> None:
    p = argparse.ArgumentParser(description="Dingdan notification latency benchmark")
    p.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/dingdan_notify")
    p.add_argument("--rate", type=float, default=25.0, help="orders per second")
    p.add_argument("--duration", type=float, default=45.0, help="seconds of intake")
    p.add_argument("--servers", type=int, default=2, help="dingdan serve processes")
    p.add_argument("--workers", type=int, default=2, help="dingdan worker processes")
    p.add_argument("--drain", type=float, default=60.0, help="max seconds to wait at the end")
    p.add_argument("--channels", choices=("both", "email", "webhook"), default="both",
                   help="email: no webhook subscription; webhook: no SMTP host")
    p.add_argument("--pythonpath", help="put this source tree first on the PYTHONPATH of "
                   "the server and the workers (to measure a patched copy of src/)")
    args = p.parse_args()

    from dingdan.settings import Settings

    url = Settings(database_url=args.url).database_url  # the async driver
    RESULTS.mkdir(exist_ok=True)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    log(f"{os.cpu_count()} CPUs, load {' '.join(load0)}; fresh database {args.url}")
    fresh_database(url)
    token = asyncio.run(issue_admin_token(url))

    smtp_port, hook_port, api_port = free_port(), free_port(), free_port()
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    counts = ctx.Array("l", 2)
    parent_conn, child_conn = ctx.Pipe()
    receivers = ctx.Process(target=receivers_main, daemon=True,
                            args=(smtp_port, hook_port, ready, stop, counts, child_conn))
    receivers.start()
    assert ready.wait(30), "the receivers did not start"

    env = base_env(url, None if args.channels == "webhook" else smtp_port, args.pythonpath)
    procs: list[subprocess.Popen[bytes]] = []
    result: dict[str, Any] = {"started": started.isoformat(timespec="seconds"),
                              "command": " ".join([Path(sys.executable).name, *sys.argv]),
                              "nproc": os.cpu_count(), "loadavg_at_start": load0,
                              "rate": args.rate, "duration_s": args.duration,
                              "servers": args.servers, "workers": args.workers,
                              "channels": args.channels, "pythonpath": args.pythonpath}
    try:
        server_log = RESULTS / f"notify-server-{stamp}.log"
        server = start([str(VENV_BIN / "dingdan"), "serve", "--host", "127.0.0.1", "--port",
                        str(api_port), "--workers", str(args.servers), "--no-migrate"],
                       env, server_log)
        procs.append(server)
        wait_healthy(api_port, server, server_log)
        base = f"http://127.0.0.1:{api_port}"
        if args.channels != "email":
            r = httpx.post(f"{base}/api/v1/webhooks", timeout=30,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"url": f"http://127.0.0.1:{hook_port}/dingdan",
                                 "event_types": ["*"], "description": "bench/notify"})
            assert r.status_code == 201, r.text
        for i in range(args.workers):
            cmd = [str(VENV_BIN / "dingdan"), "worker"] + ([] if i == 0 else ["--no-jobs"])
            procs.append(start(cmd, env, RESULTS / f"notify-worker{i}-{stamp}.log"))
        time.sleep(3)  # the workers connect and LISTEN
        for proc in procs:
            assert proc.poll() is None, "a Dingdan process exited; see bench/results/notify-*"
        log(f"{args.servers} server process(es), {args.workers} worker(s); warm-up 20 orders")
        asyncio.run(drive(base, token, 10, 2, f"warm-{stamp}"))
        time.sleep(3)

        log(f"intake: {args.rate:g} orders/s (each then paid) for {args.duration:g} s")
        t_load = time.time()
        load = asyncio.run(drive(base, token, args.rate, args.duration, f"run-{stamp}"))
        log(f"  offered over {load['offered_seconds']} s; errors {len(load['errors'])}; "
            f"API ms place {load['api_ms']['place']}, pay {load['api_ms']['pay']}")
        # Wait until nothing is pending and every sent message has arrived.
        deadline = time.monotonic() + args.drain
        with psycopg.connect(plain(url), autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'pending'), "
                    "count(*) FILTER (WHERE channel = 'email' AND status = 'sent'), "
                    "count(*) FILTER (WHERE channel = 'webhook' AND status = 'sent'), "
                    "(SELECT count(*) FROM outbox WHERE published_at IS NULL) "
                    "FROM deliveries").fetchone()
                assert row is not None
                if row[0] == 0 and row[3] == 0 and counts[0] >= row[1] and counts[1] >= row[2]:
                    break
                time.sleep(0.5)
        result["drained_after_s"] = round(time.time() - t_load - args.duration, 1)
        result["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        for proc in reversed(procs):
            stop_proc(proc)
        stop.set()
        arrivals = parent_conn.recv() if parent_conn.poll(30) else {"emails": [], "webhooks": []}
        receivers.join(timeout=10)

    result["load"] = {k: v for k, v in load.items() if k != "answered"}
    result["load"]["errors"] = load["errors"][:20]
    result["load"]["error_count"] = len(load["errors"])
    result.update(analyse(url, arrivals, load["answered"], t_load))
    result["worker_step_failures"] = sum(
        f.read_text(errors="replace").count("worker step failed")
        for f in RESULTS.glob(f"notify-worker*-{stamp}.log"))
    out = RESULTS / f"notify-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(report(result))
    log(f"results in {out.relative_to(ROOT)}")


def report(r: dict[str, Any]) -> str:
    lines = [f"{r['rate']:g} orders/s for {r['duration_s']:g} s, {r['servers']} server "
             f"process(es), {r['workers']} worker(s); load {' '.join(r['loadavg_at_start'])} "
             f"-> {' '.join(r.get('loadavg_at_end', ['?']))}; intake errors "
             f"{r['load']['error_count']}; order events {r['order_events_by_type']}; "
             f"channels {r['channels']}"
             + (f"; PYTHONPATH {r['pythonpath']}" if r["pythonpath"] else "")
             + f"; worker step failures {r['worker_step_failures']}",
             "", "| channel | t0 | n | p50 ms | p90 ms | p99 ms | max ms | > 2 s | missing | "
             "duplicates |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for channel in ("email", "webhook"):
        c = r[channel]
        for key, label in (("ms_from_event_created_at", "order_events.created_at"),
                           ("ms_from_http_answer", "HTTP answer")):
            s = c[key]
            if not s.get("n"):
                continue
            lines.append(f"| {channel} | {label} | {s['n']} | {s['p50']} | {s['p90']} | "
                         f"{s['p99']} | {s['max']} | "
                         f"{c['over_2s'] if key.startswith('ms_from_event') else ''} | "
                         f"{c['missing']} | {c['duplicates']} |")
    for channel in ("email", "webhook"):
        c = r[channel]
        lines.append(f"{channel}: queued {c['queued_events']} events, arrived "
                     f"{c['arrived_events']}, rows {c['delivery_rows_by_status']}; by type "
                     + ", ".join(f"{t} p50 {s['p50']} / p99 {s['p99']}"
                                 for t, s in c["ms_by_event_type"].items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
