"""Plane geometry of the mall (docs/design.md §4 item 9): which shop a point is in, the one
definition the simulator's truth and the position estimator's Python twin use (the Java
estimator, udfs/java FloorPlan.java, is its twin with the same edge tolerance).

Plain typed functions over the mall's coordinates in metres. Shops may be concave
(L-shaped); a point on a shop's edge or vertex belongs to that shop, and a point on the
wall two shops share goes to the first by shop_code, so the answer never depends on the
order shops were loaded in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Point = tuple[float, float]
CORRIDOR = "corridor"
#: Metres: closer than this to an edge counts as on it (floating-point slack).
EDGE_TOLERANCE = 1e-6


def _on_segment(x: float, y: float, a: Point, b: Point) -> bool:
    (x1, y1), (x2, y2) = a, b
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    length = max(abs(x2 - x1), abs(y2 - y1), EDGE_TOLERANCE)
    if abs(cross) / length > EDGE_TOLERANCE:
        return False
    return (min(x1, x2) - EDGE_TOLERANCE <= x <= max(x1, x2) + EDGE_TOLERANCE
            and min(y1, y2) - EDGE_TOLERANCE <= y <= max(y1, y2) + EDGE_TOLERANCE)


def contains(polygon: Sequence[Point], x: float, y: float) -> bool:
    """Whether the closed polygon (edges and vertices included) contains (x, y).

    Crossing number: a ray to +x crosses the boundary an odd number of times from
    inside. Each edge counts over the half-open span [min y, max y), so a ray through a
    vertex is counted once, and the test holds for concave polygons."""
    n = len(polygon)
    if n < 3:
        return False
    inside = False
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _on_segment(x, y, a, b):
            return True
        (x1, y1), (x2, y2) = a, b
        if (y1 <= y) != (y2 <= y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def zone_of(x: float, y: float, shops: Iterable[tuple[str, Sequence[Point]]]) -> str:
    """The shop_code of the first shop (by code) whose polygon contains the point, else
    'corridor'."""
    for code, polygon in sorted(shops, key=lambda shop: shop[0]):
        if contains(polygon, x, y):
            return code
    return CORRIDOR


def weighted_centroid(reports: Iterable[tuple[float, float, int]]) -> Point | None:
    """The centroid of probe positions (x, y, rssi) weighted by received power,
    10^(rssi/10); None without reports. The reference for the job's SQL."""
    total = sx = sy = 0.0
    for x, y, rssi in reports:
        weight = 10 ** (rssi / 10)
        total += weight
        sx += weight * x
        sy += weight * y
    return (sx / total, sy / total) if total else None
