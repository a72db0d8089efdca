"""What a monitor needs from the database at each scrape (the figures behind ``/metrics``).

The caller is the metrics scraper, which holds the metrics token (checked by the web layer),
not a person: there is no actor, and nothing personal is read — only counts and ages."""

from __future__ import annotations

from dingdan.store.ops import OpsFigures
from dingdan.store.uow import UnitOfWorkFactory


async def operational_figures(uows: UnitOfWorkFactory) -> tuple[OpsFigures, float]:
    """The figures, and the outbox lag in seconds (the oldest unpublished event's age)."""
    async with uows(read_only=True) as uow:
        now = uow.now()
        figures = await uow.ops.figures(now)
    lag = 0.0 if figures.outbox_oldest is None else (
        max(0.0, (now - figures.outbox_oldest).total_seconds()))
    return figures, lag
