"""Summary statistics of a handful of timings: median and spread, and ratios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, median, min, max, quartiles (inclusive method) and IQR of VALUES.

    With no values every figure is None; with one value the quartiles are that value.
    """
    data = sorted(float(v) for v in values)
    if not data:
        return {"n": 0, "median": None, "min": None, "max": None, "q1": None, "q3": None,
                "iqr": None}  # fmt: skip
    if len(data) == 1:
        q1 = q3 = data[0]
    else:
        q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
    return {
        "n": len(data),
        "median": statistics.median(data),
        "min": data[0],
        "max": data[-1],
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """NUMERATOR / DENOMINATOR, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def median_of(values: Sequence[float]) -> float | None:
    return summary(values)["median"]  # type: ignore[return-value]
