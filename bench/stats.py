"""The one way the benchmarks read a distribution, and score a figure against a truth."""

from __future__ import annotations

from typing import Any


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank `q` quantile (0..1) of values sorted ascending."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def error(got: float | None, truth: float) -> float | None:
    """(got - truth) / truth, to four places; None without a figure or a truth."""
    return None if got is None or not truth else round((got - truth) / truth, 4)


def mean_abs_error(got: dict[Any, float], truth: dict[Any, int]) -> float:
    """The mean of |got - truth| / truth over the keys with a truth above zero (0 for none)."""
    keys = [k for k in truth if truth[k]]
    return round(sum(abs(got.get(k, 0) - truth[k]) / truth[k] for k in keys) / max(1, len(keys)), 4)
