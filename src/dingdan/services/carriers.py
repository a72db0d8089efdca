"""Carriers: the catalogue of carriers and services, their rate tables, and rate shopping.

A rate table comes from a spreadsheet (``services.rate_sheets``) and is refused whole, with
every bad row named, if any row is bad or the bands of a lane leave gaps or overlap; a good
one replaces the tariffs of the services it names. Rate shopping quotes every active service
that meets the order's needs for its parcel — weighed, or from its products' weights — and
records the choice and its alternatives on the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dingdan.domain import lifecycle, rating
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    IllegalTransition,
    ValidationFailed,
)
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Status
from dingdan.domain.permissions import Permission
from dingdan.domain.rating import Needs, RateRow, RowProblem, Service
from dingdan.domain.waybills import CheckDigit
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.services.rate_sheets import SheetUnreadable, province_key, read_rate_sheet
from dingdan.store.uow import UnitOfWork

# -- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFields:
    code: str
    name_zh: str
    name_en: str
    transit_days: int
    cod: bool = False
    insured: bool = False
    cold_chain: bool = False
    active: bool = True


@dataclass(frozen=True)
class CarrierFields:
    code: str
    name_zh: str
    name_en: str
    volumetric_divisor: int = 6000
    kuaidi100_code: str | None = None
    international: bool = False
    check_digit: str = CheckDigit.NONE.value
    active: bool = True
    services: tuple[ServiceFields, ...] = field(default_factory=tuple)
    # (province, city or None, amount in minor units); None: keep the carrier's as they are
    remote_surcharges: tuple[tuple[str, str | None, int], ...] | None = None


def _check_carrier(c: CarrierFields) -> None:
    errors = ErrorCollector()
    if not c.code.strip() or not c.code.strip().isascii() or len(c.code.strip()) > 16:
        errors.add("code", "invalid", "a code of 1-16 ASCII characters, e.g. SF")
    if not 1000 <= c.volumetric_divisor <= 20000:
        errors.add("volumetric_divisor", "out_of_range", "between 1000 and 20000 (cm³/kg)")
    if c.check_digit not in CheckDigit.__members__.values():
        errors.add("check_digit", "invalid",
                   f"one of {', '.join(d.value for d in CheckDigit)}")
    seen: set[str] = set()
    for i, s in enumerate(c.services):
        if not s.code.strip() or s.code in seen:
            errors.add(f"services[{i}].code", "invalid", "a code, unique within the carrier")
        seen.add(s.code)
        if not 0 <= s.transit_days <= 60:
            errors.add(f"services[{i}].transit_days", "out_of_range", "0-60 days")
    for i, (province, _, amount) in enumerate(c.remote_surcharges or ()):
        if not province.strip():
            errors.add(f"remote_surcharges[{i}].province", "required", "a province")
        if not 0 <= amount <= 1_000_000:
            errors.add(f"remote_surcharges[{i}].amount", "out_of_range", "0-10000 yuan (fen)")
    errors.raise_if_any()


async def put_carrier(c: CarrierFields, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """Add a carrier or change it, with its services (services not named are kept)."""
    require(actor, Permission.SETTINGS_WRITE, "carrier", c.code)
    _check_carrier(c)
    code = c.code.strip().upper()
    values = {"name_zh": c.name_zh, "name_en": c.name_en, "kuaidi100_code": c.kuaidi100_code,
              "international": c.international, "volumetric_divisor": c.volumetric_divisor,
              "check_digit": c.check_digit, "active": c.active}
    async with uow:
        now = uow.now()
        before = await uow.carriers.carrier(code)
        if before is None:
            carrier_id = await uow.carriers.insert_carrier(
                {"code": code, **values, "version": 1, "created_at": now, "updated_at": now})
        else:
            carrier_id = int(before["id"])
            await uow.carriers.update_carrier(carrier_id, {**values, "updated_at": now})
        for s in c.services:
            await uow.carriers.put_service(carrier_id, s.code.strip(), {
                "name_zh": s.name_zh, "name_en": s.name_en, "transit_days": s.transit_days,
                "cod": s.cod, "insured": s.insured, "cold_chain": s.cold_chain,
                "active": s.active, "created_at": now, "updated_at": now})
        if c.remote_surcharges is not None:
            await uow.carriers.replace_surcharges(carrier_id, [
                {"carrier_id": carrier_id, "province": province_key(province),
                 "city": city, "amount": amount, "currency": "CNY"}
                for province, city, amount in c.remote_surcharges])
        await uow.audit.record(actor, "carrier.put", "carrier", code,
                               _plain(before), {**values, "services": [
                                   s.code for s in c.services]})
        found = [x for x in await _catalogue(uow) if x["code"] == code]
        await uow.commit()
    return found[0]


def _plain(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in ("created_at", "updated_at", "id")}


async def _catalogue(uow: UnitOfWork) -> list[dict[str, Any]]:
    services = await uow.carriers.services()
    out = []
    for c in await uow.carriers.carriers():
        out.append({**{k: c[k] for k in ("code", "name_zh", "name_en", "kuaidi100_code",
                                         "international", "volumetric_divisor",
                                         "check_digit", "active", "version")},
                    "services": [{k: s[k] for k in ("code", "name_zh", "name_en",
                                                    "transit_days", "cod", "insured",
                                                    "cold_chain", "active")}
                                 for s in services if s["carrier_id"] == c["id"]]})
    return out


async def list_carriers(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "carrier", None)
    async with uow:
        return await _catalogue(uow)


# -- rate tables ---------------------------------------------------------------------------


def _report(problems: list[RowProblem]) -> ValidationFailed:
    return ValidationFailed(details=[FieldError(f"rows[{p.row_no}].{p.field}", p.code,
                                                p.message) for p in problems[:200]])


async def import_rate_table(content: bytes, filename: str, uow: UnitOfWork, *,
                            actor: Actor) -> dict[str, Any]:
    """Replace the tariffs of the services a spreadsheet names; refused whole, every bad
    row named, if any row is bad or a lane has gaps or overlaps."""
    require(actor, Permission.SETTINGS_WRITE, "rate_table", filename)
    try:
        rows, problems = read_rate_sheet(content, filename)
    except SheetUnreadable as exc:
        raise ValidationFailed(details=[FieldError("file", "unreadable", str(exc))]) from exc
    problems += rating.check_rows(rows)
    async with uow:
        services = {f"{s['carrier']}/{s['code']}": s for s in await uow.carriers.services()}
        problems += [RowProblem(r.row_no, "service", "unknown_service",
                                f"no service {r.service} in the carrier catalogue")
                     for r in rows if r.service not in services]
        if problems:
            raise _report(sorted(problems, key=lambda p: (p.row_no, p.field)))
        if not rows:
            raise ValidationFailed(details=[FieldError("file", "empty", "no rate rows")])
        now = uow.now()
        named = sorted({r.service for r in rows})
        await uow.carriers.replace_rates([services[k]["id"] for k in named], [
            {"service_id": services[r.service]["id"], "origin": r.origin,
             "destination": r.destination, "min_weight_g": r.min_weight_g,
             "max_weight_g": r.max_weight_g, "first_weight_g": r.first_weight_g,
             "first_price": r.first_price, "step_g": r.step_g, "step_price": r.step_price,
             "currency": r.currency, "transit_days": r.transit_days, "created_at": now}
            for r in rows])
        await uow.audit.record(actor, "rate_table.import", "rate_table", filename[:100], None,
                               {"rows": len(rows), "services": named})
        await uow.commit()
    return {"rows": len(rows), "services": named}


# -- rate shopping -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopRates:
    number: str
    actor: Actor
    weight_g: int | None = None  # weighed at packing; else from the products
    dims_mm: tuple[int, int, int] | None = None
    needs: Needs = field(default_factory=Needs)


def parcel_weight(lines: list[dict[str, Any]]) -> int | None:
    """The products' weights times their quantities; None if a product has no weight."""
    if not lines or any(not ln["weight_g"] for ln in lines):
        return None
    return sum(int(ln["weight_g"]) * int(ln["quantity"]) for ln in lines)


def _single_item_dims(lines: list[dict[str, Any]]) -> tuple[int, int, int] | None:
    if len(lines) == 1 and lines[0]["quantity"] == 1:
        d = (lines[0]["length_mm"], lines[0]["width_mm"], lines[0]["height_mm"])
        if all(d):
            return int(d[0]), int(d[1]), int(d[2])
    return None


def _service(s: dict[str, Any]) -> Service:
    return Service(int(s["id"]), f"{s['carrier']}/{s['code']}", str(s["carrier"]),
                   str(s["name_zh"]), str(s["name_en"]), int(s["transit_days"]),
                   int(s["volumetric_divisor"]), bool(s["cod"]), bool(s["insured"]),
                   bool(s["cold_chain"]))


def _rate_row(r: dict[str, Any], key: str) -> RateRow:
    return RateRow(key, r["origin"], r["destination"], r["min_weight_g"], r["max_weight_g"],
                   r["first_weight_g"], r["first_price"], r["step_g"], r["step_price"],
                   r["currency"], r["transit_days"])


def _quote_public(q: rating.Quote) -> dict[str, Any]:
    return {"service": q.service, "carrier": q.carrier, "price": q.price,
            "currency": q.currency, "weight_g": q.weight_g, "surcharge": q.surcharge,
            "transit_days": q.transit_days, "promised_at": q.promised_at.isoformat()}


async def shop_rates(cmd: ShopRates, uow: UnitOfWork) -> dict[str, Any]:
    """Quote every eligible service for the order's parcel, choose, and record the choice."""
    require(cmd.actor, Permission.ORDER_FULFIL, "order", cmd.number)
    async with uow:
        state = await visible_order(uow, cmd.number, cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_FULFIL, "order",
                          cmd.number)
        if Status(state.status) not in lifecycle.RESERVING:
            raise IllegalTransition({"action": "rate_shop", "status": state.status,
                                     "reason": "rates are shopped before the parcel leaves"})
        parcel = await uow.carriers.parcel_of(state.id)
        weight = cmd.weight_g or parcel_weight(parcel["lines"])
        if not weight:
            raise ValidationFailed(details=[FieldError(
                "weight_g", "required",
                "the parcel has no weight: weigh it, or give every product a weight")])
        dims = cmd.dims_mm or _single_item_dims(parcel["lines"])
        origin = province_key(parcel["region"] or "")
        destination = province_key(parcel["ship_province"])
        needs = Needs(cmd.needs.cod or parcel["payment_method"] == "cod",
                      cmd.needs.insured, cmd.needs.cold_chain)
        now = uow.now()
        rows_by_service: dict[int, list[RateRow]] = {}
        active = await uow.carriers.services(active_only=True)
        services = {int(s["id"]): _service(s) for s in active}
        carrier_ids = {int(s["id"]): int(s["carrier_id"]) for s in active}
        for r in await uow.carriers.rates(origin, destination):
            sid = int(r["service_id"])
            if sid in services:
                rows_by_service.setdefault(sid, []).append(_rate_row(r, services[sid].key))
        surcharges = await uow.carriers.surcharges(destination, parcel["ship_city"])
        quotes = [q for sid, svc in services.items() if rating.eligible(svc, needs)
                  if (q := rating.quote(svc, rows_by_service.get(sid, ()), origin, destination,
                                        weight, dims,
                                        surcharges.get(carrier_ids[sid], 0), now)) is not None]
        choice = rating.choose(quotes, parcel["deliver_by"])
        chosen = choice.chosen
        record = {
            "order_id": state.id, "service_id": chosen.service_id if chosen else None,
            "price": chosen.price if chosen else None,
            "currency": chosen.currency if chosen else None,
            "promised_at": chosen.promised_at if chosen else None,
            "keeps_promise": choice.keeps_promise,
            "weight_g": chosen.weight_g if chosen else weight,
            "alternatives": [_quote_public(q) for q in choice.alternatives],
            "reason": choice.reason, "actor": cmd.actor.label[:120], "created_at": now}
        await uow.carriers.record_choice(record)
        result = {"number": cmd.number, "origin": origin, "destination": destination,
                  "weight_g": weight, "deliver_by": parcel["deliver_by"],
                  "chosen": _quote_public(chosen) if chosen else None,
                  "keeps_promise": choice.keeps_promise, "reason": choice.reason,
                  "alternatives": record["alternatives"]}
        await uow.audit.record(cmd.actor, "order.rate_shop", "order", cmd.number, None, {
            "chosen": chosen.service if chosen else None,
            "price": chosen.price if chosen else None, "reason": choice.reason,
            "alternatives": len(choice.alternatives)})
        await uow.commit()
    return result


async def rate_choices(number: str, uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """The rate-shopping choices made for an order, newest first."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        rows = await uow.carriers.choices(state.id)
        services = {int(s["id"]): f"{s['carrier']}/{s['code']}"
                    for s in await uow.carriers.services()}
    return [{"service": services.get(int(r["service_id"])) if r["service_id"] else None,
             "price": r["price"], "currency": r["currency"], "promised_at": r["promised_at"],
             "keeps_promise": r["keeps_promise"], "weight_g": r["weight_g"],
             "reason": r["reason"], "alternatives": r["alternatives"], "actor": r["actor"],
             "created_at": r["created_at"]} for r in rows]
