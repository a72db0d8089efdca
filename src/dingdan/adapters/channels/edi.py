"""EDI purchase orders in, acknowledgements out: UN/EDIFACT ORDERS (D.96A, parsed with
pydifact) answered with ORDRSP, and ANSI X12 850 answered with 855. An interchange that does
not parse is answered with the functional acknowledgement that says why: CONTRL (EDIFACT,
``UCI`` action 7 "rejected") or 997 (X12, ``AK9*R``).

What is read of an order (the segments partners send for a plain purchase order), EDIFACT
first, then X12:

- order number: ``BGM`` 1004; ``BEG`` 03. Date: ``DTM+137`` (CCYYMMDD); ``BEG`` 05.
- currency: ``CUX+2:CNY``; ``CUR*BY*CNY``.
- ship to: ``NAD+DP`` (name, street, city, province, postcode, country); ``N1*ST``, ``N3``,
  ``N4``. Phone: ``COM+…:TE``; ``PER*…*TE*…``.
- lines: ``LIN`` (item ``:SA``) or ``PIA+1+…:SA``, ``QTY+21``, ``PRI+AAA``; ``PO1`` (quantity,
  unit price, the ``SK``/``VP``/``BP`` item).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dingdan.adapters.channels.shops import district_of
from dingdan.domain.imports import parse_amount
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft

MAX_MESSAGES = 500


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who sent the interchange to whom, and its control reference (echoed in the answer)."""

    sender: str
    recipient: str
    reference: str


@dataclass(frozen=True, slots=True)
class EdiOrder:
    external_id: str
    draft: OrderDraft | None  # None: the message's content is unusable (``problem`` says why)
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Interchange:
    format: str  # "edifact" or "x12"
    envelope: Envelope
    orders: list[EdiOrder] = field(default_factory=list)


class EdiSyntaxError(Exception):
    """The interchange does not parse; ``acknowledgement`` is the CONTRL or 997 to send back."""

    def __init__(self, reason: str, acknowledgement: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.acknowledgement = acknowledgement


def detect(text: str) -> str | None:
    head = text.lstrip()[:3]
    return "edifact" if head in ("UNA", "UNB") else "x12" if head == "ISA" else None


def channel_of(sender: str) -> str:
    """The orders' channel: ``edi-`` and the partner's id (lower case, letters and digits)."""
    return ("edi-" + re.sub(r"[^a-z0-9_-]+", "-", sender.lower()).strip("-"))[:32]


def _draft(syntax: str, partner: str, external_id: str, name: str, phone: str, street: str,
           city: str, province: str, postcode: str, country: str, currency: str,
           lines: list[LineDraft], placed_at: datetime | None) -> OrderDraft:
    return OrderDraft(
        channel=channel_of(partner), external_id=external_id[:128],
        customer=Customer(name[:200], phone or None),
        shipping_address=Address(name[:200], phone, province[:64], city[:64],
                                 district_of(street, city)[:64], street[:400],
                                 postcode[:16] or None, (country or "CN")[:2].upper()),
        lines=tuple(lines), currency=currency, placed_at=placed_at,
        custom_fields={"edi_syntax": syntax, "edi_partner": partner})


def _date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value[:8], "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- EDIFACT --------------------------------------------------------------------------------

def _element(elements: list[object], i: int, j: int | None = None) -> str:
    if i >= len(elements):
        return ""
    e = elements[i]
    if isinstance(e, list):
        e = e[j or 0] if (j or 0) < len(e) else ""
    elif j:
        return ""
    return str(e or "")


def parse_edifact(text: str) -> Interchange:
    from pydifact.exceptions import MissingImplementationWarning
    from pydifact.segmentcollection import Interchange as Parsed

    with warnings.catch_warnings():
        # pydifact validates against UN directories it does not ship; none is needed here
        warnings.simplefilter("ignore", MissingImplementationWarning)
        try:
            parsed = Parsed.from_str(text)
            messages = list(parsed.get_messages())
        except Exception as exc:  # pydifact raises EDISyntaxError, IndexError, …
            reason = str(exc)[:200] or type(exc).__name__
            raise EdiSyntaxError(reason, contrl(_unb_guess(text), reason)) from None
    envelope = Envelope(_id(parsed.sender), _id(parsed.recipient),
                        _id(parsed.control_reference))
    orders = []
    for message in messages[:MAX_MESSAGES]:
        if message.type != "ORDERS":
            continue
        orders.append(_edifact_order(envelope.sender, message.segments))
    return Interchange("edifact", envelope, orders)


def _id(value: object) -> str:
    return str(value[0] if isinstance(value, list) and value else value or "")[:35]


def _unb_guess(text: str) -> Envelope:
    m = re.search(r"UNB\+[^+']*\+([^+:']*)[^+']*\+([^+:']*)[^+']*\+[^+']*\+([^+:']*)", text)
    return Envelope(*(m.groups() if m else ("", "", "")))


def _edifact_order(partner: str, segments: Sequence[Any]) -> EdiOrder:
    number = name = phone = street = city = province = postcode = country = ""
    currency, placed_at, lines = "CNY", None, []
    sku, qty, price = "", 0, None
    in_dp = False

    def close_line() -> None:
        if sku:
            lines.append(LineDraft(sku, qty, price))

    for seg in segments:
        tag, el = seg.tag, seg.elements
        if tag == "BGM":
            number = _element(el, 1)
        elif tag == "DTM" and _element(el, 0, 0) == "137":
            placed_at = _date(_element(el, 0, 1))
        elif tag == "CUX":
            currency = _element(el, 0, 1) or currency
        elif tag == "NAD":
            in_dp = _element(el, 0) == "DP"
            if in_dp:
                name, street, city = _element(el, 3), _element(el, 4), _element(el, 5)
                province, postcode, country = _element(el, 6), _element(el, 7), _element(el, 8)
        elif tag == "COM" and in_dp and _element(el, 0, 1) == "TE":
            phone = _element(el, 0, 0)
        elif tag == "LIN":
            close_line()
            sku, qty, price = _element(el, 2, 0), 0, None
        elif tag == "PIA" and _element(el, 1, 1) in ("SA", "IN") and not sku:
            sku = _element(el, 1, 0)
        elif tag == "QTY" and _element(el, 0, 0) in ("21", "1"):
            qty = _int(_element(el, 0, 1))
        elif tag == "PRI" and _element(el, 0, 0) in ("AAA", "AAB"):
            price = parse_amount(_element(el, 0, 1), currency)
        elif tag == "UNS":
            close_line()
            sku = ""
    close_line()
    if not number:
        return EdiOrder("", None, "BGM names no order number")
    return EdiOrder(number, _draft("edifact", partner, number, name, phone, street, city,
                                   province, postcode, country, currency, lines, placed_at))


def _int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0


def _edifact(segments: list[tuple[str, ...]], envelope: Envelope, kind: str,
             reference: str, now: datetime) -> str:
    from pydifact.segmentcollection import Interchange as Out
    from pydifact.segmentcollection import Message
    from pydifact.segments import Segment

    out = Out([envelope.recipient or "DINGDAN", "14"], [envelope.sender or "UNKNOWN", "14"],
              reference, ("UNOC", 3), timestamp=now.replace(tzinfo=None))
    message = Message("1", [kind, "D", "96A", "UN"] if kind != "CONTRL"
                      else ["CONTRL", "D", "3", "UN"])
    for tag, *elements in segments:
        message.add_segment(Segment(tag, *[e.split(":") if ":" in e else e
                                           for e in elements]))
    out.add_message(message)
    with warnings.catch_warnings():
        from pydifact.exceptions import MissingImplementationWarning

        warnings.simplefilter("ignore", MissingImplementationWarning)
        return out.serialize()


def ordrsp(envelope: Envelope, number: str, accepted: bool, reason: str,
           now: datetime) -> str:
    """ORDRSP: ``BGM+231`` with 29 (accepted without amendment) or 27 (not accepted), the
    order referred to (``RFF+ON``) and, when refused, why (``FTX+AAI``)."""
    segs: list[tuple[str, ...]] = [("BGM", "231", f"R{number}"[:35], "29" if accepted else "27"),
                                   ("DTM", f"137:{now:%Y%m%d}:102"), ("RFF", f"ON:{number}")]
    if reason:
        segs.append(("FTX", "AAI", "", "", re.sub(r"[+:'?]", " ", reason)[:350]))
    return _edifact(segs, envelope, "ORDRSP", f"R{number}"[:14], now)


def contrl(envelope: Envelope, reason: str, now: datetime | None = None) -> str:
    """CONTRL rejecting the interchange (``UCI`` action 7) with a syntax error (code 12,
    "invalid value") and the reason as text for the partner's people."""
    now = now or datetime.now(UTC)
    segs: list[tuple[str, ...]] = [
        ("UCI", envelope.reference or "UNKNOWN", f"{envelope.sender}:14",
         f"{envelope.recipient}:14", "7", "12"),
        ("FTX", "AAI", "", "", re.sub(r"[+:'?]", " ", reason)[:350])]
    return _edifact(segs, envelope, "CONTRL", "C" + (envelope.reference or "0")[:13], now)


# --- X12 ------------------------------------------------------------------------------------

def _x12_segments(text: str) -> tuple[list[list[str]], str, str]:
    text = text.lstrip()
    if len(text) < 106 or not text.startswith("ISA"):
        raise ValueError("the ISA segment is missing or shorter than its 106 characters")
    element, component, terminator = text[3], text[104], text[105]
    segments = [s.strip().split(element) for s in text.split(terminator) if s.strip()]
    return segments, element, component


def parse_x12(text: str) -> Interchange:
    try:
        segments, _, component = _x12_segments(text)
        isa = segments[0]
        envelope = Envelope(isa[6].strip(), isa[8].strip(), isa[13].strip())
        if segments[-1][0] != "IEA":
            raise ValueError("the interchange does not end with IEA")
        orders = [_x12_order(envelope.sender, body, component)
                  for body in _transactions(segments, "850")]
    except (ValueError, IndexError) as exc:
        guess = _isa_guess(text)
        raise EdiSyntaxError(str(exc), x12_997(guess, str(exc))) from None
    return Interchange("x12", envelope, orders[:MAX_MESSAGES])


def _isa_guess(text: str) -> Envelope:
    parts = text.lstrip()[:106].split(text.lstrip()[3:4] or "*")
    return Envelope(*(p.strip() for p in (parts[6:7] or [""]) + (parts[8:9] or [""])
                      + (parts[13:14] or [""])))


def _transactions(segments: list[list[str]], kind: str) -> Iterator[list[list[str]]]:
    body: list[list[str]] | None = None
    for seg in segments:
        if seg[0] == "ST":
            if body is not None:
                raise ValueError("ST inside a transaction set without its SE")
            body = [] if seg[1] == kind else None
        elif seg[0] == "SE":
            if body is not None:
                yield body
            body = None
        elif body is not None:
            body.append(seg)


def _x12_order(partner: str, body: list[list[str]], component: str) -> EdiOrder:
    def el(seg: list[str], i: int) -> str:
        return seg[i].strip() if i < len(seg) else ""

    number = name = phone = street = city = province = postcode = country = ""
    currency, placed_at, lines = "CNY", None, []
    ship_to = False
    for seg in body:
        tag = seg[0]
        if tag == "BEG":
            number, placed_at = el(seg, 3), _date(el(seg, 5))
        elif tag == "CUR":
            currency = el(seg, 2) or currency
        elif tag == "N1":
            ship_to = el(seg, 1) == "ST"
            if ship_to:
                name = el(seg, 2)
        elif tag == "N3" and ship_to:
            street = " ".join(x for x in (el(seg, 1), el(seg, 2)) if x)
        elif tag == "N4" and ship_to:
            city, province, postcode, country = el(seg, 1), el(seg, 2), el(seg, 3), el(seg, 4)
        elif tag == "PER":
            for i in range(3, len(seg) - 1, 2):
                if el(seg, i) == "TE":
                    phone = el(seg, i + 1)
        elif tag == "PO1":
            sku = next((el(seg, i + 1) for i in range(6, len(seg) - 1, 2)
                        if el(seg, i) in ("SK", "VP", "BP", "IN")), "")
            lines.append(LineDraft(sku, _int(el(seg, 2)),
                                   parse_amount(el(seg, 4), currency) if el(seg, 4) else None))
    if not number:
        return EdiOrder("", None, "BEG names no purchase order number")
    return EdiOrder(number, _draft("x12", partner, number, name, phone, street, city,
                                   province, postcode, country, currency, lines, placed_at))


def _x12(envelope: Envelope, group: str, sets: list[list[str]], now: datetime,
         control: str) -> str:
    ctrl = re.sub(r"\D", "", control)[-9:].rjust(9, "0")
    isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", (envelope.recipient or "DINGDAN")
           .ljust(15)[:15], "ZZ", (envelope.sender or "UNKNOWN").ljust(15)[:15],
           f"{now:%y%m%d}", f"{now:%H%M}", "U", "00401", ctrl, "0", "P", ">"]
    segs = [isa, ["GS", group, envelope.recipient or "DINGDAN", envelope.sender or "UNKNOWN",
                  f"{now:%Y%m%d}", f"{now:%H%M}", "1", "X", "004010"]]
    segs += sets
    segs += [["GE", "1", "1"], ["IEA", "1", ctrl]]
    return "~".join("*".join(s) for s in segs) + "~"


def x12_855(envelope: Envelope, number: str, accepted: bool, reason: str,
            now: datetime) -> str:
    """855: ``BAK*00*AC`` (acknowledged, accepted) or ``BAK*00*RJ`` (rejected), the PO number
    and date, and when refused why (``MSG``)."""
    body = [["ST", "855", "0001"],
            ["BAK", "00", "AC" if accepted else "RJ", number, f"{now:%Y%m%d}"]]
    if reason:
        body.append(["MSG", re.sub(r"[*~>]", " ", reason)[:264]])
    body.append(["SE", str(len(body) + 1), "0001"])
    return _x12(envelope, "PR", body, now, envelope.reference or "1")


def x12_997(envelope: Envelope, reason: str, now: datetime | None = None) -> str:
    """997 rejecting the purchase order group: ``AK5*R`` and ``AK9*R``; the reason a person
    can read rides in ``AK4``'s copy of the bad data (X12 has no free text in a 997)."""
    now = now or datetime.now(UTC)
    body = [["ST", "997", "0001"], ["AK1", "PO", "1"], ["AK2", "850", "0001"],
            ["AK3", "ISA", "1", "", "8"],
            ["AK4", "1", "", "7", re.sub(r"[*~>]", " ", reason)[:99]],
            ["AK5", "R", "5"], ["AK9", "R", "1", "1", "0"]]
    body.append(["SE", str(len(body) + 1), "0001"])
    return _x12(envelope, "FA", body, now, envelope.reference or "0")


# --- advance ship notices -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Shipped:
    """What a ship notice says: the partner's order, the parcel, and what is in it."""

    partner: str  # the partner's id (the sender of its orders)
    order_number: str  # the partner's purchase order number
    shipment: str  # Dingdan's order number, as the shipment's id
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: list[tuple[str, int]]  # (sku, quantity)


def desadv(s: Shipped, now: datetime) -> str:
    """DESADV (D.96A): ``BGM+351`` (despatch advice), the despatch date, the order
    (``RFF+ON``), the carrier and its tracking number (``TDT``, ``RFF+CN``), the lines."""
    segs: list[tuple[str, ...]] = [
        ("BGM", "351", s.shipment, "9"), ("DTM", f"11:{s.shipped_at:%Y%m%d}:102"),
        ("RFF", f"ON:{s.order_number}"), ("TDT", "20", "", "", "", f"{s.carrier}::ZZZ"),
        ("RFF", f"CN:{s.tracking_number}"), ("CPS", "1")]
    for i, (sku, qty) in enumerate(s.lines, start=1):
        segs += [("LIN", str(i), "", f"{sku}:SA"), ("QTY", f"12:{qty}")]
    return _edifact(segs, Envelope(s.partner, "DINGDAN", s.shipment[-14:]), "DESADV",
                    s.shipment[-14:], now)


def x12_856(s: Shipped, now: datetime) -> str:
    """856: ``BSN`` (the shipment), the shipment level with the carrier and tracking number
    (``TD5``, ``REF*CN``), the order level (``PRF``), an item level per line (``LIN``,
    ``SN1``)."""
    body = [["ST", "856", "0001"],
            ["BSN", "00", s.shipment, f"{s.shipped_at:%Y%m%d}", f"{s.shipped_at:%H%M}"],
            ["HL", "1", "", "S"], ["TD5", "", "2", s.carrier],
            ["REF", "CN", s.tracking_number], ["DTM", "011", f"{s.shipped_at:%Y%m%d}"],
            ["HL", "2", "1", "O"], ["PRF", s.order_number]]
    for i, (sku, qty) in enumerate(s.lines, start=3):
        body += [["HL", str(i), "2", "I"], ["LIN", "", "SK", sku], ["SN1", "", str(qty), "EA"]]
    body += [["CTT", str(len(s.lines))]]
    body.append(["SE", str(len(body) + 1), "0001"])
    return _x12(Envelope(s.partner, "DINGDAN", ""), "SH", body, now,
                re.sub(r"\D", "", s.shipment) or "1")
