"""Shoppers: when people arrive, where they go, how long they stay, which phone they carry.

Arrivals follow a daily curve (quiet morning, lunch and evening peaks) scaled by the
mall's size and its weekly pattern.
A visit walks the corridor from an entrance to a few shops, dwells minutes in each,
sometimes comes back to one, and leaves by an entrance. A share of visitors return on
later days with the same phone; a share of phones randomise their MAC and rotate it; a
share carry no phone that probes (door counters still count them); staff stay all day;
street passers-by walk past an entrance outside and never come in.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from simulators.layout import Mall, Shop

#: Relative arrival intensity by local clock hour (0 outside opening hours).
HOURLY_CURVE = {
    9: 0.35,
    10: 0.6,
    11: 0.9,
    12: 1.45,
    13: 1.35,
    14: 0.9,
    15: 0.8,
    16: 0.95,
    17: 1.25,
    18: 1.5,
    19: 1.3,
    20: 0.8,
    21: 0.4,
}
WALK_SPEED = 1.2  # m/s
#: A street passer-by walks this far outside the entrance's doors, and this far either side.
STREET_OFFSET_M = 6.0
STREET_WALK_M = 40.0
CATEGORY_DWELL_MIN = {"Food": 18.0, "Services": 5.0}  # median dwell, minutes; others 8


@dataclass(frozen=True)
class Behaviour:
    visitors_per_day: int = 4000  # per mall, on a weekday
    return_share: float = 0.3  # of a day's visitors, already seen on an earlier day
    randomized_share: float = 0.25  # phones with a randomised, rotating MAC
    rotation_minutes: float = 15.0  # how often a randomised MAC changes
    phoneless_share: float = 0.15  # visitors whose phone never probes
    revisit_share: float = 0.2  # visits that come back to a shop seen earlier that day
    staff_per_mall: int = 6
    probe_interval: tuple[float, float] = (20.0, 120.0)  # seconds between probe requests
    #: People walking past the mall's front outside, never coming in, per visitor: heard by
    #: the probes near an entrance for a moment (passers-by, docs/design.md §4 item 1).
    street_passers_per_visitor: float = 0.6

    def __post_init__(self) -> None:
        for name in ("return_share", "randomized_share", "phoneless_share", "revisit_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name.replace('_', '-')} must be between 0 and 1, got {value}")
        low, high = self.probe_interval
        if not 0 < low <= high:
            raise ValueError(f"probe interval {low}-{high} s is not a range of positive seconds")
        if self.visitors_per_day < 0 or self.staff_per_mall < 0 or self.street_passers_per_visitor < 0:
            raise ValueError("visitors per day, staff and street passers must be >= 0")


@dataclass
class Person:
    person_id: str
    randomized: bool
    phoneless: bool
    mac_style: int  # 0: aa:bb:.., 1: AA-BB-.., 2: AA:BB:..
    base_mac: int
    interval: float
    staff_shop: int | None = None

    def mac_at(self, seconds: float, rotation: float) -> str:
        """The MAC the phone uses at epoch `seconds` (randomised ones rotate)."""
        value = self.base_mac
        if self.randomized:
            epoch = int(seconds // rotation)
            value = (self.base_mac * 0x9E3779B1 + epoch * 0x85EBCA77) & 0xFFFFFFFFFFFF
            value = (value & ~(0x01 << 40)) | (0x02 << 40)  # unicast, locally administered
        else:
            value = (value & ~(0x03 << 40)) & 0xFFFFFFFFFFFF  # globally unique, unicast
        raw = f"{value:012x}"
        octets = [raw[i : i + 2] for i in range(0, 12, 2)]
        if self.mac_style == 1:
            return "-".join(octets).upper()
        if self.mac_style == 2:
            return ":".join(octets).upper()
        return ":".join(octets)


@dataclass
class Leg:
    start: float
    end: float
    shop: int  # -1 in the corridor
    a: tuple[float, float]
    b: tuple[float, float]  # equal to `a` while staying


@dataclass
class Trip:
    person: Person
    mall_index: int
    arrive: float
    leave: float
    entrance_in: int
    entrance_out: int
    legs: list[Leg] = field(default_factory=list)
    #: A street passer-by: walks past the front outside and never comes in (no door count).
    passing: bool = False
    _starts: list[float] = field(default_factory=list)

    def finish(self) -> None:
        self._starts = [leg.start for leg in self.legs]
        self.leave = self.legs[-1].end

    def where(self, t: float, rng: np.random.Generator, mall: Mall) -> tuple[float, float, int]:
        """Position and shop index (-1 corridor) at time t."""
        i = max(0, bisect.bisect_right(self._starts, t) - 1)
        leg = self.legs[i]
        if leg.shop >= 0:
            return (*random_point_in(mall.shops[leg.shop], rng), leg.shop)
        span = max(leg.end - leg.start, 1e-9)
        f = min(max((t - leg.start) / span, 0.0), 1.0)
        return leg.a[0] + (leg.b[0] - leg.a[0]) * f, leg.a[1] + (leg.b[1] - leg.a[1]) * f, -1

    def stays(self) -> list[Leg]:
        return [leg for leg in self.legs if leg.shop >= 0]

    def fronts_passed(self, mall: Mall) -> set[int]:
        """The shops whose door this trip walked past along the corridor (window shopping
        included: in or not, it went by)."""
        passed: set[int] = set()
        for leg in self.legs:
            if leg.shop < 0 and leg.a != leg.b and not self.passing:
                x0, x1 = sorted((leg.a[0], leg.b[0]))
                passed.update(i for i, shop in enumerate(mall.shops) if x0 <= shop.door[0] <= x1)
        return passed


def random_point_in(shop: Shop, rng: np.random.Generator) -> tuple[float, float]:
    x0, y0, x1, y1 = shop.bbox
    for _ in range(50):
        x, y = rng.uniform(x0 + 0.5, x1 - 0.5), rng.uniform(y0 + 0.5, y1 - 0.5)
        if shop.contains(x, y):
            return float(x), float(y)
    return shop.door[0], shop.door[1] + (0.5 if shop.door[1] <= y0 else -0.5)


def arrival_times(
    mall: Mall, day: datetime, behaviour: Behaviour, share: float, rng: np.random.Generator
) -> list[float]:
    """Sorted arrival epochs on one local day (a non-homogeneous Poisson process)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=mall.zone)
    uplift = mall.traffic * mall.weekly[midnight.weekday()]
    hours = [h for h in HOURLY_CURVE if mall.opening_hour <= h < mall.closing_hour]
    total = sum(HOURLY_CURVE[h] for h in hours) or 1.0
    times: list[float] = []
    for hour in hours:
        expected = behaviour.visitors_per_day * share * uplift * HOURLY_CURVE[hour] / total
        start = (midnight + timedelta(hours=hour)).timestamp()  # correct across DST changes
        times.extend(start + rng.uniform(0, 3600, rng.poisson(expected)))
    return sorted(times)


class Itineraries:
    """Builds trips through one mall: shop choice by popularity, dwell by category."""

    def __init__(self, mall: Mall, mall_index: int, behaviour: Behaviour, rng: np.random.Generator) -> None:
        self.mall = mall
        self.mall_index = mall_index
        self.behaviour = behaviour
        # Zipf-like popularity, shuffled per mall so the top shops differ between malls.
        ranks = rng.permutation(len(mall.shops)) + 1
        weights = 1.0 / ranks**0.8
        self.popularity = weights / weights.sum()
        x0, y0, x1, y1 = mall.corridor
        self.walk_y = (y0 + y1) / 2

    def closing(self, arrive: float) -> float:
        local = datetime.fromtimestamp(arrive, self.mall.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + self.mall.closing_hour * 3600

    def visit(self, person: Person, arrive: float, rng: np.random.Generator) -> Trip:
        mall = self.mall
        n_shops = int(min(1 + rng.poisson(2.2), 8))
        picks = list(rng.choice(len(mall.shops), size=n_shops, replace=False, p=self.popularity))
        if n_shops >= 2 and rng.random() < self.behaviour.revisit_share:
            picks.append(picks[int(rng.integers(0, n_shops - 1))])  # back to an earlier shop
        entrance_in = int(rng.integers(0, len(mall.entrances)))
        entrance_out = int(rng.integers(0, len(mall.entrances)))
        trip = Trip(person, self.mall_index, arrive, arrive, entrance_in, entrance_out)
        closing = self.closing(arrive)
        t = arrive
        entrance = mall.entrances[entrance_in]
        here = (entrance.x, self.walk_y)
        t = self._walk(trip, t, (entrance.x, entrance.y), here)
        for shop_index in picks:
            shop = mall.shops[shop_index]
            front = (shop.door[0], self.walk_y)
            t = self._walk(trip, t, here, front)
            if rng.random() < 0.15:  # a pause on a bench
                pause = float(rng.uniform(60, 300))
                trip.legs.append(Leg(t, t + pause, -1, front, front))
                t += pause
            median = CATEGORY_DWELL_MIN.get(shop.category, 8.0) * 60
            dwell = float(min(rng.lognormal(math.log(median), 0.5), 3600))
            if t + dwell > closing:
                break
            trip.legs.append(Leg(t, t + dwell, int(shop_index), shop.door, shop.door))
            t += dwell
            here = front
        exit_ = mall.entrances[entrance_out]
        t = self._walk(trip, t, here, (exit_.x, self.walk_y))
        self._walk(trip, t, (exit_.x, self.walk_y), (exit_.x, exit_.y))
        trip.finish()
        return trip

    def pass_by(self, person: Person, at: float, rng: np.random.Generator) -> Trip:
        """A street passer-by: walks past an entrance outside the mall, STREET_OFFSET_M
        beyond its doors, STREET_WALK_M either side of it, and never comes in."""
        mall = self.mall
        entrance_index = int(rng.integers(0, len(mall.entrances)))
        entrance = mall.entrances[entrance_index]
        # Outwards: from the middle of the mall through the entrance; the street runs across.
        out_x, out_y = entrance.x - mall.width / 2, entrance.y - mall.depth / 2
        norm = math.hypot(out_x, out_y) or 1.0
        out_x, out_y = out_x / norm, out_y / norm
        along = (-out_y, out_x) if rng.random() < 0.5 else (out_y, -out_x)
        kerb = (entrance.x + out_x * STREET_OFFSET_M, entrance.y + out_y * STREET_OFFSET_M)
        a = (kerb[0] - along[0] * STREET_WALK_M, kerb[1] - along[1] * STREET_WALK_M)
        b = (kerb[0] + along[0] * STREET_WALK_M, kerb[1] + along[1] * STREET_WALK_M)
        trip = Trip(person, self.mall_index, at, at, entrance_index, entrance_index, passing=True)
        self._walk(trip, at, a, b)
        trip.finish()
        return trip

    def shift(self, person: Person, open_at: float, close_at: float) -> Trip:
        """A member of staff: in their shop from opening to closing."""
        shop = self.mall.shops[person.staff_shop or 0]
        trip = Trip(person, self.mall_index, open_at, close_at, 0, 0)
        trip.legs.append(Leg(open_at, close_at, person.staff_shop or 0, shop.door, shop.door))
        trip.finish()
        return trip

    @staticmethod
    def _walk(trip: Trip, t: float, a: tuple[float, float], b: tuple[float, float]) -> float:
        seconds = math.hypot(b[0] - a[0], b[1] - a[1]) / WALK_SPEED
        if seconds > 0:
            trip.legs.append(Leg(t, t + seconds, -1, a, b))
        return t + seconds
