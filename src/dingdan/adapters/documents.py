"""Printable documents: HTML to PDF with WeasyPrint (Pango lays out the text; Chinese needs a
CJK font installed from Debian, ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``: scripts/setup).

A document never reaches out: every URL in it (an image, a stylesheet) is refused, so
rendering a document reads only what the caller passed.
"""

from __future__ import annotations

import logging
from typing import Any

# Fonts in the order Pango should try them; the first one installed renders the CJK text.
CJK_FONTS = '"WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", sans-serif'


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"documents fetch nothing ({url[:60]})")


def html_to_pdf(html: str, css: str = "") -> bytes:
    """The PDF of ``html`` styled with ``css`` (CPU-bound: callers run it in a thread)."""
    from weasyprint import CSS, HTML  # imported on first use: Pango loads with it

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per step

    stylesheets = [CSS(string=f"body {{ font-family: {CJK_FONTS}; }}\n{css}",
                       url_fetcher=_no_fetch)]
    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=stylesheets)
    return pdf
