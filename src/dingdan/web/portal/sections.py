"""The sections of the customer's page, in order: the extension point of the page.

Each section is a template under ``templates/portal/`` rendered with the page's context
(``page``: ``services.portal.StatusPage``; ``t``, ``lang``, ``csrf_token``). Another
capability adds its own part of the page by inserting a ``Section`` here — the carriers'
tracking events replace ``shipment``, returns and complaints go before ``help`` — and the
live refresh re-renders it with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dingdan.services.portal import StatusPage


def _always(page: StatusPage) -> bool:
    return True


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    shown: Callable[[StatusPage], bool] = _always


SECTIONS: list[Section] = [
    Section("progress", "portal/_progress.html"),
    Section("shipment", "portal/_shipment.html"),
    Section("lines", "portal/_lines.html"),
    Section("address", "portal/_address.html"),
    Section("rating", "portal/_rating.html",
            lambda page: page.rateable or page.rating is not None),
    Section("history", "portal/_history.html"),
    Section("cancel", "portal/_cancel.html", lambda page: page.cancellable),
    Section("help", "portal/_help.html"),
]


def sections_for(page: StatusPage) -> list[Section]:
    return [s for s in SECTIONS if s.shown(page)]
