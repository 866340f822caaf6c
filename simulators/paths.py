"""Paths: where a simulated person is at every second, as straight walks and stops.

A path is a list of legs, each a walk at a steady pace from one point to another, or a
stop (the same point at both ends), in one zone: a shop (its index), the corridor, or
outside the mall. Walls are walls: a path goes into a shop only through its door (the
layout's `Shop.door`, on the shop's edge): from the corridor to the door, one step in, and
from there to points the step in can see in a straight line, so no leg crosses a wall,
L-shaped shops included.

The paces are the simulator's own, chosen from published pedestrian figures (docs/
simulator.md, "How people move"): free walking on the level about 1.34 m/s on average
(Weidmann 1993; Bosina & Weidmann 2017), slower among shops and in crowds (1.0-1.4 m/s
per person here); inside a shop people amble between displays at a fraction of that
(0.4-0.8 m/s) and stop at them for tens of seconds to minutes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from footfall import geometry
from simulators.layout import Mall, Shop, inward

Point = tuple[float, float]
#: A leg's zone: a shop's index in the mall, or one of these.
CORRIDOR = -1
OUTSIDE = -2
#: How far inside its door a shopper's first step takes them (m), and how far from a wall
#: a browsing point or the till keeps (m).
STEP_IN_M = 1.0
WALL_CLEARANCE_M = 0.6
#: The till stands this far beside the step in (m).
TILL_SIDE_M = 1.5


@dataclass(frozen=True)
class Leg:
    """From `a` at `start` to `b` at `end` at a steady pace, in one zone; a stop when a == b."""

    start: float
    end: float
    zone: int
    a: Point
    b: Point

    @property
    def speed(self) -> float:
        return math.dist(self.a, self.b) / max(self.end - self.start, 1e-9)

    def at(self, t: float) -> Point:
        f = min(max((t - self.start) / max(self.end - self.start, 1e-9), 0.0), 1.0)
        return self.a[0] + (self.b[0] - self.a[0]) * f, self.a[1] + (self.b[1] - self.a[1]) * f


class Path:
    """Legs in time order, each starting where and when the one before ended."""

    def __init__(self, legs: list[Leg] | None = None) -> None:
        self.legs: list[Leg] = []
        self._starts: list[float] = []
        for leg in legs or ():
            self._add(leg)

    @property
    def end(self) -> float:
        return self.legs[-1].end

    def walk(self, t: float, a: Point, b: Point, pace: float, zone: int) -> float:
        """Walk from a to b at `pace` from t; returns the time of arrival."""
        seconds = math.dist(a, b) / pace
        if seconds > 0:
            self._add(Leg(t, t + seconds, zone, a, b))
        return t + seconds

    def stop(self, t: float, seconds: float, at: Point, zone: int) -> float:
        if seconds > 0:
            self._add(Leg(t, t + seconds, zone, at, at))
        return t + seconds

    def _add(self, leg: Leg) -> None:
        self.legs.append(leg)
        self._starts.append(leg.start)

    def where(self, t: float) -> tuple[float, float, int]:
        """Position and zone at time t (the first place before the path starts, the last
        after it ends)."""
        i = max(0, bisect.bisect_right(self._starts, t) - 1)
        leg = self.legs[i]
        return (*leg.at(t), leg.zone)

    def waypoints(self) -> list[tuple[float, float, float, int]]:
        """(t, x, y, zone) at every leg's start, and the end: the path whole, for the truth."""
        points = [(leg.start, *leg.a, leg.zone) for leg in self.legs]
        last = self.legs[-1]
        return [*points, (last.end, *last.b, last.zone)]


def zone_name(mall: Mall, zone: int) -> str:
    """A leg's zone by name: the shop's code, 'corridor' or 'outside'."""
    return mall.shops[zone].shop_code if zone >= 0 else geometry.CORRIDOR if zone == CORRIDOR else "outside"


def visible(shop: Shop, a: Point, b: Point, step_m: float = 0.25) -> bool:
    """Whether the straight line from a to b stays inside the shop (sampled every step_m)."""
    n = max(1, int(math.dist(a, b) / step_m))
    return all(shop.contains(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1))


def step_in(shop: Shop) -> Point:
    """The point STEP_IN_M inside the door, straight in from the wall the door is on."""
    x, y = shop.door
    direction = inward(shop, STEP_IN_M)
    if direction is not None:
        return x + direction[0] * STEP_IN_M, y + direction[1] * STEP_IN_M
    x0, y0, x1, y1 = shop.bbox  # a door not on an axis-parallel wall: towards the middle
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    d = math.dist((x, y), (cx, cy)) or 1.0
    return x + (cx - x) / d * STEP_IN_M, y + (cy - y) / d * STEP_IN_M


def till(shop: Shop) -> Point:
    """Where the shop's till stands: beside the step in, along the door's wall."""
    sx, sy = step_in(shop)
    dx, dy = sx - shop.door[0], sy - shop.door[1]
    for side in (1.0, -1.0):
        point = (sx - dy * side * TILL_SIDE_M, sy + dx * side * TILL_SIDE_M)
        if shop.contains(*point) and visible(shop, (sx, sy), point):
            return point
    return sx, sy


def browsing_point(shop: Shop, rng: np.random.Generator) -> Point:
    """A point of the shop WALL_CLEARANCE_M from its bounding walls that the step in sees
    (drawn uniformly; the step in itself if none is found)."""
    x0, y0, x1, y1 = shop.bbox
    entry = step_in(shop)
    c = WALL_CLEARANCE_M
    for _ in range(30):
        point = float(rng.uniform(x0 + c, x1 - c)), float(rng.uniform(y0 + c, y1 - c))
        if shop.contains(*point) and visible(shop, entry, point):
            return point
    return entry


def route(shop: Shop, a: Point, b: Point) -> list[Point]:
    """The points to walk through from a to b inside the shop: straight if it can, else by
    way of the step in (which sees every point a path goes to)."""
    return [b] if visible(shop, a, b) else [step_in(shop), b]
