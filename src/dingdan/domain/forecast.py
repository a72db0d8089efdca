"""Daily demand forecasts that explain themselves. Pure: callers pass the history.

A handful of small methods a planner can check by hand, each scored on a holdout (the last
``horizon`` days, which the method does not see) against the naive baseline:

- ``naive``: tomorrow sells what today sold (the baseline every method is judged against);
- ``seasonal_naive``: the same weekday last week sold;
- ``moving_average``: the mean of the last 7 days;
- ``exponential_smoothing``: simple exponential smoothing, its α chosen on the training days
  by one-step-ahead squared error (from a fixed grid, so the choice can be re-done by hand);
- ``croston``: Croston's method with the Syntetos–Boylan correction, for slow movers whose
  days are mostly zero (intermittent demand).

The method with the lowest holdout error (mean absolute error, which ranks methods exactly
as WAPE does; ties go to the simpler method) is refitted on
the whole history and makes the forecast. MASE scales the error by the in-sample one-step
naive error: below 1 beats the naive method on the history's own terms.
(statsmodels/statsforecast are not in the lock; these are a dozen lines each.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

Forecaster = Callable[[Sequence[float], int], list[float]]

ALPHAS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
SEASON = 7
MIN_HISTORY = 14  # days with a first sale at least this long ago, for a holdout to mean much


def daily_series(sales: Mapping[date, int], start: date, end: date) -> list[float]:
    """Units per day from ``start`` to ``end`` inclusive, zeros where nothing sold."""
    days = (end - start).days + 1
    return [float(sales.get(start + timedelta(days=i), 0)) for i in range(max(0, days))]


def naive(history: Sequence[float], horizon: int) -> list[float]:
    return [history[-1] if history else 0.0] * horizon


def seasonal_naive(history: Sequence[float], horizon: int) -> list[float]:
    if len(history) < SEASON:
        return naive(history, horizon)
    last = list(history[-SEASON:])
    return [last[i % SEASON] for i in range(horizon)]


def moving_average(history: Sequence[float], horizon: int, window: int = 7) -> list[float]:
    tail = list(history[-window:])
    return [sum(tail) / len(tail) if tail else 0.0] * horizon


def _ses_level(history: Sequence[float], alpha: float) -> tuple[float, float]:
    """The smoothed level after the history, and the one-step squared error along the way."""
    level = history[0]
    sse = 0.0
    for y in history[1:]:
        sse += (y - level) ** 2
        level = alpha * y + (1 - alpha) * level
    return level, sse


def best_alpha(history: Sequence[float]) -> float:
    return min(ALPHAS, key=lambda a: (_ses_level(history, a)[1], a))


def exponential_smoothing(history: Sequence[float], horizon: int) -> list[float]:
    if not history:
        return [0.0] * horizon
    level, _ = _ses_level(history, best_alpha(history))
    return [level] * horizon


def croston(history: Sequence[float], horizon: int, alpha: float = 0.1) -> list[float]:
    """Croston (SBA): smooth the non-zero sizes and the intervals between them apart."""
    size: float | None = None
    interval: float | None = None
    gap = 1
    for y in history:
        if y > 0:
            size = y if size is None else alpha * y + (1 - alpha) * size
            interval = gap if interval is None else alpha * gap + (1 - alpha) * interval
            gap = 1
        else:
            gap += 1
    if size is None or interval is None:
        return [0.0] * horizon
    return [(1 - alpha / 2) * size / interval] * horizon


METHODS: dict[str, Forecaster] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "moving_average": moving_average,
    "exponential_smoothing": exponential_smoothing,
    "croston": croston,
}


def wape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    """Weighted absolute percentage error: Σ|a − p| / Σa (None when nothing sold)."""
    total = sum(actual)
    if total == 0:
        return None
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / total


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / max(1, len(actual))


def mase(actual: Sequence[float], predicted: Sequence[float],
         training: Sequence[float]) -> float | None:
    """Mean absolute scaled error against the one-step naive error on the training days."""
    steps = [abs(b - a) for a, b in itertools.pairwise(training)]
    scale = sum(steps) / len(steps) if steps else 0.0
    if scale == 0:
        return None
    return mae(actual, predicted) / scale


@dataclass(frozen=True, slots=True)
class Score:
    method: str
    mae: float
    wape: float | None
    mase: float | None


@dataclass(frozen=True, slots=True)
class Forecast:
    method: str  # the method chosen (lowest holdout error)
    forecast: list[float]  # units per day for the next ``horizon`` days
    scores: list[Score]  # every method on the holdout, the chosen one first
    baseline: Score  # the naive method's, for comparison
    holdout: list[float]  # what actually sold on the holdout days
    reason: str = ""  # why there is no forecast ("no_history", "short_history"); else ""


def backtest(series: Sequence[float], horizon: int) -> Forecast:
    """Score every method on the last ``horizon`` days, pick the best, forecast onwards."""
    if not series or sum(series) == 0:
        empty = Score("naive", 0.0, None, None)
        return Forecast("", [], [], empty, [], "no_history")
    # Days before the first sale say nothing about demand (the product was not yet sold).
    series = series[next(i for i, v in enumerate(series) if v > 0):]
    if len(series) < MIN_HISTORY or len(series) <= horizon + 1:
        empty = Score("naive", 0.0, None, None)
        return Forecast("", [], [], empty, [], "short_history")
    training, holdout = list(series[:-horizon]), list(series[-horizon:])
    scores = []
    for name, method in METHODS.items():
        predicted = method(training, horizon)
        scores.append(Score(name, round(mae(holdout, predicted), 4),
                            _round(wape(holdout, predicted)),
                            _round(mase(holdout, predicted, training))))
    order = list(METHODS)
    scores.sort(key=lambda s: (s.mae, order.index(s.method)))
    chosen = scores[0].method
    baseline = next(s for s in scores if s.method == "naive")
    forecast = [round(v, 2) for v in METHODS[chosen](list(series), horizon)]
    return Forecast(chosen, forecast, scores, baseline, holdout)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)
