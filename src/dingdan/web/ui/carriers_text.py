"""The carrier pages' words in zh-CN and en (issue 12). Tracking statuses come from
``domain.tracking``, label statuses from ``domain.labels``."""

from __future__ import annotations

CARRIER_TEXT: dict[str, tuple[str, str]] = {
    "carriers.title": ("承运商与运价", "Carriers and rates"),
    "carriers.code": ("代码", "Code"),
    "carriers.name": ("名称", "Name"),
    "carriers.services": ("服务", "Services"),
    "carriers.divisor": ("抛重系数", "Volumetric divisor"),
    "carriers.days": ("时效（天）", "Transit (days)"),
    "carriers.day_unit": ("天", " d"),
    "carriers.none": ("还没有承运商：通过 API PUT /api/v1/carriers/{code} 添加。",
                      "No carriers yet: add them with PUT /api/v1/carriers/{code}."),
    "carriers.upload": ("导入运价表", "Import a rate table"),
    "carriers.upload_hint": ("Excel 或 CSV：承运商、服务、始发省、目的省、起始重量、截止重量、"
                             "首重、首重价格、续重单位、续重价格、时效。"
                             "有断档或重叠的行会被逐行指出，整表不导入。",
                             "Excel or CSV: carrier, service, origin, destination, min_kg, max_kg, "
                             "first_kg, first_price, step_kg, step_price, transit_days. Rows with "
                             "gaps or overlaps are named and nothing is imported."),
    "carriers.file": ("文件", "File"),
    "carriers.import": ("导入", "Import"),
    "carriers.imported": ("已导入 {rows} 行：{services}", "Imported {rows} rows: {services}"),
    "trouble.title": ("异常包裹", "Parcels in trouble"),
    "trouble.none": ("没有异常包裹。", "No parcel is in trouble."),
    "trouble.kind": ("原因", "Reason"),
    "trouble.silent": ("48 小时无物流更新", "No scan for 48 hours"),
    "trouble.failed_delivery": ("派送失败", "Delivery failed"),
    "trouble.returning": ("退回", "Returning to sender"),
    "trouble.exception": ("物流异常", "Carrier exception"),
    "trouble.unknown_status": ("未知物流状态", "Unknown carrier status"),
    "ship.title": ("发货与物流", "Shipping and tracking"),
    "ship.rates": ("运费比价", "Rate shopping"),
    "ship.shop": ("比价并选择", "Shop rates"),
    "ship.chosen": ("已选", "Chosen"),
    "ship.keeps": ("满足时效承诺", "keeps the promise"),
    "ship.misses": ("无法满足时效承诺", "misses the promise"),
    "ship.alternatives": ("其他选项", "Alternatives"),
    "ship.no_choice": ("尚未比价。", "No rates shopped yet."),
    "ship.labels": ("面单", "Labels"),
    "ship.issue": ("打印面单", "Print a label"),
    "ship.size": ("尺寸", "Size"),
    "ship.no_labels": ("还没有面单。", "No label yet."),
    "ship.pdf": ("PDF", "PDF"),
    "ship.void": ("作废", "Void"),
    "ship.hand_over": ("交接发货", "Ship with this label"),
    "ship.void_reason": ("作废原因", "Why void it"),
    "ship.tracking": ("物流轨迹", "Tracking history"),
    "ship.no_events": ("还没有物流信息。", "No scan yet."),
    "ship.carrier_text": ("承运商描述", "Carrier's words"),
    "ship.place": ("地点", "Place"),
    "ship.moved": ("订单状态", "Order moved"),
    "ship.unknown": ("未知状态码", "unknown code"),
    "ship.price": ("运费", "Price"),
    "ship.promised": ("承诺送达", "Promised by"),
    "ship.weight": ("计费重量", "Chargeable weight"),
    "ship.tracking_number": ("运单号", "Tracking number"),
    "ship.status": ("状态", "Status"),
    "ship.time": ("时间", "Time"),
    "ship.back": ("返回订单", "Back to the order"),
}


def carrier_text(key: str, lang: str) -> str:
    pair = CARRIER_TEXT.get(key)
    return key if pair is None else pair[0] if lang == "zh-CN" else pair[1]
