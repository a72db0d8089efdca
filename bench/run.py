"""The intake benchmark: Dingdan's ``POST /api/v1/orders`` against the bare SQL it issues.

    .venv/bin/python bench/run.py                 # everything, ~6 minutes
    .venv/bin/python bench/run.py --duration 10 --workers 1 --no-sqlite   # a quicker look
    .venv/bin/python bench/run.py --profile       # also py-spy the server under load

In one run, on freshly populated databases (bench/populate.py: 10,000 SKUs, 3 warehouses,
200,000 orders of history, analysed):

0. one order is placed with ``DINGDAN_ECHO_SQL=1`` and the statements it issues are compared
   with bench/dingdan_intake.sql's (a warning says if the intake path changed since);
1. pgbench runs bench/dingdan_intake.sql (Dingdan's own intake statements) with 8 clients;
2. ``dingdan serve`` on PostgreSQL with 1, then 2 server processes, each driven by wrk
   (bench/order.lua: 3-line orders of random SKUs) with 8, then 32 connections;
3. pgbench again with 8 clients (the ratio uses the mean of the two bare runs, so a shift in
   the machine's load during the run shows up as a gap between them), then with 32;
4. ``dingdan serve`` on SQLite, one process, 8 connections;
5. checks that no stock row has reserved > on hand or < 0, and that reserved stock equals the
   open orders' lines, on both databases.

It records orders/s, p50/p99 latency, errors, the CPU time of the server, of wrk and of the
whole machine during each run, and the peak resident memory (VmHWM) of every server process.
With ``--profile`` it then samples the one-process server with py-spy under 8 clients and
sums the samples by package (bench/results/profile-pg-w1-summary.txt).
Results go to bench/results/run-<time>.json and bench/results/latest.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")
PG_URL = "postgresql://postgres@127.0.0.1/dingdan_bench"
SQLITE_URL = f"sqlite:///{RESULTS / 'bench.db'}"


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


# --- the machine ----------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    assert found, "wrk did not install"
    return found


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / TICK


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def tree(pid: int) -> list[int]:
    pids = [pid]
    for c in children(pid):
        pids += tree(c)
    return pids


def status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def machine_facts() -> dict[str, Any]:
    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres") as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                    for name in ("shared_buffers", "synchronous_commit", "fsync",
                                 "wal_level", "max_connections", "work_mem",
                                 "effective_cache_size", "checkpoint_timeout",
                                 "max_wal_size")}
    total_mem = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1]) // 1024
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_mib": total_mem,
            "kernel": os.uname().release, "python": sys.version.split()[0],
            "postgresql": version, "pg_settings": settings,
            "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n")[0].strip(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3]}


class BackendCpu:
    """CPU seconds used by PostgreSQL's backends serving the bench database, sampled while a
    run goes (a backend that leaves before the end keeps its last sample)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def sample(self) -> None:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()
        for (pid,) in rows:
            cpu = proc_cpu(pid)
            self.first.setdefault(pid, cpu)
            self.last[pid] = cpu

    def seconds(self) -> float:
        self.sample()
        self.conn.close()
        return sum(self.last[p] - self.first[p] for p in self.last)


# --- the server -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, workers: int, env: dict[str, str] | None = None,
                 name: str | None = None) -> None:
        self.url = url
        self.workers = workers
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_kb: dict[int, int] = {}
        self.log = RESULTS / (name or f"server-{'sqlite' if url.startswith('sqlite') else 'pg'}"
                                      f"-w{workers}.log")

    def start(self) -> None:
        env = {**os.environ, "DINGDAN_DATABASE_URL": self.url}
        env.pop("DINGDAN_ECHO_SQL", None)
        env.update(self.env)
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "dingdan"), "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(self.workers), "--no-migrate"],
            cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz",
                                            timeout=2) as r:
                    if r.status == 200 and len(self.serving_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the server did not come up in 60 s")

    def pids(self) -> list[int]:
        assert self.proc is not None
        return tree(self.proc.pid)

    def serving_pids(self) -> list[int]:
        """The processes that serve requests: the workers, or the one process."""
        pids = self.pids()
        if self.workers == 1:
            return pids[:1]
        # uvicorn's supervisor, then its workers (and maybe a resource tracker): keep those
        # that are uvicorn workers, i.e. that have a listening socket inherited and Python.
        return [p for p in pids[1:] if _is_python(p)]

    def cpu(self) -> float:
        return sum(proc_cpu(p) for p in self.pids())

    def cpu_by_pid(self) -> dict[int, float]:
        return {p: proc_cpu(p) for p in self.serving_pids()}

    def sample_memory(self) -> None:
        for p in self.pids():
            hwm = status_kb(p, "VmHWM")
            if hwm is not None:
                self.peak_kb[p] = max(self.peak_kb.get(p, 0), hwm)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.sample_memory()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own session, started above
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


def _is_python(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"python" in cmd and b"resource_tracker" not in cmd


@contextmanager
def serving(url: str, workers: int, env: dict[str, str] | None = None,
            name: str | None = None) -> Iterator[Server]:
    server = Server(url, workers, env, name)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- load -----------------------------------------------------------------------------------

_RUN_SEQ = 0


def run_wrk(server: Server, clients: int, duration: int, token: str) -> dict[str, Any]:
    global _RUN_SEQ
    _RUN_SEQ += 1
    env = {**os.environ, "BENCH_TOKEN": token,
           "BENCH_RUN_ID": f"{os.getpid()}-{int(time.time())}-{_RUN_SEQ}"}
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{duration}s", "--timeout", "10s", "--latency",
           "-s", str(BENCH / "order.lua"), f"http://127.0.0.1:{server.port}"]
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    m0, srv0, t0 = machine_cpu(), server.cpu(), time.monotonic()
    by_pid0 = server.cpu_by_pid()
    backends = BackendCpu(PG_URL) if server.url.startswith("postgres") else None
    if backends:
        backends.sample()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    # Sample the servers' peak memory while the load runs, not only at the end; reap wrk
    # with wait4 to learn its own CPU time.
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        server.sample_memory()
        if backends:
            backends.sample()
        time.sleep(0.5)
    wall = time.monotonic() - t0
    db_cpu = backends.seconds() if backends else None
    m1, srv1 = machine_cpu(), server.cpu()
    by_pid = {str(p): round(c - by_pid0.get(p, 0.0), 2) for p, c in server.cpu_by_pid().items()}
    server.sample_memory()
    out.seek(0)
    text = out.read().decode()
    out.close()
    match = re.search(r"^BENCH_JSON (.*)$", text, re.M)
    if not match:
        raise RuntimeError(f"wrk said:\n{text}")
    r = json.loads(match.group(1))
    errors = sum(r["errors"].values())
    seconds = r["duration_us"] / 1e6
    ok = r["requests"] - r["errors"]["status"]
    wrk_cpu = usage.ru_utime + usage.ru_stime
    busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    return {
        "clients": clients, "seconds": round(seconds, 2), "requests": r["requests"],
        "orders": ok, "orders_per_s": round(ok / seconds, 1), "errors": errors,
        "error_detail": r["errors"],
        "p50_ms": round(r["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(r["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(r["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(r["latency_us"]["max"] / 1000, 2),
        "server_cpu_s": round(srv1 - srv0, 2),
        "server_cpu_ms_per_order": round(1000 * (srv1 - srv0) / max(ok, 1), 2),
        "server_cpu_s_by_process": by_pid,
        "wrk_cpu_s": round(wrk_cpu, 2),
        "db_cpu_ms_per_order": round(1000 * db_cpu / max(ok, 1), 2) if db_cpu is not None
        else None,
        # Everything this order cost the machine: server, database backends and wrk.
        "total_cpu_ms_per_order": round(1000 * ((srv1 - srv0) + (db_cpu or 0.0) + wrk_cpu)
                                        / max(ok, 1), 2),
        "wrk_cpu_share_of_machine": round(wrk_cpu / (wall * (os.cpu_count() or 1)), 3),
        "machine_busy": round(busy, 3),
    }


def run_pgbench(clients: int, duration: int, db: str = "dingdan_bench") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "pgb")
        cmd = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared",
               "-c", str(clients), "-j", "2", "-T", str(duration), "-l",
               "--log-prefix", prefix, "-f", str(BENCH / "dingdan_intake.sql"), db]
        m0 = machine_cpu()
        backends = BackendCpu(PG_URL)
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    break
                backends.sample()
                time.sleep(0.5)
            out.seek(0)
            stdout = out.read().decode()
        m1 = machine_cpu()
        db_cpu = backends.seconds()
        client_cpu = usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{stdout}")
        latencies = []
        for f in Path(tmp).glob("pgb*"):
            for line in f.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]))
    tps = float(re.search(r"tps = ([\d.]+) \(without", stdout).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"number of failed transactions: (\d+)", stdout)  # type: ignore[union-attr]
                 .group(1))
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000, 2)

    return {"clients": clients, "seconds": duration, "orders": len(latencies),
            "orders_per_s": round(tps, 1), "errors": failed, "p50_ms": pct(0.50),
            "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "pgbench_cpu_s": round(client_cpu, 2),
            "db_cpu_ms_per_order": round(1000 * db_cpu / max(len(latencies), 1), 2),
            "total_cpu_ms_per_order": round(1000 * (db_cpu + client_cpu)
                                            / max(len(latencies), 1), 2),
            "machine_busy": round((m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 3)}


# --- checks ---------------------------------------------------------------------------------

OPEN = "('pending_payment', 'paid', 'pending_review', 'on_hold', 'approved', 'allocated', " \
       "'picking', 'packed')"
CHECKS = {
    "oversold_rows": "SELECT count(*) FROM stock WHERE reserved > on_hand OR reserved < 0",
    "rows_where_reserved_differs_from_open_lines": f"""
        SELECT count(*) FROM stock s LEFT JOIN (
            SELECT l.sku, l.warehouse_id, sum(l.quantity) AS q
            FROM order_lines l JOIN orders o ON o.id = l.order_id
            WHERE o.status IN {OPEN} GROUP BY l.sku, l.warehouse_id) x
          ON x.sku = s.sku AND x.warehouse_id = s.warehouse_id
        WHERE s.reserved <> coalesce(x.q, 0)""",
    "orders": "SELECT count(*) FROM orders",
}


def check(url: str) -> dict[str, int]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split(":///", 1)[1])
        try:
            return {k: conn.execute(q).fetchone()[0] for k, q in CHECKS.items()}
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        return {k: pg.execute(q.encode()).fetchone()[0]  # type: ignore[index]
                for k, q in CHECKS.items()}


def count_orders(url: str) -> int:
    return check(url)["orders"] if url.startswith("sqlite") else _pg_count(url)


def _pg_count(url: str) -> int:
    with psycopg.connect(url) as pg:
        return int(pg.execute("SELECT count(*) FROM orders").fetchone()[0])  # type: ignore[index]


# --- which statements one order costs ------------------------------------------------------

ORDER_BODY = {
    "channel": "api",
    "customer": {"name": "张伟", "phone": "13800138000", "email": "zhang.wei@example.com"},
    "shipping_address": {"recipient": "张伟", "phone": "13800138000", "province": "上海市",
                         "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号",
                         "postcode": "200120"},
    "payment_method": "alipay",
    "lines": [{"sku": "SKU-00001", "quantity": 2}, {"sku": "SKU-00500", "quantity": 1},
              {"sku": "SKU-09999", "quantity": 3}],
}


def _signature(sql: str) -> str:
    """'SELECT orders', 'UPDATE stock', 'INSERT order_lines', 'BEGIN', ... of one statement."""
    sql = " ".join(sql.split())
    verb = sql.split(" ", 1)[0].upper()
    if verb in ("BEGIN", "COMMIT", "ROLLBACK"):
        return verb
    pattern = {"INSERT": r"INSERT INTO (\w+)", "UPDATE": r"UPDATE (\w+)",
               "DELETE": r"DELETE FROM (\w+)", "SELECT": r"\bFROM (\w+)"}.get(verb)
    m = re.search(pattern, sql, re.I) if pattern else None
    return f"{verb} {m.group(1)}" if m else verb


def dingdan_statements(token: str) -> list[str]:
    """The statements one ``POST /api/v1/orders`` issues, from the server's SQL echo."""
    with serving(PG_URL, 1, env={"DINGDAN_ECHO_SQL": "1"}, name="server-echo.log") as server:
        def post() -> int:
            body = json.dumps(ORDER_BODY).encode()
            req = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/api/v1/orders", data=body, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                         "Idempotency-Key": f"census-{os.getpid()}-{time.time_ns()}"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return int(r.status)

        post()  # the first one also checks the token and warms the caches
        time.sleep(0.5)
        start = server.log.stat().st_size
        assert post() == 201
        time.sleep(0.5)
        with server.log.open("rb") as f:
            f.seek(start)
            text = f.read().decode(errors="replace")
    statements: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        m = re.search(r"sqlalchemy\.engine\.Engine (.*)$", line)
        if m:
            if current is not None:
                statements.append(" ".join(current))
                current = None
            rest = m.group(1)
            if not rest.startswith(("[", "{", "(")):
                current = [rest]
        elif current is not None and not re.match(r"^\d{4}-\d\d-\d\d ", line):
            current.append(line)
    if current is not None:
        statements.append(" ".join(current))
    return [_signature(s) for s in statements]


def pgbench_statements(script: Path) -> list[str]:
    sql = "\n".join(line for line in script.read_text().splitlines()
                    if not line.lstrip().startswith(("--", "\\set")))
    parts = re.split(r";\s*$|\\gset.*$", sql, flags=re.M)
    return [_signature(p) for p in parts if p.strip()]


# --- profile --------------------------------------------------------------------------------

def profile(token: str, duration: int, clients: int) -> dict[str, Any]:
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        log("py-spy missing: .venv/bin/uv pip install --python .venv/bin/python py-spy")
        subprocess.run([str(VENV_BIN / "uv"), "pip", "install", "--python", sys.executable,
                        "py-spy"], check=True)
    raw = RESULTS / "profile-pg-w1.txt"
    with serving(PG_URL, 1) as server:
        run_wrk(server, clients, 3, token)  # warm-up
        pid = server.serving_pids()[0]
        spy_proc = subprocess.Popen([str(spy), "record", "--pid", str(pid), "--duration",
                                     str(duration - 2), "--rate", "250", "--format", "raw",
                                     "--nonblocking", "-o", str(raw)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = run_wrk(server, clients, duration, token)
        spy_proc.wait()
    summary = summarise_profile(raw)
    (RESULTS / "profile-pg-w1-summary.txt").write_text(summary)
    return {"run": result, "raw": str(raw.relative_to(ROOT)), "summary": summary}


# Buckets for a profile, first match wins, tested on each frame from the leaf up.
BUCKETS = [
    ("psycopg (driver, incl. socket I/O)", ("psycopg/",)),
    ("SQLAlchemy (compile, execute, results)", ("sqlalchemy/",)),
    ("pydantic (validate, serialise)", ("pydantic/", "pydantic_core")),
    ("Dingdan domain (validation, rules)", ("dingdan/domain/",)),
    ("FastAPI / Starlette (routing, deps, responses)", ("fastapi/", "starlette/")),
    ("uvicorn / httptools (HTTP)", ("uvicorn/", "httptools")),
    ("asyncio event loop", ("asyncio/", "uvloop")),
    ("Dingdan store/services/web", ("dingdan/",)),
]


def summarise_profile(raw: Path) -> str:
    """Per-bucket share of samples by the innermost frame's package, and the top functions."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    buckets: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n_text = line.rpartition(" ")
        if not stack:
            continue
        n = int(n_text)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
        for f in reversed(frames):
            name = next((b for b, keys in BUCKETS if any(k in f for k in keys)), None)
            if name:
                buckets[name] = buckets.get(name, 0) + n
                break
        else:
            buckets["other"] = buckets.get("other", 0) + n
    lines = [f"{total} samples (py-spy, 250 Hz, active time of the one server process)", "",
             "by package of the innermost known frame:"]
    lines += [f"  {100 * v / total:5.1f}%  {k}" for k, v in
              sorted(buckets.items(), key=lambda kv: -kv[1])]
    lines += ["", "inclusive, Dingdan functions:"]
    lines += [f"  {100 * v / total:5.1f}%  {k}" for k, v in
              sorted(incl.items(), key=lambda kv: -kv[1]) if "dingdan/" in k][:25]
    lines += ["", "own time, top 25 frames:"]
    lines += [f"  {100 * v / total:5.1f}%  {k}" for k, v in
              sorted(own.items(), key=lambda kv: -kv[1])[:25]]
    return "\n".join(lines) + "\n"


# --- the run --------------------------------------------------------------------------------

def populate(url: str, token_file: Path) -> str:
    subprocess.run([sys.executable, str(BENCH / "populate.py"), "--url", url, "--token-file",
                    str(token_file)], cwd=ROOT, check=True)
    return token_file.read_text().strip()


def dingdan_runs(url: str, workers: int, clients: list[int], duration: int, token: str,
                 warmup: int) -> dict[str, Any]:
    runs = []
    with serving(url, workers) as server:
        log(f"server up: {workers} process(es) on {url.split('://')[0]}; warm-up {warmup} s")
        run_wrk(server, 8, warmup, token)
        for c in clients:
            before = count_orders(url)
            r = run_wrk(server, c, duration, token)
            r["orders_in_db"] = count_orders(url) - before
            log(f"  {c:>2} clients: {r['orders_per_s']:8.1f} orders/s  p50 {r['p50_ms']} ms  "
                f"p99 {r['p99_ms']} ms  errors {r['errors']}  server CPU "
                f"{r['server_cpu_ms_per_order']} ms/order  wrk CPU {r['wrk_cpu_s']} s")
            runs.append(r)
        peak = {str(p): round(kb / 1024, 1) for p, kb in server.peak_kb.items()}
        serving_pids = [str(p) for p in server.serving_pids()]
    return {"workers": workers, "runs": runs,
            "peak_rss_mib": {p: v for p, v in peak.items() if p in serving_pids},
            "peak_rss_mib_other": {p: v for p, v in peak.items() if p not in serving_pids}}


def main() -> None:
    p = argparse.ArgumentParser(description="Dingdan intake benchmark")
    p.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--no-populate", action="store_true", help="reuse the databases")
    p.add_argument("--profile", action="store_true", help="py-spy the 1-process server")
    args = p.parse_args()

    RESULTS.mkdir(exist_ok=True)
    ensure_wrk()
    started = datetime.now(UTC)
    result: dict[str, Any] = {"started": started.isoformat(timespec="seconds"),
                              "command": " ".join([Path(sys.executable).name, *sys.argv]),
                              "machine": machine_facts(), "duration_s": args.duration}
    log(f"machine: {result['machine']['nproc']} CPUs, load {result['machine']['loadavg_at_start']}")

    pg_token_file = RESULTS / "token.txt"
    sqlite_token_file = RESULTS / "token-sqlite.txt"
    if args.no_populate:
        pg_token = pg_token_file.read_text().strip()
    else:
        log("populating PostgreSQL")
        pg_token = populate(PG_URL, pg_token_file)

    census = {"dingdan": dingdan_statements(pg_token),
              "pgbench": pgbench_statements(BENCH / "dingdan_intake.sql")}
    census["same"] = census["dingdan"] == census["pgbench"]
    result["statements_per_order"] = census
    log(f"one order issues {len(census['dingdan'])} statements; bench/dingdan_intake.sql "
        f"{'has the same sequence' if census['same'] else 'DIFFERS: ' + str(census)}")

    log("bare SQL, 8 clients (before)")
    bare = [run_pgbench(8, args.duration)]
    log(f"  {bare[0]['orders_per_s']} orders/s")
    result["dingdan_pg"] = [dingdan_runs(PG_URL, w, args.clients, args.duration, pg_token,
                                         args.warmup) for w in args.workers]
    log("bare SQL, 8 clients (after)")
    bare.append(run_pgbench(8, args.duration))
    log(f"  {bare[1]['orders_per_s']} orders/s")
    result["bare_pg"] = {"8_before": bare[0], "8_after": bare[1]}
    if 32 in args.clients:
        log("bare SQL, 32 clients")
        result["bare_pg"]["32"] = run_pgbench(32, args.duration)
    result["check_pg"] = check(PG_URL)
    log(f"PostgreSQL check: {result['check_pg']}")

    bare8 = statistics.mean(b["orders_per_s"] for b in bare)
    result["bare_pg_8_mean"] = round(bare8, 1)
    # What one order costs the machine in CPU, all parts counted: a ratio that the other
    # load on a shared machine moves much less than the throughput ratio.
    bare_cpu = statistics.mean(b["total_cpu_ms_per_order"] for b in bare)
    result["bare_pg_8_cpu_ms_per_order"] = round(bare_cpu, 2)
    result["cpu_ratio_at_8"] = {
        str(d["workers"]): round(bare_cpu / next(r["total_cpu_ms_per_order"] for r in d["runs"]
                                                 if r["clients"] == 8), 3)
        for d in result["dingdan_pg"] if any(r["clients"] == 8 for r in d["runs"])}
    result["ratio_at_8"] = {
        str(d["workers"]): round(next(r["orders_per_s"] for r in d["runs"]
                                      if r["clients"] == 8) / bare8, 3)
        for d in result["dingdan_pg"] if any(r["clients"] == 8 for r in d["runs"])}

    if not args.no_sqlite:
        if args.no_populate and sqlite_token_file.exists():
            sqlite_token = sqlite_token_file.read_text().strip()
        else:
            log("populating SQLite")
            sqlite_token = populate(SQLITE_URL, sqlite_token_file)
        result["dingdan_sqlite"] = dingdan_runs(
            f"sqlite+aiosqlite:///{RESULTS / 'bench.db'}", 1, [8], args.duration,
            sqlite_token, args.warmup)
        result["check_sqlite"] = check(SQLITE_URL)
        log(f"SQLite check: {result['check_sqlite']}")

    if args.profile:
        log("profiling the 1-process server at 8 clients")
        result["profile"] = profile(pg_token, args.duration, 8)
        print(result["profile"]["summary"])

    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    stamp = started.strftime("%Y%m%d-%H%M%S")
    for name in (f"run-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(report(result))
    (RESULTS / f"run-{stamp}.md").write_text(report(result))
    bad = result["check_pg"]["oversold_rows"] or \
        result["check_pg"]["rows_where_reserved_differs_from_open_lines"] or \
        (result.get("check_sqlite") or {}).get("oversold_rows") or \
        (result.get("check_sqlite") or {}).get("rows_where_reserved_differs_from_open_lines")
    sys.exit(1 if bad else 0)


def report(r: dict[str, Any]) -> str:
    out = [f"run {r['started']} ({r['duration_s']} s per measured run; "
           f"load average at start {' '.join(r['machine']['loadavg_at_start'])}, "
           f"at end {' '.join(r['loadavg_at_end'])})", "",
           "| what | server processes | clients | orders/s | p50 ms | p99 ms | errors | "
           "server CPU ms/order | database CPU ms/order | all CPU ms/order | "
           "load generator CPU | machine busy |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    b = r["bare_pg"]
    for key, label in (("8_before", "bare SQL (pgbench), before"),
                       ("8_after", "bare SQL (pgbench), after"), ("32", "bare SQL (pgbench)")):
        if key in b:
            x = b[key]
            out.append(f"| {label} | – | {x['clients']} | {x['orders_per_s']:,} | "
                       f"{x['p50_ms']} | {x['p99_ms']} | {x['errors']} | – | "
                       f"{x['db_cpu_ms_per_order']} | {x['total_cpu_ms_per_order']} | "
                       f"pgbench {x['pgbench_cpu_s']} s | {x['machine_busy']:.0%} |")
    dingdan = [("PostgreSQL", d) for d in r["dingdan_pg"]]
    if "dingdan_sqlite" in r:
        dingdan.append(("SQLite", r["dingdan_sqlite"]))
    for db, d in dingdan:
        for x in d["runs"]:
            out.append(f"| Dingdan on {db} | {d['workers']} | {x['clients']} | "
                       f"{x['orders_per_s']:,} | {x['p50_ms']} | {x['p99_ms']} | {x['errors']} | "
                       f"{x['server_cpu_ms_per_order']} | {x['db_cpu_ms_per_order'] or '–'} | "
                       f"{x['total_cpu_ms_per_order']} | wrk {x['wrk_cpu_s']} s "
                       f"({x['wrk_cpu_share_of_machine']:.1%}) | {x['machine_busy']:.0%} |")
    out += ["", f"bare SQL at 8 clients, mean of before and after: {r['bare_pg_8_mean']:,} "
                f"orders/s"]
    for w, ratio in r["ratio_at_8"].items():
        out.append(f"Dingdan / bare SQL at 8 clients, {w} server process(es): {ratio:.1%} "
                   f"of the orders/s; {r['cpu_ratio_at_8'][w]:.1%} of the orders per CPU "
                   f"second (bare SQL: {r['bare_pg_8_cpu_ms_per_order']} ms of CPU per order)")
    c = r.get("statements_per_order")
    if c:
        out += ["", f"statements per order ({len(c['dingdan'])}), Dingdan's own as echoed: "
                    + ", ".join(c["dingdan"]),
                "bench/dingdan_intake.sql issues "
                + ("the same sequence" if c["same"] else "A DIFFERENT sequence: "
                   + ", ".join(c["pgbench"]))]
    out += ["", "peak resident memory (VmHWM) of each serving process under load, MiB:"]
    for d in r["dingdan_pg"]:
        other = ", ".join(str(v) for v in d["peak_rss_mib_other"].values())
        out.append(f"  PostgreSQL, {d['workers']} process(es): "
                   f"{', '.join(str(v) for v in d['peak_rss_mib'].values())}"
                   + (f" (supervisor and helpers: {other})" if other else ""))
    if "dingdan_sqlite" in r:
        out.append(f"  SQLite, 1 process: "
                   f"{', '.join(str(v) for v in r['dingdan_sqlite']['peak_rss_mib'].values())}")
    out += ["", f"checks after the runs: PostgreSQL {r['check_pg']}"
                + (f"; SQLite {r['check_sqlite']}" if "check_sqlite" in r else "")]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
