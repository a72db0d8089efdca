"""Shipping labels as PDF with reportlab: the page at the label's size (100 × 150 mm or
76 × 130 mm), the waybill number as a Code128 barcode, a QR code, and Chinese text in a CJK
font embedded (subset) in the file — so any printer prints it without fonts of its own.

The font is a TrueType collection from the system (Debian ``fonts-wqy-zenhei``, installed by
``scripts/setup``) or the one the settings name; reportlab registers it once per process.
Barcodes are vector drawings, so they stay sharp at the printer's resolution; the tests
render the page and decode them back.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from dingdan.domain.labels import LabelContent, LabelSize

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
FONT_NAME = "DingdanCJK"
_lock = threading.Lock()
_registered: str | None = None


class NoCjkFont(RuntimeError):
    """No CJK font to print Chinese with (apt-get install fonts-wqy-zenhei)."""


def find_font(configured: str | None = None) -> str:
    for candidate in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise NoCjkFont("no CJK font found: apt-get install fonts-wqy-zenhei, or set "
                    "DINGDAN_LABEL_FONT")


def _font(path: str) -> str:
    global _registered
    with _lock:
        if _registered != path:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
            _registered = path
    return FONT_NAME


def render_labels(labels: Sequence[tuple[LabelContent, LabelSize]],
                  font_path: str | None = None) -> bytes:
    """One PDF, one page per label (a wave's batch prints as one file)."""
    font = _font(find_font(font_path))
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=tuple(x * mm for x in labels[0][1].mm) if labels else None,
                    invariant=True)  # same input, same bytes: no timestamp or random id
    canvas.setTitle("Dingdan labels")
    for content, size in labels:
        canvas.setPageSize((size.mm[0] * mm, size.mm[1] * mm))
        _draw(canvas, content, size, font)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def render_label(content: LabelContent, size: LabelSize, font_path: str | None = None) -> bytes:
    return render_labels([(content, size)], font_path)


def _draw(c: Canvas, label: LabelContent, size: LabelSize, font: str) -> None:
    width, height = size.mm[0] * mm, size.mm[1] * mm
    small = size is LabelSize.SMALL
    margin = 3 * mm
    y = height - margin

    def text(value: str, points: float, *, x: float = margin, advance: float = 1.35) -> None:
        nonlocal y
        y -= points * advance
        c.setFont(font, points)
        c.drawString(x, y, value[:60])

    text(f"{label.carrier}  {label.service}", 11 if small else 13)
    c.line(margin, y - 2 * mm, width - margin, y - 2 * mm)
    y -= 3 * mm

    # The waybill number as Code128: wide modules and a quiet zone, for hand scanners.
    bar_width = 0.33 * mm if small else 0.4 * mm
    barcode = code128.Code128(label.tracking_number, barHeight=14 * mm if small else 18 * mm,
                              barWidth=bar_width, humanReadable=False, quiet=True)
    bar_x = max(margin, (width - barcode.width) / 2)
    y -= barcode.height
    barcode.drawOn(c, bar_x, y)
    text(label.tracking_number, 10, x=max(margin, (width - len(label.tracking_number) * 6)
                                          / 2))
    c.line(margin, y - 2 * mm, width - margin, y - 2 * mm)
    y -= 2 * mm

    text("收 " + f"{label.recipient}  {label.phone}", 10 if small else 12)
    for part in _wrap(label.address, 18 if small else 22):
        text(part, 9 if small else 10)
    y -= 1 * mm
    text("寄 " + label.sender, 8 if small else 9)
    text(f"订单 {label.order_number}", 8 if small else 9)
    text(f"重量 {label.weight_g / 1000:.2f} kg   {label.issued_at:%Y-%m-%d %H:%M}",
         8 if small else 9)

    # The QR code, bottom right.
    side = (22 if small else 28) * mm
    widget = qr.QrCodeWidget(label.qr_payload, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, width - margin - side, margin)


def _wrap(text: str, per_line: int) -> list[str]:
    return [text[i:i + per_line] for i in range(0, len(text), per_line)][:3] or [""]
