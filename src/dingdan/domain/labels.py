"""Shipping labels: their lifecycle (a transition table on ``domain.machine``), their sizes,
and what one says. Pure.

A label is issued with a waybill number from the carrier's pool and voided when the parcel
will not go with it (a wrong service, a re-pack); a voided number is not given out again —
carriers do not reuse numbers. The content is what the carrier's e-waybill (电子面单) shows:
the number as a Code128 barcode, a QR code, sender and recipient (the phone masked in the
middle, as 个人信息 rules for waybills ask), the order number and the weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dingdan.domain.machine import Machine, Requirement, Transition


class LabelStatus(StrEnum):
    ISSUED = "issued"
    VOIDED = "voided"


class LabelAction(StrEnum):
    VOID = "void"


LabelRow = Transition[LabelStatus, LabelAction, None]

TRANSITIONS: tuple[LabelRow, ...] = (
    Transition(LabelStatus.ISSUED, LabelAction.VOID, LabelStatus.VOIDED,
               requires=(Requirement("reason", "voiding a label needs a reason"),),
               stamps=("voided_at",), permission="order.fulfil"),
)

LABEL: Machine[LabelStatus, LabelAction, None, LabelRow] = Machine(
    name="label", statuses=LabelStatus, actions=LabelAction, transitions=TRANSITIONS,
    status_labels={LabelStatus.ISSUED: {"zh-CN": "已出单", "en": "Issued"},
                   LabelStatus.VOIDED: {"zh-CN": "已作废", "en": "Voided"}},
    action_labels={LabelAction.VOID: {"zh-CN": "作废", "en": "Void"}},
    terminal=frozenset({LabelStatus.VOIDED}))


class LabelSize(StrEnum):
    """Thermal label stock: 100 × 150 mm (the common one), 76 × 130 mm (the 一联 e-waybill)."""

    LARGE = "100x150"
    SMALL = "76x130"

    @property
    def mm(self) -> tuple[int, int]:
        width, height = self.value.split("x")
        return int(width), int(height)


@dataclass(frozen=True, slots=True)
class LabelContent:
    tracking_number: str
    carrier: str  # its name, as printed
    service: str
    order_number: str
    sender: str  # warehouse name and city
    recipient: str
    phone: str  # masked
    address: str
    weight_g: int
    issued_at: datetime

    @property
    def qr_payload(self) -> str:
        """What the QR code carries: enough for a scanner to find the parcel and its order."""
        return f"DINGDAN|{self.tracking_number}|{self.order_number}"


def mask_phone(phone: str) -> str:
    """138****8000: the middle four digits hidden (the national number's)."""
    digits = phone[3:] if phone.startswith("+86") else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"
