"""Tracking events: one taxonomy for every carrier's statuses, and what an event does to the
order. Pure: callers pass the order's status, the events and the time.

Each provider's statuses map to :class:`TrackingStatus` through a table of its own
(:data:`KUAIDI100`, :data:`SF_EXPRESS`); a status no table knows is kept, with its code and
the carrier's text, and normalised to ``exception`` so a person looks at it — never dropped.

Events drive the order through its transition table (``domain.lifecycle``): the first
pick-up or line-haul scan moves a shipped order to in transit, a delivery scan to out for
delivery, a signature to delivered. The order only moves forward: an event that arrives
after a later one (pushes overtake each other) is recorded on the parcel's history but does
not move the order back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Action, Status


class TrackingStatus(StrEnum):
    LABEL_CREATED = "label_created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    ARRIVED_AT_CITY = "arrived_at_city"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    DELIVERED = "delivered"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED = "returned"


class Provider(StrEnum):
    KUAIDI100 = "kuaidi100"
    SF_EXPRESS = "sf_express"


T = TrackingStatus

# Kuaidi100 (快递100), subscription pushes and real-time queries with ``resultv2=4``: the
# detailed sub-state (``statusCode`` of each trace, ``state`` of the result) first, the
# top-level ``state`` when the account gets no sub-states. Source: the 快递100 API document
# "订阅推送 / 实时查询: 物流状态 state / 高级状态".
KUAIDI100: dict[str, TrackingStatus] = {
    # top-level states
    "0": T.IN_TRANSIT,  # 在途
    "1": T.PICKED_UP,  # 揽收
    "2": T.EXCEPTION,  # 疑难
    "3": T.DELIVERED,  # 签收
    "4": T.RETURNED,  # 退签
    "5": T.OUT_FOR_DELIVERY,  # 派件
    "6": T.RETURNING_TO_SENDER,  # 退回
    "7": T.IN_TRANSIT,  # 转投 (handed to another carrier)
    "8": T.IN_TRANSIT,  # 清关
    "14": T.RETURNED,  # 拒签
    # sub-states (resultv2=4)
    "101": T.LABEL_CREATED,  # 已下单
    "102": T.LABEL_CREATED,  # 待揽收
    "103": T.PICKED_UP,  # 已揽收
    "1001": T.ARRIVED_AT_CITY,  # 到达派件城市
    "1002": T.IN_TRANSIT,  # 干线
    "1003": T.IN_TRANSIT,  # 转递
    "501": T.OUT_FOR_DELIVERY,  # 投柜或驿站 (waiting at a locker or station)
    "301": T.DELIVERED,  # 本人签收
    "302": T.DELIVERED,  # 派件异常后签收
    "303": T.DELIVERED,  # 代签
    "304": T.DELIVERED,  # 投柜或站签收
    "401": T.RETURNED,  # 已销单
    "201": T.DELAYED,  # 超时未签收
    "202": T.DELAYED,  # 超时未更新
    "203": T.RETURNING_TO_SENDER,  # 拒收
    "204": T.DELIVERY_ATTEMPTED,  # 派件异常
    "205": T.DELAYED,  # 柜或驿站超时未取
    "206": T.DELIVERY_ATTEMPTED,  # 无法联系
    "207": T.EXCEPTION,  # 超区
    "208": T.DELAYED,  # 滞留
    "209": T.EXCEPTION,  # 破损
    "10": T.IN_TRANSIT,  # 待清关
    "11": T.IN_TRANSIT,  # 清关中
    "12": T.IN_TRANSIT,  # 已清关
    "13": T.EXCEPTION,  # 清关异常
}

# SF Express (顺丰) route operation codes (``opCode`` of a WaybillRoute), as the open
# platform's route query and route push carry them.
SF_EXPRESS: dict[str, TrackingStatus] = {
    "50": T.PICKED_UP,  # 顺丰已收取快件
    "54": T.PICKED_UP,  # 上门收件
    "43": T.PICKED_UP,  # 已收取快件 (station)
    "30": T.IN_TRANSIT,  # 已经过分拣 / sorted
    "36": T.IN_TRANSIT,  # 离开 (left the hub)
    "3036": T.IN_TRANSIT,  # 在途 (line haul)
    "31": T.ARRIVED_AT_CITY,  # 到达 (arrived at the hub)
    "105": T.ARRIVED_AT_CITY,  # 到达派件网点
    "44": T.OUT_FOR_DELIVERY,  # 正在派送途中
    "204": T.OUT_FOR_DELIVERY,  # 派件
    "130": T.OUT_FOR_DELIVERY,  # 已放入丰巢/驿站
    "70": T.DELIVERY_ATTEMPTED,  # 派送不成功
    "33": T.DELAYED,  # 派件异常 / 滞留
    "80": T.DELIVERED,  # 已签收
    "8000": T.DELIVERED,  # 签收 (signed)
    "99": T.RETURNING_TO_SENDER,  # 应客户要求退回
    "648": T.RETURNING_TO_SENDER,  # 退回
    "649": T.RETURNED,  # 退回签收
}

# Carriers' codes at Kuaidi100 (its 快递公司编码 list), for carriers the catalogue does not
# name one for.
KUAIDI100_COMPANIES: dict[str, str] = {
    "SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong",
    "YUNDA": "yunda", "JD": "jd", "EMS": "ems", "DBL": "debangkuaidi", "JTSD": "jtexpress",
    "DHL": "dhl", "FEDEX": "fedex", "UPS": "ups",
}


def kuaidi100_company(carrier: str, catalogue_code: str | None) -> str:
    """The code Kuaidi100 knows a carrier by: the catalogue's, a well-known one, or the
    carrier's own in lower case."""
    return catalogue_code or KUAIDI100_COMPANIES.get(carrier.strip().upper(),
                                                     carrier.strip().lower())


TABLES: dict[Provider, Mapping[str, TrackingStatus]] = {
    Provider.KUAIDI100: KUAIDI100, Provider.SF_EXPRESS: SF_EXPRESS}


@dataclass(frozen=True, slots=True)
class Normalised:
    status: TrackingStatus
    known: bool  # False: a code no table knows, kept and mapped to exception


def normalise(provider: Provider, code: str) -> Normalised:
    """One carrier code in the taxonomy; an unknown code is an exception, flagged as such."""
    found = TABLES[provider].get(code.strip())
    return Normalised(found, True) if found is not None else Normalised(T.EXCEPTION, False)


# What a tracking status asks of the order, if anything.
_ORDER_ACTION: dict[TrackingStatus, Action] = {
    T.PICKED_UP: Action.IN_TRANSIT,
    T.IN_TRANSIT: Action.IN_TRANSIT,
    T.ARRIVED_AT_CITY: Action.IN_TRANSIT,
    T.OUT_FOR_DELIVERY: Action.OUT_FOR_DELIVERY,
    T.DELIVERED: Action.DELIVER,
}
# How far along the road each order status is: the order never moves back.
_ROAD: dict[Status, int] = {Status.SHIPPED: 0, Status.IN_TRANSIT: 1,
                            Status.OUT_FOR_DELIVERY: 2, Status.DELIVERED: 3,
                            Status.COMPLETED: 4}
_TARGET: dict[Action, Status] = {Action.IN_TRANSIT: Status.IN_TRANSIT,
                                 Action.OUT_FOR_DELIVERY: Status.OUT_FOR_DELIVERY,
                                 Action.DELIVER: Status.DELIVERED}


def order_action(order_status: Status, event: TrackingStatus) -> Action | None:
    """The lifecycle action this event takes on an order now, or None (nothing to do: the
    event says nothing about the order, the order is already further along, or it is not on
    the road). The transition table decides what is allowed."""
    action = _ORDER_ACTION.get(event)
    if action is None or order_status not in _ROAD:
        return None
    if _ROAD[_TARGET[action]] <= _ROAD[order_status]:
        return None  # a late push: the order is already there or beyond
    return action if lifecycle.find(order_status, action) is not None else None


def status_after(action: Action) -> Status:
    """Where an action :func:`order_action` gave leads the order."""
    return _TARGET[action]


class AlertKind(StrEnum):
    """Why a parcel needs a person (the alerts table's ``kind``; stage ``tracking``)."""

    SILENT = "silent"  # no scan for SILENCE
    FAILED_DELIVERY = "failed_delivery"
    RETURNING = "returning"
    EXCEPTION = "exception"
    UNKNOWN_STATUS = "unknown_status"


ALERT_STAGE = "tracking"
ALERT_ROLE = "customer_service"  # who owns a parcel in trouble
SILENCE = timedelta(hours=48)

_ALERTS: dict[TrackingStatus, AlertKind] = {
    T.DELIVERY_ATTEMPTED: AlertKind.FAILED_DELIVERY,
    T.RETURNING_TO_SENDER: AlertKind.RETURNING,
    T.RETURNED: AlertKind.RETURNING,
    T.EXCEPTION: AlertKind.EXCEPTION,
}


def alert_for(n: Normalised) -> AlertKind | None:
    """The alert an event raises, if any."""
    if not n.known:
        return AlertKind.UNKNOWN_STATUS
    return _ALERTS.get(n.status)


def is_silent(last_scan_at: datetime, now: datetime, silence: timedelta = SILENCE) -> bool:
    """No scan for ``silence``: a parcel that may be lost."""
    return now - last_scan_at >= silence


# Statuses whose parcels the silence scan watches (still on the road).
ON_THE_ROAD: frozenset[Status] = frozenset({Status.SHIPPED, Status.IN_TRANSIT,
                                            Status.OUT_FOR_DELIVERY})

LABELS: dict[TrackingStatus, dict[str, str]] = {
    T.LABEL_CREATED: {"zh-CN": "已下单", "en": "Label created"},
    T.PICKED_UP: {"zh-CN": "已揽收", "en": "Picked up"},
    T.IN_TRANSIT: {"zh-CN": "运输中", "en": "In transit"},
    T.ARRIVED_AT_CITY: {"zh-CN": "到达派件城市", "en": "Arrived at city"},
    T.OUT_FOR_DELIVERY: {"zh-CN": "派送中", "en": "Out for delivery"},
    T.DELIVERY_ATTEMPTED: {"zh-CN": "派送未成功", "en": "Delivery attempted"},
    T.DELAYED: {"zh-CN": "延误", "en": "Delayed"},
    T.EXCEPTION: {"zh-CN": "异常", "en": "Exception"},
    T.DELIVERED: {"zh-CN": "已签收", "en": "Delivered"},
    T.RETURNING_TO_SENDER: {"zh-CN": "退回中", "en": "Returning to sender"},
    T.RETURNED: {"zh-CN": "已退回", "en": "Returned"},
}


def label(status: TrackingStatus, lang: str) -> str:
    labels = LABELS[status]
    return labels.get(lang, labels["en"])
