"""The one way the benchmarks read a distribution."""

from __future__ import annotations


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank `q` quantile (0..1) of values sorted ascending."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
