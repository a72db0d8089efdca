"""The demo's intake: a connected Shopify shop and one sheet import from a marketplace
export — five good orders imported and one row with a SKU the shop does not sell, so the
import pages show a batch, its row-by-row report and what it made.

Idempotent like the rest of the demo: the shop and the batch are made only if missing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dingdan.domain.events import Actor
from dingdan.services import imports, shops
from dingdan.services.demo import data
from dingdan.store.uow import UnitOfWorkFactory

CHANNEL = "demo-sheet"
FILENAME = "天猫导出-示例.csv"
SHOP = "shopify-demo"
_ROWS = (
    ("TM-0001", "孙丽", "13812345601", "浙江省", "杭州市", "西湖区", "文三路 90 号", 0, 1),
    ("TM-0002", "钱伟", "13912345602", "江苏省", "南京市", "鼓楼区", "中山路 18 号", 1, 2),
    ("TM-0002", "钱伟", "13912345602", "江苏省", "南京市", "鼓楼区", "中山路 18 号", 2, 1),
    ("TM-0003", "郑洁", "13712345603", "四川省", "成都市", "武侯区", "人民南路四段 1 号", 3, 1),
    ("TM-0004", "冯强", "13612345604", "湖北省", "武汉市", "洪山区", "珞喻路 129 号", 4, 3),
    ("TM-0005", "陈晨", "13512345605", "广东省", "广州市", "天河区", "天河路 385 号", 5, 1),
    ("TM-0006", "褚红", "13412345606", "福建省", "厦门市", "思明区", "湖滨南路 1 号", -1, 1),
)


def _sheet() -> bytes:
    lines = ["订单号,收货人,手机,省,市,区,详细地址,商品编码,数量,运费"]
    for oid, name, phone, prov, city, dist, street, product, qty in _ROWS:
        sku = data.PRODUCTS[product].sku if product >= 0 else "TM-UNKNOWN-SKU"
        lines.append(f"{oid},{name},{phone},{prov},{city},{dist},{street},{sku},{qty},0")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


async def load_intake(uows: UnitOfWorkFactory, agent: Actor, manager: Actor) -> int:
    """Make what is missing; the number of orders the import placed."""
    async with uows(read_only=True) as uow:
        has_shop = await uow.channels.source(SHOP) is not None
        has_batch = await uow.imports.any_of(CHANNEL)
    if not has_shop:
        await shops.connect_shop(shops.ConnectShop(
            SHOP, "shopify", "Shopify 海外店（演示）", "shpss_demo_" + "0" * 24, manager), uows())
    if has_batch:
        return 0
    tz = ZoneInfo("Asia/Shanghai")
    batch = await imports.check_import(imports.CheckImport(
        CHANNEL, FILENAME, _sheet(), agent, tz, partial=True), uows())
    await imports.start_import(batch["id"], uows(), actor=agent)
    done = await imports.continue_import(batch["id"], uows, actor=agent, tz=tz)
    return int(done["created"])
