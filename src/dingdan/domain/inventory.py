"""Stock rules: which warehouse serves an order, and the one order in which rows are locked.

Pure: callers pass stock levels. The reservation itself is one conditional update per line
(``... WHERE on_hand - reserved >= qty``) done by the store, in the order :func:`lock_order`
gives, so two orders can never deadlock on each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dingdan.domain.errors import InsufficientStock


@dataclass(frozen=True, slots=True)
class WarehouseChoice:
    id: int
    code: str
    priority: int  # higher serves first


@dataclass(frozen=True, slots=True)
class ShortLine:
    sku: str
    requested: int
    available: int  # the most any single candidate warehouse has


# The most a warehouse may hold of one SKU, and the largest single movement: stock is counted
# in 32-bit integers, so a receipt that would pass this is refused, never overflowed.
MAX_ON_HAND = 2**31 - 1


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    SHIPMENT = "shipment"
    RETURN = "return"  # returned goods inspected good, back on the shelf (issue 13)


def lock_order(needs: Mapping[str, int]) -> list[tuple[str, int]]:
    """Lines in the one order every transaction locks stock rows in: by SKU."""
    return sorted(needs.items())


def rank_warehouses(warehouses: Iterable[WarehouseChoice]) -> list[WarehouseChoice]:
    """Highest priority first; ties broken by code so the choice is deterministic."""
    return sorted(warehouses, key=lambda w: (-w.priority, w.code))


def choose_warehouses(needs: Mapping[str, int], warehouses: Iterable[WarehouseChoice],
                      available: Mapping[tuple[int, str], int]) -> list[WarehouseChoice]:
    """Warehouses that can serve the whole order, best first; raise if there are none.

    ``available`` maps (warehouse id, sku) to on hand minus reserved. The store tries them
    in this order, because stock may move between the read and the conditional update.
    """
    ranked = rank_warehouses(warehouses)
    able = [w for w in ranked
            if all(available.get((w.id, sku), 0) >= qty for sku, qty in needs.items())]
    if able:
        return able
    raise insufficient(needs, ranked, available)


def insufficient(needs: Mapping[str, int], warehouses: Iterable[WarehouseChoice],
                 available: Mapping[tuple[int, str], int]) -> InsufficientStock:
    ws = list(warehouses)
    short = []
    for sku, qty in sorted(needs.items()):
        best = max((available.get((w.id, sku), 0) for w in ws), default=0)
        short.append(ShortLine(sku, qty, best))
    # A line is short if no warehouse holds enough; if each line is coverable somewhere but no
    # single warehouse holds them all, name every line (splitting comes with routing).
    named = [s for s in short if s.available < s.requested] or short
    return _stock_error(named)


def _stock_error(short: list[ShortLine]) -> InsufficientStock:
    err = InsufficientStock({"skus": ", ".join(s.sku for s in short)})
    err.params["lines"] = [{"sku": s.sku, "requested": s.requested, "available": s.available}
                           for s in short]
    return err
