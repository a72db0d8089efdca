"""The auto-review's costs (issue 9), in one run on the embedded default (SQLite):

    .venv/bin/python bench/review_rules.py [--orders 20000] [--history 100000] [--pays 200]

1. **Rules per order**: the checks (address against the divisions, phone, prices, duplicates)
   and the shipped rule set evaluated over ``--orders`` varied orders, pure, one at a time:
   mean and p99 per order (the issue asks ≤ 2 ms).
2. **Dry-run**: ``--history`` recorded review runs (one per order, facts as the rules stored
   them) in a fresh database; ``services.review.dry_run`` replays a stricter rule set over
   them (the issue asks ≤ 60 s for 100,000).
3. **Paying with the rules on and off**: ``--pays`` orders placed through ``place_order``,
   then paid through ``change_status`` in alternating blocks of 20, rules switched off then
   on, so the machine's other load hits both alike: ms per pay (the rules' share of the pay
   transaction: facts from the store, the run, two more transitions).

Writes ``bench/results/review-<time>.json``; figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from dingdan.domain.events import SYSTEM
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import Action
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft
from dingdan.services import catalogue, inventory, orders
from dingdan.services.demo.data import PLACES
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.tables import orders as orders_table
from dingdan.store.uow import UnitOfWorkFactory

# Issue 9's modules are imported where used: ``--place-only`` also runs on the code before it
# (PYTHONPATH=<older checkout>/src), to compare intake with and without customer matching.

RESULTS = Path(__file__).parent / "results"
BLOCK = 20
WARM_UP = 500


def rules_per_order(n: int, rng: random.Random) -> dict[str, Any]:
    from dingdan.adapters.divisions import load_divisions
    from dingdan.domain.order_checks import CheckedLine, OrderToCheck, Standing, check_order
    from dingdan.domain.review import DEFAULT_RULES, evaluate, parse_rules

    divisions = load_divisions()
    rules = parse_rules(DEFAULT_RULES)
    places = [p for p, _ in PLACES]
    samples: list[float] = []
    cpu_samples: list[float] = []
    for i in range(n + WARM_UP):
        place = rng.choice(places)
        bad = i % 10 == 0  # one in ten to an address the tree does not know
        lines = tuple(CheckedLine(f"SKU-{rng.randint(1, 10_000):05d}", rng.randint(1, 3),
                                  price, price if rng.random() < 0.95 else price // 2)
                      for price in (rng.randint(500, 50_000) for _ in range(rng.randint(1, 5))))
        order = OrderToCheck(
            total=sum(ln.quantity * ln.unit_price for ln in lines), currency="CNY",
            payment_method=rng.choice(["alipay", "wechat_pay", "cod"]), channel="tmall",
            paid=True, country="CN", province="火星省" if bad else place.province,
            city=place.city, district=place.district,
            ship_phone=f"+86139{rng.randint(0, 99_999_999):08d}", customer_phone=None,
            lines=lines, duplicates=int(rng.random() < 0.02),
            standing=Standing(rng.choice(["standard", "standard", "vip"]), rng.random() < 0.01,
                              rng.randint(0, 20), rng.randint(0, 20), 0,
                              rng.randint(0, 100_000), rng.choice([None, 200_000])))
        started, cpu = time.perf_counter(), time.thread_time()
        evaluate(rules, check_order(order, divisions).facts)
        if i >= WARM_UP:  # libphonenumber loads a region's metadata on first use
            samples.append((time.perf_counter() - started) * 1000)
            cpu_samples.append((time.thread_time() - cpu) * 1000)
    # Wall time includes the machine's other load (a preempted sample costs a time slice);
    # the thread's CPU time is the rules' own cost.
    out: dict[str, Any] = {"orders": n}
    for name, values in (("wall", samples), ("cpu", cpu_samples)):
        values.sort()
        out |= {f"{name}_mean_ms": round(statistics.fmean(values), 4),
                f"{name}_p50_ms": round(values[n // 2], 4),
                f"{name}_p99_ms": round(values[int(n * 0.99)], 4),
                f"{name}_max_ms": round(values[-1], 4)}
    return out


async def _fresh(tmp: Path, name: str) -> UnitOfWorkFactory:
    url = f"sqlite+aiosqlite:///{tmp / name}"
    await asyncio.to_thread(upgrade, url)
    return UnitOfWorkFactory(make_engine(url))


async def dry_run(history: int, tmp: Path, rng: random.Random) -> dict[str, Any]:
    from dingdan.adapters.divisions import load_divisions
    from dingdan.domain.order_checks import CheckedLine, OrderToCheck, check_order
    from dingdan.domain.review import DEFAULT_RULES
    from dingdan.services import review
    from dingdan.store.tables_review import order_reviews

    uows = await _fresh(tmp, "dry.db")
    now = datetime.now(UTC)
    divisions = load_divisions()
    facts = check_order(OrderToCheck(
        total=10_000, currency="CNY", payment_method="alipay", channel="api", paid=True,
        country="CN", province="上海市", city="上海市", district="浦东新区",
        ship_phone="+8613800138000", customer_phone=None,
        lines=(CheckedLine("A", 1, 10_000, 10_000),)), divisions).facts
    async with uows() as uow:
        for start in range(0, history, 5000):
            rows, runs = [], []
            for i in range(start, min(start + 5000, history)):
                at = now - timedelta(minutes=i)
                total = rng.randint(1_000, 400_000)
                rows.append(dict(
                    id=i + 1, number=f"DDB{i:09d}", channel="api", status="approved",
                    payment_status="paid", fulfillment_status="unfulfilled",
                    customer_name="张伟", ship_recipient="张伟", ship_phone="+8613800138000",
                    ship_country="CN", ship_province="上海市", ship_city="上海市",
                    ship_district="浦东新区", ship_street="世纪大道 100 号", currency="CNY",
                    subtotal=total, shipping_fee=0, discount=0, tax=0, total=total,
                    placed_at=at, tags=[], custom_fields={}, version=3, created_at=at,
                    updated_at=at))
                runs.append(dict(order_id=i + 1, rule_set_version=1, approved=total <= 200_000,
                                 summary="", trace=[], findings=[],
                                 facts={**facts, "order.total": total}, created_at=at))
            await uow.conn.execute(insert(orders_table), rows)
            await uow.conn.execute(insert(order_reviews), runs)
        await uow.commit()
    stricter = [*DEFAULT_RULES, {"code": "over_1000", "reason_type": "other",
                                 "when": ["order.total > 100000"]}]
    started = time.perf_counter()
    report = await review.dry_run(review.DryRun(list(stricter), 366, SYSTEM), uows(True))
    seconds = time.perf_counter() - started
    await uows.engine.dispose()
    return {"runs": history, "seconds": round(seconds, 2), "replayed": report["orders"],
            "changed": report["changed"]}


async def _stocked(tmp: Path, name: str) -> UnitOfWorkFactory:
    uows = await _fresh(tmp, name)
    await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"),
                                     uows(), actor=SYSTEM)
    await catalogue.create_product(catalogue.ProductFields("TEA-001", "龙井茶", 12_800),
                                   uows(), actor=SYSTEM)
    await inventory.move_stock(inventory.MoveStock("TEA-001", "SH", 10_000,
                                                   MovementKind.RECEIPT, "opening", SYSTEM),
                               uows())
    return uows


async def _place(uows: UnitOfWorkFactory, n: int) -> tuple[list[str], list[float]]:
    numbers, timings = [], []
    for i in range(n):
        draft = OrderDraft("api", Customer("张伟", f"139{i:08d}", f"c{i}@example.com"),
                           Address("张伟", "13800138000", "上海市", "上海市", "浦东新区",
                                   "世纪大道 100 号"), (LineDraft("TEA-001", 1),),
                           payment_method="alipay")
        started = time.perf_counter()
        numbers.append((await orders.place_order(orders.PlaceOrder(draft, SYSTEM), uows())
                        ).number)
        timings.append((time.perf_counter() - started) * 1000)
    return numbers, timings


async def places(n: int, tmp: Path) -> dict[str, Any]:
    uows = await _stocked(tmp, "place.db")
    _, timings = await _place(uows, n)
    await uows.engine.dispose()
    return {"orders": n, "median_ms": round(statistics.median(timings), 2)}


async def pays(n: int, tmp: Path) -> dict[str, Any]:
    from dingdan.domain.review import DEFAULT_RULES
    from dingdan.services import review

    uows = await _stocked(tmp, "pay.db")
    numbers, _ = await _place(uows, n)
    timings: dict[bool, list[float]] = {False: [], True: []}
    for version, block in enumerate(range(0, n, BLOCK)):
        on = version % 2 == 1
        await review.publish_rules(review.PublishRules(list(DEFAULT_RULES), on, SYSTEM,
                                                       version), uows())
        for number in numbers[block:block + BLOCK]:
            started = time.perf_counter()
            await orders.change_status(orders.ChangeStatus(
                number, Action.PAY, SYSTEM, payment_reference="ALI-1"), uows())
            timings[on].append((time.perf_counter() - started) * 1000)
    await uows.engine.dispose()
    off, on_ = statistics.median(timings[False]), statistics.median(timings[True])
    return {"pays_each": len(timings[True]), "median_ms_rules_off": round(off, 2),
            "median_ms_rules_on": round(on_, 2), "ratio": round(on_ / off, 2)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--history", type=int, default=100_000)
    ap.add_argument("--pays", type=int, default=200)
    ap.add_argument("--place-only", type=int, default=0, metavar="N",
                    help="only time N placements (runs on older checkouts too)")
    args = ap.parse_args()
    if args.place_only:
        with tempfile.TemporaryDirectory() as tmp:
            print("place:", await places(args.place_only, Path(tmp)), flush=True)
        return
    rng = random.Random(2026)
    out: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds")}
    out["rules_per_order"] = rules_per_order(args.orders, rng)
    print("rules per order:", out["rules_per_order"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out["dry_run"] = await dry_run(args.history, Path(tmp), rng)
        print("dry-run:", out["dry_run"], flush=True)
        out["pay"] = await pays(args.pays, Path(tmp))
        print("pay:", out["pay"], flush=True)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"review-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
