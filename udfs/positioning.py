"""Where a device is, from the probes that heard it in one second (docs/design.md §4 item 9).

The estimator is a posterior over the mall's floor plan. The plan is rasterised once per
mall into points `step_m` apart over the shops' bounding box (the walkable mall: the
shops and the corridors between them), each with the zone it lies in. For a report
heard by probes i at RSSI r_i, each candidate point c (a square around the heard
probes' weighted centroid: `radius_m` beyond the farthest probe that heard the device
within `window_db` of the loudest) is scored with a log-distance path-loss model:

    expected r_i(c) = P0 - 10 * exponent * log10(max(d_ic, 1 m)) - wall_loss * walls_ic

where walls_ic counts the shop walls between c and probe i (one for each end inside a
shop, none when both are in the same place), and the phone's own transmit level P0 is
unknown: it is solved for at each point (least squares with a prior around
`p0_dbm`), so a loud phone and a quiet one are placed alike. The points' weights are
exp(-SSE / 2 shadowing^2); the zone is the one holding the most weight, and the position
is the weighted mean of that zone's points (or its most likely point: `point`), so a
device is never placed outside the plan or across a wall from the zone it is given.
Probes of the mall near the candidates that did not report the device (at or above the
threshold the job keeps reports from) count too: a point close to a silent probe is
unlikely.

Each fix also says how much room it has: its distance to the nearest wall (a shop's
edge, or the plan's outer edge), so smoothing over a device's recent seconds (`Tracker`,
the job's udfs/java SmoothTrack.java) can move it that far and no farther: the point
given stays in the fix's zone, on the plan.

The parameters are the estimator's own, chosen once for indoor malls in general, and
never the simulator's: the accuracy report judges them on several radio settings.
Plain typed functions over numpy arrays, unit tested alone. The job's estimator is their
Java twin, udfs/java FloorPlan.java (place_device), which takes its tuning from Estimator
and is tested against locate; this module is the reference the tests and the accuracy
report reason with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from footfall.geometry import CORRIDOR, EDGE_TOLERANCE, Point, weighted_centroid, zone_of

Floats = npt.NDArray[np.float64]
Shops = Sequence[tuple[str, Sequence[Point]]]


@dataclass(frozen=True)
class Estimator:
    """The estimator's tuning: textbook indoor values, not any simulation's."""

    #: Path-loss exponent (2 in free space; 2-3 in open indoor spaces).
    exponent: float = 2.5
    #: Loss through one shop wall, dB.
    wall_loss_db: float = 6.0
    #: A phone's level at 1 m (dBm) and how far phones differ from it (dB).
    p0_dbm: float = -45.0
    p0_sd_db: float = 8.0
    #: Spread of a report around the model (dB): how sharply the points are told apart.
    shadowing_db: float = 6.0
    #: Candidate points reach radius_m beyond the probes that heard the device within
    #: window_db of the loudest, step_m apart (2 m: 0.7 ms a device-second, against 3 ms
    #: at 1 m for the same accuracy on simulated malls).
    radius_m: float = 25.0
    window_db: float = 10.0
    step_m: float = 2.0
    #: The point given: "mean", the weighted mean of the zone's points (the smaller error
    #: on simulated malls), or "peak", its most likely point.
    point: Literal["mean", "peak"] = "mean"


def contains_many(polygon: Sequence[Point], x: Floats, y: Floats) -> npt.NDArray[np.bool_]:
    """Which of the points (x, y) the closed polygon contains: geometry.contains over
    arrays (crossing number; a point on an edge or a vertex is inside)."""
    inside = np.zeros(x.shape, dtype=bool)
    on_edge = np.zeros(x.shape, dtype=bool)
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
        length = max(abs(x2 - x1), abs(y2 - y1), EDGE_TOLERANCE)
        on_edge |= ((np.abs(cross) / length <= EDGE_TOLERANCE)
                    & (x >= min(x1, x2) - EDGE_TOLERANCE) & (x <= max(x1, x2) + EDGE_TOLERANCE)
                    & (y >= min(y1, y2) - EDGE_TOLERANCE) & (y <= max(y1, y2) + EDGE_TOLERANCE))
        if y1 != y2:
            inside ^= ((y1 <= y) != (y2 <= y)) & (x < x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    return (inside | on_edge) if n >= 3 else np.zeros(x.shape, dtype=bool)


class FloorPlan:
    """A mall's shops as a raster (`zone`: rows along y, columns along x; the index of
    the zone of each point in `zones`, -1 for the corridor), its probes, and what the
    estimator's model expects each probe to hear from each point, less the phone's level
    (`shapes`, worked out once per plan: locating a device then only reads it)."""

    def __init__(self, shops: Shops, probes: Sequence[Point] = (), estimator: Estimator = Estimator()) -> None:
        self.estimator = estimator
        self.shops = sorted(((code, tuple(polygon)) for code, polygon in shops), key=lambda shop: shop[0])
        self.zones = [code for code, _ in self.shops]
        #: Every probe of the mall: those that did not hear a device say where it was not.
        self.probes = [(float(x), float(y)) for x, y in probes]
        self.probe_index = {probe: i for i, probe in enumerate(self.probes)}
        self.probe_x = np.array([x for x, _ in self.probes])
        self.probe_y = np.array([y for _, y in self.probes])
        self.probe_zone = np.array([self.zone_index(x, y) for x, y in self.probes], dtype=np.int64)
        corners = [point for _, polygon in self.shops for point in polygon]
        step = estimator.step_m
        walls: list[tuple[Point, Point]] = []
        if corners:
            x0, y0 = min(p[0] for p in corners), min(p[1] for p in corners)
            x1, y1 = max(p[0] for p in corners), max(p[1] for p in corners)
            # Cell centres, so no point lies on a wall drawn on the grid's lines.
            self.gx, self.gy = np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step)
            outline = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
            for polygon in [outline, *(polygon for _, polygon in self.shops)]:
                walls += [(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]
        else:
            self.gx = self.gy = np.zeros(0)
        #: Every wall as a segment (ax, ay, bx, by): the shops' edges and the plan's outline.
        self.walls = np.array([(*a, *b) for a, b in walls], dtype=np.float64).reshape(-1, 4)
        xx, yy = np.meshgrid(self.gx, self.gy)
        self.zone = np.full(xx.shape, -1, dtype=np.int64)
        for index, (_, polygon) in reversed(list(enumerate(self.shops))):  # the first by code wins
            self.zone[contains_many(polygon, xx, yy)] = index
        self.shapes = np.stack([_shape(estimator, xx, yy, self.zone, px, py, int(pz))
                                for px, py, pz in zip(self.probe_x, self.probe_y, self.probe_zone, strict=True)]) \
            if self.probes else np.zeros((0, *xx.shape))

    def zone_index(self, x: float, y: float) -> int:
        """The zone of an exact point (a probe's place): geometry.zone_of's answer."""
        code = zone_of(x, y, self.shops)
        return -1 if code == CORRIDOR else self.zones.index(code)

    def room(self, x: float, y: float) -> float:
        """How far a point can move without crossing a wall: its distance to the nearest
        shop edge or to the plan's outline (0 without a plan)."""
        if not len(self.walls):
            return 0.0
        ax, ay, bx, by = self.walls.T
        dx, dy = bx - ax, by - ay
        along = np.clip(((x - ax) * dx + (y - ay) * dy) / np.maximum(dx * dx + dy * dy, EDGE_TOLERANCE), 0.0, 1.0)
        return float(np.hypot(ax + along * dx - x, ay + along * dy - y).min())

    def zone_name(self, index: int) -> str:
        return CORRIDOR if index < 0 else self.zones[index]

    def points(self) -> tuple[Floats, Floats, npt.NDArray[np.int64]]:
        """Every raster point: x, y and zone index, flat."""
        xx, yy = np.meshgrid(self.gx, self.gy)
        return xx.ravel(), yy.ravel(), self.zone.ravel()


@dataclass(frozen=True)
class Heard:
    """One probe's strongest report of the second: where the probe is and how loud."""

    x: float
    y: float
    rssi: float


def _shape(estimator: Estimator, x: Floats, y: Floats, zone: npt.NDArray[np.int64], px: float, py: float,
           pzone: int) -> Floats:
    """Expected RSSI minus P0 at a probe at (px, py) in zone `pzone`, of a phone at each point."""
    distance = np.maximum(np.hypot(x - px, y - py), 1.0)
    walls = (zone != pzone) * ((zone >= 0).astype(np.int64) + (pzone >= 0))
    shape: Floats = -10.0 * estimator.exponent * np.log10(distance) - estimator.wall_loss_db * walls
    return shape


def locate(plan: FloorPlan, heard: Sequence[Heard], threshold_dbm: float | None = None) -> tuple[float, float, str]:
    """(x, y, zone) of a device from the probes that heard it in one second, with the
    plan's estimator. Falls back to the weighted centroid and its zone when no point of
    the plan lies near the heard probes (a plan without shops)."""
    if not heard:
        raise ValueError("locate needs at least one probe's report")
    estimator = plan.estimator
    # A square around the heard probes' weighted centroid (not around one probe, which
    # would cut the likely points short on one side), radius_m beyond the farthest of the
    # probes that heard it loudly (within window_db of the loudest).
    centre = weighted_centroid((h.x, h.y, round(h.rssi)) for h in heard)
    assert centre is not None
    loudest = max(h.rssi for h in heard)
    reach = estimator.radius_m + max(math.dist(centre, (h.x, h.y)) for h in heard
                                     if h.rssi >= loudest - estimator.window_db)
    columns = slice(*np.searchsorted(plan.gx, [centre[0] - reach, centre[0] + reach]))
    rows = slice(*np.searchsorted(plan.gy, [centre[1] - reach, centre[1] + reach]))
    czone = plan.zone[rows, columns]
    if czone.size == 0:
        return centre[0], centre[1], zone_of(centre[0], centre[1], plan.shops)
    cx, cy = np.meshgrid(plan.gx[columns], plan.gy[rows])

    def shapes(probes: Sequence[Point]) -> Floats:
        """The model's expectations (less P0) at these probes over the window, one row each."""
        out = np.empty((len(probes), czone.size))
        for row, (px, py) in enumerate(probes):
            i = plan.probe_index.get((px, py))
            out[row] = (plan.shapes[i, rows, columns] if i is not None
                        else _shape(estimator, cx, cy, czone, px, py, plan.zone_index(px, py))).ravel()
        return out

    rssi = np.array([h.rssi for h in heard], dtype=np.float64)
    residual = rssi[:, None] - shapes([(h.x, h.y) for h in heard])  # = P0 + noise at the right point
    # The phone's level at each point: least squares over the reports and the prior.
    var, prior_var = estimator.shadowing_db**2, estimator.p0_sd_db**2
    p0 = (residual.sum(axis=0) / var + estimator.p0_dbm / prior_var) / (len(heard) / var + 1.0 / prior_var)
    cost = ((residual - p0) ** 2).sum(axis=0) / var + (p0 - estimator.p0_dbm) ** 2 / prior_var
    if threshold_dbm is not None and plan.probes:
        # A probe near the window that did not report the device at or above the
        # threshold makes the points near it less likely: log P(report < threshold), the
        # normal CDF approximated by a logistic (1.702 z) to stay vectorised.
        heard_at = {(h.x, h.y) for h in heard}
        close = np.hypot(plan.probe_x - centre[0], plan.probe_y - centre[1]) <= reach
        silent = [probe for probe, near in zip(plan.probes, close, strict=True) if near and probe not in heard_at]
        if silent:
            z = (threshold_dbm - p0 - shapes(silent)) / estimator.shadowing_db
            cost += 2.0 * np.logaddexp(0.0, -1.702 * z).sum(axis=0)
    zones, xs, ys = czone.ravel(), cx.ravel(), cy.ravel()
    weight = np.exp(-(cost - cost.min()) / 2.0)
    mass = np.bincount(zones + 1, weights=weight)
    best = int(np.argmax(mass)) - 1
    chosen = zones == best
    w = weight[chosen]
    if estimator.point == "peak":
        peak = int(np.argmax(w))
        return float(xs[chosen][peak]), float(ys[chosen][peak]), plan.zone_name(best)
    return float((xs[chosen] * w).sum() / w.sum()), float((ys[chosen] * w).sum() / w.sum()), plan.zone_name(best)


#: One fix of a device: (at_ms, x, y, zone, room), room being FloorPlan.room of (x, y).
Fix = tuple[int, float, float, str, float]


@dataclass(frozen=True)
class Tracker:
    """Smoothing of one device's fixes over its recent seconds: a Kalman filter with a
    constant-velocity model, the same on both axes. The job's is udfs/java
    SmoothTrack.java (an OVER aggregate); this twin is what the tests compare it with.

    A track starts anew at a device's first fix, when its zone changes and after
    `horizon_s` without a fix. The point given is the filter's, pulled back to within the
    fix's room, so it stays in the fix's zone."""

    #: How far a fix is from the truth, typically (m): about the estimator's median error.
    sigma_m: float = 4.0
    #: How freely a device changes its velocity: white acceleration noise, m^2/s^3.
    accel: float = 0.5
    #: Fixes further apart than this say nothing of each other (s).
    horizon_s: float = 30.0
    #: How fast a device first seen may be moving, squared ((m/s)^2): about a walking pace.
    start_speed_var: float = 2.25

    def smooth(self, fixes: Iterable[Fix]) -> list[Point]:
        """The point given for each of one device's fixes, in time order."""
        out: list[Point] = []
        r = self.sigma_m ** 2
        last_ms, zone = None, None
        x = y = vx = vy = pp = pv = vv = 0.0
        for at_ms, fx, fy, fzone, room in fixes:
            if last_ms is None or not 0 <= at_ms - last_ms <= self.horizon_s * 1000 or fzone != zone:
                x, y, vx, vy, pp, pv, vv = fx, fy, 0.0, 0.0, r, 0.0, self.start_speed_var
                last_ms, zone = at_ms, fzone
                out.append((fx, fy))
                continue
            dt = (at_ms - last_ms) / 1000.0
            pp, pv, vv = (pp + 2 * dt * pv + dt * dt * vv + self.accel * dt ** 3 / 3,
                          pv + dt * vv + self.accel * dt * dt / 2, vv + self.accel * dt)
            px, py = x + dt * vx, y + dt * vy
            kp, kv = pp / (pp + r), pv / (pp + r)
            x, y = px + kp * (fx - px), py + kp * (fy - py)
            vx, vy = vx + kv * (fx - px), vy + kv * (fy - py)
            vv, pv, pp = vv - kv * pv, (1 - kp) * pv, (1 - kp) * pp
            last_ms = at_ms
            off = math.hypot(x - fx, y - fy)
            keep = max(room, 0.0) / off if off > room else 1.0
            out.append((fx + (x - fx) * keep, fy + (y - fy) * keep))
        return out
