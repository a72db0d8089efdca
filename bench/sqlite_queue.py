"""The embedded default under load: SQLite, one server process, 8 clients — with writers
queueing in the process (the default) and without (SQLite's busy handler), in one run.

    .venv/bin/python bench/sqlite_queue.py [--duration 20] [--rounds 2] [--no-populate]

Reuses bench/run.py's server, wrk driver and checks. Runs alternate (queue on, off, on, off…)
so that the machine's other load hits both alike; the report gives each run and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import (
    RESULTS,
    SQLITE_URL,
    check,
    count_orders,
    ensure_wrk,
    log,
    machine_facts,
    populate,
    run_wrk,
    serving,
)

URL = f"sqlite+aiosqlite:///{RESULTS / 'bench.db'}"


def one(queue: bool, duration: int, warmup: int, token: str) -> dict[str, Any]:
    env = {"DINGDAN_SQLITE_WRITER_QUEUE": "true" if queue else "false"}
    with serving(URL, 1, env, name=f"server-sqlite-queue-{queue}") as server:
        run_wrk(server, 8, warmup, token)
        before = count_orders(SQLITE_URL)
        r = run_wrk(server, 8, duration, token)
        r["orders_in_db"] = count_orders(SQLITE_URL) - before
    r["queue"] = queue
    log(f"  queue {'on ' if queue else 'off'}: {r['orders_per_s']:8.1f} orders/s  p50 "
        f"{r['p50_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors']}  server CPU "
        f"{r['server_cpu_ms_per_order']} ms/order")
    return r


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--no-populate", action="store_true")
    args = p.parse_args()
    RESULTS.mkdir(exist_ok=True)
    ensure_wrk()
    token_file = RESULTS / "token-sqlite.txt"
    started = datetime.now(UTC)
    facts = machine_facts()
    log(f"machine: {facts['nproc']} CPUs, load {facts['loadavg_at_start']}")
    if args.no_populate and token_file.exists():
        token = token_file.read_text().strip()
    else:
        log("populating SQLite")
        token = populate(SQLITE_URL, token_file)
    runs = [one(queue, args.duration, args.warmup, token)
            for _ in range(args.rounds) for queue in (True, False)]
    result: dict[str, Any] = {"started": started.isoformat(timespec="seconds"),
                              "command": " ".join([Path(sys.executable).name, *sys.argv]),
                              "machine": facts, "runs": runs, "check": check(SQLITE_URL),
                              "loadavg_at_end": Path("/proc/loadavg").read_text().split()[:3]}
    lines = [f"run {result['started']}, {args.duration} s per run, load average at start "
             f"{' '.join(facts['loadavg_at_start'])}, at end {' '.join(result['loadavg_at_end'])}",
             "", "| writers | orders/s | p50 ms | p99 ms | errors | server CPU ms/order |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {'in-process queue' if r['queue'] else 'busy handler'} | "
                     f"{r['orders_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | "
                     f"{r['server_cpu_ms_per_order']} |")
    for queue in (True, False):
        sel = [r for r in runs if r["queue"] is queue]
        lines.append(f"| median, {'queue' if queue else 'busy handler'} | "
                     f"{statistics.median(r['orders_per_s'] for r in sel)} | "
                     f"{statistics.median(r['p50_ms'] for r in sel)} | "
                     f"{statistics.median(r['p99_ms'] for r in sel)} | | |")
    lines.append(f"\ncheck: {result['check']}")
    report = "\n".join(lines)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"sqlite-queue-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"sqlite-queue-{stamp}.md").write_text(report + "\n")
    print(report)
    bad = result["check"]["oversold_rows"] or \
        result["check"]["rows_where_reserved_differs_from_open_lines"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
