"""The demo's carriers: the catalogue, a zone rate table from each warehouse's province to
every province the demo ships to, a waybill range, and the scans of the parcels on the road —
so the carrier pages, rate shopping and a parcel's history show something real.

Through the use cases (``put_carrier``, ``import_rate_table``, ``add_waybill_numbers``,
``receive_update``); idempotent: a second run changes nothing (the scans are recorded once;
those that fit an order already further along move nothing).
"""

from __future__ import annotations

from datetime import timedelta

from dingdan.adapters.carriers.port import ParcelUpdate, Scan
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Status
from dingdan.domain.tracking import Provider
from dingdan.services import carriers, labels, tracking
from dingdan.services.demo import data
from dingdan.services.rate_sheets import province_key
from dingdan.store.orders import ListQuery
from dingdan.store.uow import UnitOfWorkFactory

# code -> (kuaidi100 code, divisor, check digit, [(service, zh, en, days, cod)])
SERVICES: dict[str, tuple[str, int, str, list[tuple[str, str, str, int, bool]]]] = {
    "SF": ("shunfeng", 6000, "none", [("standard", "顺丰标快", "SF Standard", 2, True),
                                      ("express", "顺丰特快", "SF Express", 1, False)]),
    "ZTO": ("zhongtong", 8000, "none", [("standard", "中通标快", "ZTO Standard", 3, False)]),
    "YTO": ("yuantong", 8000, "none", [("standard", "圆通标快", "YTO Standard", 3, False)]),
    "YD": ("yunda", 8000, "none", [("standard", "韵达标快", "Yunda Standard", 3, False)]),
    "EMS": ("ems", 6000, "s10", [("standard", "EMS 标准快递", "EMS Standard", 4, True)]),
    "JD": ("jd", 8000, "none", [("standard", "京东标快", "JD Standard", 2, True)]),
}
NAMES = {**{c: n for c, n, _ in data.CARRIERS}, data.JD_CARRIER[0]: data.JD_CARRIER[1]}
SCANNED = 60  # parcels on the road given a history


async def ensure_carriers(uows: UnitOfWorkFactory) -> int:
    """Set the carriers up and give the parcels on the road their scans; how many scans."""
    have = {c["code"] for c in await carriers.list_carriers(uows(read_only=True), actor=SYSTEM)}
    if have >= set(SERVICES):
        return await _scans(uows)  # set up by an earlier run: leave the manager's edits
    for code, (k100, divisor, check, services) in SERVICES.items():
        await carriers.put_carrier(carriers.CarrierFields(
            code, NAMES[code], code, divisor, k100, check_digit=check, services=tuple(
                carriers.ServiceFields(s, zh, en, days, cod) for s, zh, en, days, cod in services),
            remote_surcharges=(("新疆", None, 1000), ("西藏", None, 1500))), uows(), actor=SYSTEM)
    origins = sorted({province_key(w.region) for w in data.WAREHOUSES})
    destinations = sorted({province_key(p.province) for p, _ in data.PLACES})
    rows = ["carrier,service,origin,destination,min_kg,max_kg,first_kg,first_price,step_kg,"
            "step_price,transit_days"]
    for code, (_, _, _, services) in SERVICES.items():
        for i, (service, *_rest) in enumerate(services):
            for origin in origins:
                for dest in destinations:
                    near = origin == dest
                    first = (12 if code == "SF" else 6) + 8 * i + (0 if near else 4)
                    step = (2 if near else 5) + 3 * i
                    rows.append(f"{code},{service},{origin},{dest},0,3,1,{first},1,{step},")
                    rows.append(f"{code},{service},{origin},{dest},3,50,1,{first - 1},1,"
                                f"{step - 0.5},")
    await carriers.import_rate_table("\n".join(rows).encode(), "demo-rates.csv", uows(),
                                     actor=SYSTEM)
    await labels.add_waybill_numbers(labels.AddWaybillNumbers(
        "EMS", 47312482, 500, SYSTEM, prefix="EE", suffix="CN"), uows())
    await labels.add_waybill_numbers(labels.AddWaybillNumbers(
        "SF", 1400000000000, 500, SYSTEM, width=13), uows())
    return await _scans(uows)


async def _scans(uows: UnitOfWorkFactory) -> int:
    """Pick-up and line-haul scans (and the delivery scan for parcels out for delivery) of
    the latest parcels on the road, consistent with where their order already is."""
    async with uows(read_only=True) as uow:
        rows, _ = await uow.orders.page(ListQuery(
            status=(Status.IN_TRANSIT.value, Status.OUT_FOR_DELIVERY.value), limit=SCANNED))
    recorded = 0
    for o in rows:
        if not o["tracking_number"] or o["shipped_at"] is None:
            continue
        t = o["shipped_at"]
        scans = [Scan("103", "快递员已揽件", o["ship_city"], t + timedelta(hours=1)),
                 Scan("1002", "快件已发往转运中心", None, t + timedelta(hours=6)),
                 Scan("1001", f"快件已到达【{o['ship_city']}】", o["ship_city"],
                      t + timedelta(hours=30))]
        if o["status"] == Status.OUT_FOR_DELIVERY.value:
            scans.append(Scan("5", "快递员正在派送，请保持电话畅通", o["ship_city"],
                              t + timedelta(hours=40)))
        received = await tracking.receive_update(
            ParcelUpdate(o["tracking_number"], o["carrier"] or "", tuple(scans)),
            Provider.KUAIDI100, uows)
        recorded += received.new_scans
    return recorded
