"""Rate shopping and labels (issue 12): how long one order's rate shopping takes over
10 carriers × 5 services, and how long a label PDF and a batch of 200 take.

    .venv/bin/python bench/rates.py [--rounds 300]

Three measurements, each printed as p50 / p99 / max in milliseconds:

1. ``domain``: quoting the 50 services and choosing (``domain.rating``), no I/O;
2. ``service``: ``services.carriers.shop_rates`` on a fresh SQLite database — reads the
   catalogue, the lane's rate rows and surcharges, quotes, chooses, records the choice and
   its audit row, commits;
3. ``label``: one 100 × 150 mm label PDF (``adapters.label_pdf``), warm; and a batch of 200
   labels as one PDF (a wave), and as 200 separate PDFs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dingdan.adapters.label_pdf import render_label, render_labels
from dingdan.domain import rating
from dingdan.domain.events import SYSTEM
from dingdan.domain.inventory import MovementKind
from dingdan.domain.labels import LabelContent, LabelSize
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft
from dingdan.domain.rating import RateRow, Service
from dingdan.services import carriers, catalogue, inventory, orders
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.uow import UnitOfWorkFactory

CARRIERS, SERVICES = 10, 5
NOW = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered):7.3f} ms  p99 {p99:7.3f} ms  "
            f"max {ordered[-1]:7.3f} ms  (n={len(ordered)})")


def bench_domain(rounds: int) -> list[float]:
    services = [Service(c * SERVICES + s, f"C{c}/s{s}", f"C{c}", "标快", "Standard", 1 + s,
                        6000 + 1000 * (c % 3)) for c in range(CARRIERS) for s in range(SERVICES)]
    rows = {svc.id: [RateRow(svc.key, "广东", "上海", lo, hi, 1000, 800 + svc.id * 10, 1000,
                             200, "CNY") for lo, hi in ((0, 3000), (3000, 30_000))]
            for svc in services}
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        quotes = [q for svc in services
                  if (q := rating.quote(svc, rows[svc.id], "广东", "上海", 2300,
                                        (300, 200, 150), 0, NOW)) is not None]
        rating.choose(quotes, NOW + timedelta(days=3))
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def bench_service(rounds: int, directory: Path) -> list[float]:
    url = f"sqlite+aiosqlite:///{directory / 'rates.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    uows = UnitOfWorkFactory(engine)
    try:
        await catalogue.create_warehouse(catalogue.WarehouseFields("GZ", "广州仓", "广东"),
                                         uows(), actor=SYSTEM)
        await catalogue.create_product(catalogue.ProductFields("CUP", "保温杯", 9900,
                                                               weight_g=2300), uows(),
                                       actor=SYSTEM)
        await inventory.move_stock(inventory.MoveStock(
            "CUP", "GZ", 100, MovementKind.RECEIPT, "bench", SYSTEM), uows())
        sheet = ["carrier,service,origin,destination,min_kg,max_kg,first_kg,first_price,"
                 "step_kg,step_price,transit_days"]
        for c in range(CARRIERS):
            await carriers.put_carrier(carriers.CarrierFields(
                f"C{c}", f"快递{c}", f"Express {c}", services=tuple(
                    carriers.ServiceFields(f"s{s}", f"服务{s}", f"Service {s}", 1 + s)
                    for s in range(SERVICES)),
                remote_surcharges=(("新疆", None, 1000),)), uows(), actor=SYSTEM)
            for s in range(SERVICES):
                for dest in ("上海", "北京", "新疆"):
                    sheet.append(f"C{c},s{s},广东,{dest},0,3,1,{8 + c + s},1,2,")
                    sheet.append(f"C{c},s{s},广东,{dest},3,30,1,{7 + c + s},1,1.5,")
        await carriers.import_rate_table("\n".join(sheet).encode(), "bench.csv", uows(),
                                         actor=SYSTEM)
        placed = await orders.place_order(orders.PlaceOrder(OrderDraft(
            "api", Customer("张伟", "13800138000"),
            Address("张伟", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道 100 号"),
            (LineDraft("CUP", 1),), payment_method="alipay",
            deliver_by=datetime.now(UTC) + timedelta(days=3)), SYSTEM), uows())
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = await carriers.shop_rates(carriers.ShopRates(placed.number, SYSTEM),
                                               uows())
            samples.append((time.perf_counter() - start) * 1000)
        assert len(result["alternatives"]) == CARRIERS * SERVICES - 1, result
        return samples
    finally:
        await engine.dispose()


def label(i: int) -> LabelContent:
    return LabelContent(f"SF{1400000000000 + i}", "顺丰速运", "标快", f"DD20261111{i:07d}",
                        "广州仓 广州市", "张伟", "138****8000",
                        "上海市浦东新区世纪大道100号陆家嘴金融中心A座12楼", 2300, NOW)


def bench_labels() -> None:
    render_label(label(0), LabelSize.LARGE)  # the font is registered once per process
    one = []
    for i in range(50):
        start = time.perf_counter()
        render_label(label(i), LabelSize.LARGE)
        one.append((time.perf_counter() - start) * 1000)
    print(f"label PDF, one:          {summary(one)}")
    start = time.perf_counter()
    pdf = render_labels([(label(i), LabelSize.LARGE) for i in range(200)])
    batch = time.perf_counter() - start
    print(f"label PDF, 200 as one:   {batch * 1000:9.1f} ms  ({len(pdf) / 1024:.0f} KiB)")
    start = time.perf_counter()
    for i in range(200):
        render_label(label(i), LabelSize.LARGE)
    print(f"label PDF, 200 separate: {(time.perf_counter() - start) * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    print(f"rate shopping, {CARRIERS} carriers x {SERVICES} services")
    bench_domain(50)  # warm up
    print(f"  domain (quote + choose): {summary(bench_domain(args.rounds))}")
    with tempfile.TemporaryDirectory() as d:
        samples = asyncio.run(bench_service(args.rounds, Path(d)))
    print(f"  service (SQLite, commit): {summary(samples[10:])}")
    bench_labels()


if __name__ == "__main__":
    main()
