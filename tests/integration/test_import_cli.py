"""``dingdan import orders FILE``: the check, the import and the report from the shell."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dingdan.cli import app


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "dingdan.db"
    shutil.copy(sqlite_template, db)
    monkeypatch.setenv("DINGDAN_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    return db


def _catalogue() -> None:
    """One product with stock, made through the use cases the API uses."""
    import asyncio

    from dingdan.domain.inventory import MovementKind
    from dingdan.services import catalogue, inventory
    from dingdan.services.users import OPERATOR
    from dingdan.settings import Settings
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory

    async def run() -> None:
        engine = make_engine(Settings().database_url)
        uows = UnitOfWorkFactory(engine)
        try:
            await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"),
                                             uows(), actor=OPERATOR)
            await catalogue.create_product(catalogue.ProductFields("CLI-1", "茶", 1000),
                                           uows(), actor=OPERATOR)
            await inventory.move_stock(inventory.MoveStock(
                "CLI-1", "SH", 10, MovementKind.RECEIPT, "opening", OPERATOR), uows())
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_sheet_is_checked_and_imported_and_bad_rows_reported(database: Path,
                                                               tmp_path: Path) -> None:
    runner = CliRunner()
    _catalogue()
    sheet = tmp_path / "orders.csv"
    sheet.write_text("order_id,recipient,phone,province,city,district,street,sku,quantity\n"
                     "C1,张三,13800138000,广东省,深圳市,南山区,科技园路1号,CLI-1,2\n"
                     "C2,李四,13900139000,上海市,上海市,浦东新区,=cmd|' /C calc'!A0,CLI-1,1\n",
                     encoding="utf-8")
    report = tmp_path / "report.csv"
    done = runner.invoke(app, ["import", "orders", str(sheet), "--report", str(report)])
    assert done.exit_code == 1, done.output  # a bad row: nothing imported
    assert "2 orders, 1 bad rows" in done.output and "row 3 street: formula" in done.output
    with report.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert {r["order_id"]: r["outcome"] for r in rows} == {"C1": "pending", "C2": "bad"}

    done = runner.invoke(app, ["import", "orders", str(sheet), "--partial"])
    assert done.exit_code == 0, done.output
    assert "imported: 1 created, 0 failed of 1 orders" in done.output


def test_a_file_that_is_no_sheet_exits_2(database: Path, tmp_path: Path) -> None:
    junk = tmp_path / "orders.xlsx"
    junk.write_bytes(b"\x00\x01 not a workbook")
    done = CliRunner().invoke(app, ["import", "orders", str(junk)])
    assert done.exit_code == 2
    assert "not one" in done.output
