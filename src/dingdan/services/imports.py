"""Importing orders from a sheet: check (the dry run), import, discard; the batch's report.

:func:`check_import` reads the file, finds the columns, groups the rows into orders and
checks each against the order rules and the catalogue — writing only the batch and its
row-by-row findings, never an order. :func:`start_import` moves a checked batch to
*importing* (all of it when no row is bad; the good orders alone when partial was asked
for); :func:`continue_import` then receives each good order through
``services.channel_orders.receive_channel_order`` — each order in its own transaction,
whole or not at all, once per (channel, order id) however often the file is imported —
records its outcome and the batch's progress, and finishes the batch. Stopped half way (the
server restarted), it is continued by calling :func:`continue_import` again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from dingdan.adapters.channels.spreadsheet import read_sheet
from dingdan.domain import imports as sheet
from dingdan.domain.errors import (
    DomainError,
    ErrorCollector,
    FieldError,
    ImportFileInvalid,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor
from dingdan.domain.imports import IMPORT, BatchAction, BatchFacts, BatchStatus, RowError
from dingdan.domain.orders import validate_draft
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.services.channel_orders import ChannelOrder, receive_channel_order
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
MAX_MAPPING = 40
PUBLIC = ("id", "channel", "filename", "status", "partial", "row_count", "order_count",
          "bad_rows", "done", "created", "failed", "version", "created_by", "created_at",
          "started_at", "closed_at")


@dataclass(frozen=True)
class CheckImport:
    channel: str  # the orders' channel: their ids are unique within it
    filename: str
    content: bytes
    actor: Actor
    tz: tzinfo  # for dates in the sheet without an offset
    # column -> the file's header; saved for the channel, and used when none is given
    mapping: Mapping[str, str] = field(default_factory=dict)
    partial: bool = False  # import the good orders even if some rows are bad


def _row_error(e: RowError) -> dict[str, Any]:
    return {"row": e.row, "column": e.column, "code": e.code, "message": e.message}


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: batch[k] for k in PUBLIC}


async def check_import(cmd: CheckImport, uow: UnitOfWork) -> dict[str, Any]:
    """Read and check the file; store the batch (status *checked*) with what each row holds."""
    require(cmd.actor, Permission.ORDER_CREATE, "import_batch", cmd.filename)
    errors = ErrorCollector()
    if not _CHANNEL.match(cmd.channel):
        errors.add("channel", "string_pattern_mismatch",
                   "2-32 lower-case letters, digits, - or _ (e.g. csv, tmall-export)")
    if len(cmd.mapping) > MAX_MAPPING:
        errors.add("mapping", "too_many", f"at most {MAX_MAPPING} columns")
    errors.raise_if_any()
    found = read_sheet(cmd.filename, cmd.content, sheet.MAX_ROWS)
    async with uow:
        # Without a mapping given, the source's sheets are read as its last one was.
        mapping = dict(cmd.mapping) or await uow.imports.mapping(cmd.channel)
        columns, header_errors = sheet.find_columns(found.header, mapping)
        if header_errors:
            raise ImportFileInvalid({"reason": "columns are missing"}, [
                FieldError(f"rows.{e.row}.{e.column}", e.code, e.message)
                for e in header_errors])
        rows = sheet.sheet_rows(found.rows, columns)
        if not rows:
            raise ImportFileInvalid({"reason": "the file has a header but no rows"})
        orders = sheet.group_orders(cmd.channel, rows, cmd.tz)
        catalogue = await uow.catalogue.items(
            {ln.sku for o in orders if o.draft for ln in o.draft.lines})
        stored = []
        bad_rows: set[int] = set()
        for seq, o in enumerate(orders, start=1):
            found_errors = list(o.errors)
            if o.draft is not None:
                try:
                    validate_draft(o.draft, catalogue)
                except ValidationFailed as exc:
                    found_errors = sheet.locate(o, exc.details)
            bad_rows |= {e.row for e in found_errors}
            stored.append(dict(
                seq=seq, external_id=o.external_id[:128], first_row=o.rows[0].row,
                sheet_rows=[{"row": r.row, "values": {c.value: v for c, v in r.values.items()}}
                            for r in o.rows],
                outcome="bad" if found_errors else "pending", order_number=None,
                errors=[_row_error(e) for e in found_errors]))
        now = uow.now()
        values = dict(channel=cmd.channel, filename=cmd.filename[:200],
                      status=BatchStatus.CHECKED.value, partial=cmd.partial,
                      row_count=len(rows), order_count=len(orders), bad_rows=len(bad_rows),
                      done=0, created=0, failed=0, version=1, created_by=cmd.actor.label,
                      created_at=now, updated_at=now)
        batch_id = await uow.imports.add(values, stored)
        if cmd.mapping:
            await uow.imports.save_mapping(cmd.channel, cmd.mapping, cmd.actor.label, now)
        await uow.audit.record(cmd.actor, "import.check", "import_batch", batch_id, None, {
            "channel": cmd.channel, "filename": values["filename"], "rows": len(rows),
            "orders": len(orders), "bad_rows": len(bad_rows)})
        batch = await uow.imports.get(batch_id)
        await uow.commit()
    assert batch is not None
    return _public(batch)


async def get_import(batch_id: int, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.ORDER_CREATE, "import_batch", batch_id)
    async with uow:
        batch = await uow.imports.get(batch_id)
    if batch is None:
        raise NotFound({"kind": "import", "key": batch_id})
    return _public(batch)


async def list_imports(uow: UnitOfWork, *, actor: Actor, limit: int = 50,
                       ) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_CREATE, "import_batch")
    async with uow:
        return [_public(b) for b in await uow.imports.page(limit)]


async def import_report(batch_id: int, uow: UnitOfWork, *, actor: Actor,
                        ) -> list[dict[str, Any]]:
    """Row by row: every problem found (row, column, code, message) and every order's
    outcome (``created``, ``unchanged``, ``updated``, ``failed``, ``bad``, ``pending``)."""
    require(actor, Permission.ORDER_CREATE, "import_batch", batch_id)
    async with uow:
        if await uow.imports.get(batch_id) is None:
            raise NotFound({"kind": "import", "key": batch_id})
        orders = await uow.imports.orders(batch_id)
    out: list[dict[str, Any]] = []
    for o in orders:
        base = {"order_id": o["external_id"], "outcome": o["outcome"],
                "order_number": o["order_number"]}
        if o["errors"]:
            out.extend({**base, **e} for e in o["errors"])
        else:
            out.append({**base, "row": o["first_row"], "column": "", "code": "",
                        "message": ""})
    return out


async def _step(uow: UnitOfWork, batch_id: int, action: BatchAction, actor: Actor,
                expected_version: int | None, partial: bool | None = None) -> dict[str, Any]:
    batch = await uow.imports.get(batch_id)
    if batch is None:
        raise NotFound({"kind": "import", "key": batch_id})
    if expected_version is not None and expected_version != batch["version"]:
        raise VersionConflict({"number": str(batch_id), "expected": expected_version,
                               "actual": batch["version"]})
    good = batch["order_count"] - len(await uow.imports.orders(batch_id, "bad"))
    wants_partial = batch["partial"] if partial is None else partial
    facts = BatchFacts(BatchStatus(batch["status"]), batch["bad_rows"], good, wants_partial)
    row, target = IMPORT.step(facts.status, action, facts)
    now = uow.now()
    values: dict[str, Any] = {"status": target.value, "partial": wants_partial,
                              "updated_at": now, **dict.fromkeys(row.stamps, now)}
    if not await uow.imports.update(batch_id, batch["version"], values):
        raise VersionConflict({"number": str(batch_id)})
    await uow.audit.record(actor, f"import.{action.value}", "import_batch", batch_id,
                           {"status": batch["status"]}, {"status": target.value,
                                                         "partial": wants_partial})
    return {**batch, **values, "version": batch["version"] + 1}


async def start_import(batch_id: int, uow: UnitOfWork, *, actor: Actor,
                       partial: bool | None = None,
                       expected_version: int | None = None) -> dict[str, Any]:
    """Checked -> importing (the table's guard: no bad rows, or partial asked for)."""
    require(actor, Permission.ORDER_CREATE, "import_batch", batch_id)
    async with uow:
        batch = await _step(uow, batch_id, BatchAction.IMPORT, actor, expected_version,
                            partial)
        await uow.commit()
    return _public(batch)


async def discard_import(batch_id: int, uow: UnitOfWork, *, actor: Actor,
                         expected_version: int | None = None) -> dict[str, Any]:
    require(actor, Permission.ORDER_CREATE, "import_batch", batch_id)
    async with uow:
        batch = await _step(uow, batch_id, BatchAction.DISCARD, actor, expected_version)
        await uow.commit()
    return _public(batch)


CHUNK = 200  # pending orders read at a time
# Orders received side by side, their outcomes then written (and the progress moved)
# together: the use cases wait on the database more than they compute, so a few at once keep
# it busy (measured in bench/README.md). Rows of one order are one order: none share a key.
PROGRESS_EVERY = 8


async def continue_import(batch_id: int, uows: UnitOfWorkFactory, *, actor: Actor,
                          tz: tzinfo) -> dict[str, Any]:
    """Receive every pending order of an importing batch, then finish it.

    Each order is placed in its own transaction, :data:`PROGRESS_EVERY` at a time; their
    outcomes and the batch's progress are written after each group. Stopped in between, a
    run again finds the orders already placed and records them ``unchanged``."""
    require(actor, Permission.ORDER_CREATE, "import_batch", batch_id)
    async with uows(read_only=True) as uow:
        batch = await uow.imports.get(batch_id)
    if batch is None:
        raise NotFound({"kind": "import", "key": batch_id})
    if batch["status"] != BatchStatus.IMPORTING.value:
        return _public(batch)
    after = 0
    while True:
        async with uows(read_only=True) as uow:
            pending = await uow.imports.orders(batch_id, "pending", after, CHUNK)
        if not pending:
            break
        for start in range(0, len(pending), PROGRESS_EVERY):
            part = pending[start:start + PROGRESS_EVERY]
            after = part[-1]["seq"]
            results = await asyncio.gather(*(
                _import_one(batch["channel"], o, uows, actor, tz) for o in part))
            await _record_outcomes(uows, batch_id, [(o["seq"], *r)
                                                    for o, r in zip(part, results, strict=True)])
    async with uows() as uow:
        finished = await _step(uow, batch_id, BatchAction.FINISH, actor, None)
        await uow.commit()
    return _public(finished)


async def _import_one(channel: str, o: dict[str, Any], uows: UnitOfWorkFactory, actor: Actor,
                      tz: tzinfo) -> tuple[str, str | None, list[RowError]]:
    rows = tuple(sheet.SheetRow(r["row"], {sheet.Column(c): v for c, v in r["values"].items()})
                 for r in o["sheet_rows"])
    parsed = sheet.group_orders(channel, rows, tz)[0]
    if parsed.draft is None:
        return "failed", None, list(parsed.errors)
    try:
        received = await receive_channel_order(ChannelOrder(parsed.draft, actor), uows)
    except DomainError as exc:
        return "failed", None, sheet.locate(parsed, exc.details) or [RowError(
            parsed.rows[0].row, "", exc.code.lower(),
            str(exc.params.get("reason") or exc.code))]
    return received.arrival.value, received.number, []


async def _record_outcomes(uows: UnitOfWorkFactory, batch_id: int,
                           done: list[tuple[int, str, str | None, list[RowError]]]) -> None:
    if not done:
        return
    async with uows() as uow:
        for seq, outcome, number, errors in done:
            await uow.imports.set_outcome(batch_id, seq, outcome, number,
                                          [_row_error(e) for e in errors])
        await uow.imports.count_done(batch_id, len(done),
                                     sum(1 for d in done if d[1] == "created"),
                                     sum(1 for d in done if d[1] == "failed"))
        await uow.commit()
