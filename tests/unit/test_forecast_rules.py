"""Demand forecasts: each method by hand, the errors by hand, and the chosen method against
the naive baseline on series whose shape is known."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from dingdan.domain.forecast import (
    backtest,
    best_alpha,
    croston,
    daily_series,
    exponential_smoothing,
    mase,
    moving_average,
    naive,
    seasonal_naive,
    wape,
)


def test_the_series_fills_days_without_sales_with_zero() -> None:
    sales = {date(2026, 11, 1): 3, date(2026, 11, 3): 5}
    assert daily_series(sales, date(2026, 11, 1), date(2026, 11, 4)) == [3, 0, 5, 0]


def test_each_method_by_hand() -> None:
    week = [1.0, 2, 3, 4, 5, 6, 7]
    assert naive(week, 3) == [7, 7, 7]
    assert seasonal_naive([0.0, *week], 8) == [1, 2, 3, 4, 5, 6, 7, 1]
    assert moving_average(week, 2) == [4, 4]
    assert exponential_smoothing([5.0] * 10, 2) == [5, 5]
    # A size of 4 every 4th day: 1 unit a day on average, Croston-SBA a little under.
    assert croston([0.0, 0, 0, 4] * 6, 1) == [pytest.approx((1 - 0.05) * 4 / 4)]
    assert croston([0.0] * 5, 2) == [0, 0]


def test_alpha_follows_the_data() -> None:
    assert best_alpha([0.0, 10] * 10) <= 0.2  # noise: smooth hard
    assert best_alpha([float(i) for i in range(20)]) == 0.9  # a trend: follow it


def test_errors_by_hand() -> None:
    assert wape([2, 2], [1, 4]) == pytest.approx(3 / 4)
    assert wape([0, 0], [1, 1]) is None
    # Training steps |1-3|, |3-2| → scale 1.5; MAE on the holdout 1.5 → MASE 1.
    assert mase([2, 2], [1, 4], [1, 3, 2]) == pytest.approx((0.5 * (1 + 2)) / 1.5)


def test_a_weekly_series_is_forecast_better_than_the_naive_baseline() -> None:
    rng = random.Random(7)
    pattern = [20, 22, 25, 24, 30, 60, 55]  # weekend peak
    series = [float(pattern[d % 7] + rng.randint(-2, 2)) for d in range(70)]
    result = backtest(series, 14)
    assert result.method == "seasonal_naive"
    chosen = result.scores[0]
    assert result.baseline.method == "naive"
    assert chosen.mae < result.baseline.mae
    assert chosen.wape is not None and chosen.wape < 0.15
    assert chosen.mase is not None and chosen.mase < 1
    assert len(result.forecast) == 14
    assert result.forecast[:7] == pytest.approx(series[-7:], abs=0.01)


def test_a_flat_series_is_reported_honestly_even_when_nothing_beats_naive() -> None:
    result = backtest([3.0] * 30, 7)
    assert result.baseline.mae == 0.0 and result.scores[0].mae == 0.0
    assert result.method == "naive"  # ties go to the simplest
    assert result.forecast == [3.0] * 7


def test_no_history_is_an_explained_empty_forecast() -> None:
    assert backtest([0.0] * 30, 7).reason == "no_history"
    assert backtest([], 7).reason == "no_history"
    short = backtest([1.0, 2.0, 3.0], 7)
    assert short.reason == "short_history" and short.forecast == []
    # A product first sold ten days ago: the zeros before its launch are not history.
    launched = backtest([0.0] * 70 + [5.0] * 10, 7)
    assert launched.reason == "short_history"


def test_forecasts_are_finite_and_never_negative() -> None:
    rng = random.Random(3)
    for _ in range(50):
        series = [float(rng.choice([0, 0, 0, rng.randint(0, 50)])) for _ in range(40)]
        if sum(series) == 0:
            continue
        result = backtest(series, 7)
        assert all(math.isfinite(v) and v >= 0 for v in result.forecast)
