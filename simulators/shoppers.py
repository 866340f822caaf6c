"""Shoppers: when people arrive, where they go, how long they stay, which phone they carry.

Arrivals follow a daily curve (quiet morning, lunch and evening peaks) scaled by the
mall's size and its weekly pattern.
A visit walks the corridor from an entrance to a few shops, dwells minutes in each,
sometimes comes back to one, and leaves by an entrance; its path, inside the shops too,
is laid by simulators/paths.py. Some visits are a party with one probing phone between
them, and some go out for a while and come back. A share of visitors return on later days
with the same phone; a share of phones randomise their MAC and rotate it; a share carry
no phone that probes (door counters still count them); staff stay all day; street
passers-by walk past an entrance outside and never come in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from simulators import paths
from simulators.layout import Mall, Shop
from simulators.paths import CORRIDOR, OUTSIDE, Path, Point

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
#: A person's pace along the corridor and inside a shop, drawn once per trip (m/s; the
#: sources are in simulators/paths.py).
WALK_SPEED = (1.0, 1.4)
BROWSE_SPEED = (0.4, 0.8)
#: A stop at a display or shelf lasts this long at the least (s); a stay holds one
#: browsing point per this many seconds of its dwell on average.
MIN_STOP_S = 10.0
SECONDS_PER_DISPLAY = 150.0
MAX_DISPLAYS = 8
#: At the till, a buyer stands this long before the payment (s).
QUEUE_S = (20.0, 60.0)
#: Someone who goes out for a while (the car park, a smoke, lunch outside) is gone this
#: many minutes, and waits this far beyond the entrance's doors, out of the probes' range.
BREAK_MINUTES = (4.0, 45.0)
BREAK_DISTANCE_M = 150.0
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
    #: Visits that go out of the mall and come back the same day (door counts twice).
    reentry_share: float = 0.08
    #: Visits of a party: the person and 1-3 companions whose phones do not probe.
    group_share: float = 0.15
    #: Each entrance's counter counts every passage high or low by a factor of its own,
    #: drawn within this much of 1 (real counters miss people side by side, or count a
    #: pram twice).
    door_error: float = 0.04

    def __post_init__(self) -> None:
        for name in ("return_share", "randomized_share", "phoneless_share", "revisit_share", "reentry_share",
                     "group_share", "door_error"):
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


@dataclass(frozen=True)
class Stay:
    """One stay in a shop: from stepping through its door to stepping out."""

    start: float
    end: float
    shop: int


@dataclass(frozen=True)
class Passage:
    """A walk through an entrance's doors, in or out, by the whole party (door counters
    count each of its people)."""

    t: float
    entrance: int
    inward: bool


@dataclass
class Trip:
    person: Person
    mall_index: int
    arrive: float
    leave: float
    entrance_in: int
    entrance_out: int
    path: Path = field(default_factory=Path)
    stays: list[Stay] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    #: A street passer-by: walks past the front outside and never comes in (no door count).
    passing: bool = False
    #: The party: the person and this many companions without a phone that probes, who go
    #: where the person goes (door counters count them all).
    companions: int = 0
    #: The person's paces: along the corridor, and inside shops (m/s).
    pace: float = WALK_SPEED[0]
    browse_pace: float = BROWSE_SPEED[0]

    def finish(self) -> None:
        self.leave = self.path.end

    def where(self, t: float) -> tuple[float, float, int]:
        """Position and zone (a shop's index, paths.CORRIDOR or paths.OUTSIDE) at time t."""
        return self.path.where(t)

    def fronts_passed(self, mall: Mall) -> set[int]:
        """The shops whose door this trip walked past along the corridor (window shopping
        included: in or not, it went by)."""
        passed: set[int] = set()
        if self.passing:
            return passed
        for leg in self.path.legs:
            if leg.zone == CORRIDOR and leg.a != leg.b:
                x0, x1 = sorted((leg.a[0], leg.b[0]))
                passed.update(i for i, shop in enumerate(mall.shops) if x0 <= shop.door[0] <= x1)
        return passed


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
        #: People keep to a lane of their own, up to this far either side of the middle.
        self.lane_half_width = max((y1 - y0) / 2 - 1.5, 0.0)

    def closing(self, arrive: float) -> float:
        local = datetime.fromtimestamp(arrive, self.mall.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + self.mall.closing_hour * 3600

    def visit(self, person: Person, arrive: float, rng: np.random.Generator) -> Trip:
        """A visit's plan: the shops and how long each stay lasts, the walks between them
        along the corridor, and a break outside for some. The paths inside the shops are
        laid by `browse` once the tills have said who buys (the till is on the path)."""
        mall, behaviour = self.mall, self.behaviour
        n_shops = int(min(1 + rng.poisson(2.2), 8))
        picks = list(rng.choice(len(mall.shops), size=n_shops, replace=False, p=self.popularity))
        if n_shops >= 2 and rng.random() < behaviour.revisit_share:
            picks.append(picks[int(rng.integers(0, n_shops - 1))])  # back to an earlier shop
        entrance_in = int(rng.integers(0, len(mall.entrances)))
        entrance_out = int(rng.integers(0, len(mall.entrances)))
        companions = int(rng.integers(1, 4)) if rng.random() < behaviour.group_share else 0
        # A break outside after this many shops (None: none).
        break_after = int(rng.integers(1, len(picks) + 1)) if rng.random() < behaviour.reentry_share else None
        break_s = float(rng.uniform(*BREAK_MINUTES)) * 60
        trip = Trip(person, self.mall_index, arrive, arrive, entrance_in, entrance_out, companions=companions,
                    pace=float(rng.uniform(*WALK_SPEED)), browse_pace=float(rng.uniform(*BROWSE_SPEED)))
        lane = self.walk_y + float(rng.uniform(-1.0, 1.0)) * self.lane_half_width
        closing = self.closing(arrive)
        here = self._come_in(trip, arrive, entrance_in, lane)
        t = trip.path.end
        for n, shop_index in enumerate(picks):
            shop = mall.shops[shop_index]
            front = (shop.door[0], lane)
            t = trip.path.walk(t, here, front, trip.pace, CORRIDOR)
            if rng.random() < 0.15:  # a pause on a bench
                t = trip.path.stop(t, float(rng.uniform(60, 300)), front, CORRIDOR)
            median = CATEGORY_DWELL_MIN.get(shop.category, 8.0) * 60
            dwell = float(min(rng.lognormal(math.log(median), 0.5), 3600))
            if t + dwell > closing:
                break
            t = trip.path.walk(t, front, shop.door, trip.pace, CORRIDOR)
            # The stay's path is laid later (browse); its time is kept as a stop at the door.
            trip.stays.append(Stay(t, t + dwell, int(shop_index)))
            t = trip.path.stop(t, dwell, shop.door, int(shop_index))
            t = trip.path.walk(t, shop.door, front, trip.pace, CORRIDOR)
            here = front
            if break_after == n + 1 and t + break_s + 600 < closing:
                nearest = min(range(len(mall.entrances)), key=lambda i: abs(mall.entrances[i].x - here[0]))
                t = self._go_out(trip, t, here, nearest, lane)
                entrance = mall.entrances[nearest]
                t = trip.path.walk(t, (entrance.x, entrance.y), self._outside(nearest), trip.pace, OUTSIDE)
                t = trip.path.stop(t, break_s, self._outside(nearest), OUTSIDE)
                here = self._come_in(trip, t, nearest, lane)
                t = trip.path.end
        self._go_out(trip, t, here, entrance_out, lane)
        trip.finish()
        return trip

    def _outside(self, entrance_index: int) -> Point:
        """Where someone out for a break waits: BREAK_DISTANCE_M beyond the entrance."""
        entrance = self.mall.entrances[entrance_index]
        out_x, out_y = self._outwards(entrance_index)
        return entrance.x + out_x * BREAK_DISTANCE_M, entrance.y + out_y * BREAK_DISTANCE_M

    def _outwards(self, entrance_index: int) -> Point:
        """The unit vector from the middle of the mall through an entrance."""
        entrance = self.mall.entrances[entrance_index]
        out_x, out_y = entrance.x - self.mall.width / 2, entrance.y - self.mall.depth / 2
        norm = math.hypot(out_x, out_y) or 1.0
        return out_x / norm, out_y / norm

    def _come_in(self, trip: Trip, t: float, entrance_index: int, lane: float) -> Point:
        """From the entrance's doors (or from outside, after a break) to the corridor's lane."""
        entrance = self.mall.entrances[entrance_index]
        if trip.path.legs:  # back from a break
            t = trip.path.walk(t, self._outside(entrance_index), (entrance.x, entrance.y), trip.pace, OUTSIDE)
        trip.passages.append(Passage(t, entrance_index, True))
        here = (entrance.x, lane)
        if trip.path.walk(t, (entrance.x, entrance.y), here, trip.pace, CORRIDOR) == t:
            trip.path.stop(t, 1.0, here, CORRIDOR)  # an entrance on the lane itself: a moment at the door
        return here

    def _go_out(self, trip: Trip, t: float, here: Point, entrance_index: int, lane: float) -> float:
        """From `here` on the lane out through the entrance's doors; returns the time out."""
        entrance = self.mall.entrances[entrance_index]
        t = trip.path.walk(t, here, (entrance.x, lane), trip.pace, CORRIDOR)
        t = trip.path.walk(t, (entrance.x, lane), (entrance.x, entrance.y), trip.pace, CORRIDOR)
        trip.passages.append(Passage(t, entrance_index, False))
        return t

    def browse(self, trip: Trip, tills: list[float | None], rng: np.random.Generator) -> None:
        """Lay each stay's path inside its shop: in through the door, from display to
        display with a stop at each, to the till for a buyer (`tills`: the time each stay's
        purchase is paid, None if it buys nothing), out through the door. The stays' times
        stand; the paths fill them."""
        inside = {stay.start: self._stay_path(self.mall.shops[stay.shop], stay, paid, trip.browse_pace, rng)
                  for stay, paid in zip(trip.stays, tills, strict=True)}
        # Each stay's placeholder (a stop at the door for the stay's time) gives way to its path.
        trip.path = Path([piece for leg in trip.path.legs
                          for piece in (inside[leg.start] if leg.zone >= 0 else [leg])])

    @staticmethod
    def _stay_path(shop: Shop, stay: Stay, paid: float | None, browse: float, rng: np.random.Generator
                   ) -> list[paths.Leg]:
        """The legs of one stay: door, step in, displays (a stop at each), the till for a
        buyer (its stop takes in the payment at `paid`), step in, door; as many displays as
        the dwell has time for, at the person's browsing pace (faster only when a stay is
        too short for even the till)."""
        entry, counter = paths.step_in(shop), paths.till(shop)
        dwell = stay.end - stay.start
        wanted = int(min(1 + rng.poisson(dwell / SECONDS_PER_DISPLAY), MAX_DISPLAYS))
        displays = [paths.browsing_point(shop, rng) for _ in range(wanted)]
        shares = rng.dirichlet(np.ones(MAX_DISPLAYS + 1))  # always drawn: the next stay's draws stand
        queue = float(rng.uniform(*QUEUE_S))
        while True:
            stops = [*displays, counter] if paid is not None else displays or [entry]
            # (point, index of the stop made there or -1) from the door on.
            route: list[tuple[Point, int]] = [(shop.door, -1), (entry, -1)]
            for k, point in enumerate(stops):
                route += [(p, -1) for p in paths.route(shop, route[-1][0], point)[:-1]] + [(point, k)]
            out = [*paths.route(shop, route[-1][0], entry), shop.door]
            length_in = _length([p for p, _ in route])
            length_out = _length([route[-1][0], *out])
            fits = (length_in + length_out) / browse + MIN_STOP_S * len(stops) <= dwell
            in_time = paid is None or stay.start + length_in / browse + MIN_STOP_S * len(displays) <= paid
            if not displays or (fits and in_time):
                break
            displays.pop()
        leave = stay.end - length_out / browse
        if paid is not None:
            leave = max(leave, min(paid, stay.end))
        # At the last stop (the till for a buyer) by the payment, or by the walk out.
        latest = leave if paid is None else min(paid, leave)
        speed = browse
        if stay.start + length_in / speed > latest:
            speed = length_in / max(latest - stay.start, 1e-3)
        stopping = max(leave - stay.start - length_in / speed, 0.0)
        weights = shares[:len(stops)] / shares[:len(stops)].sum()
        seconds = [stopping * float(w) for w in weights]
        if paid is not None:
            at_till = min(stopping, leave - paid + queue)  # in the queue before paying
            if seconds[-1] < at_till:
                rest = sum(seconds[:-1])
                seconds = [v * (stopping - at_till) / rest if rest else 0.0 for v in seconds[:-1]] + [at_till]
        path = Path()
        t, here = stay.start, shop.door
        for point, k in route[1:]:
            t = path.walk(t, here, point, speed, stay.shop)
            here = point
            if k >= 0:
                t = path.stop(t, seconds[k], here, stay.shop)
        out_speed = length_out / max(stay.end - t, 1e-3)
        for point in out:
            t = path.walk(t, here, point, out_speed, stay.shop)
            here = point
        return path.legs

    def pass_by(self, person: Person, at: float, rng: np.random.Generator) -> Trip:
        """A street passer-by: walks past an entrance outside the mall, STREET_OFFSET_M
        beyond its doors, STREET_WALK_M either side of it, and never comes in."""
        mall = self.mall
        entrance_index = int(rng.integers(0, len(mall.entrances)))
        entrance = mall.entrances[entrance_index]
        # Outwards: from the middle of the mall through the entrance; the street runs across.
        out_x, out_y = self._outwards(entrance_index)
        along = (-out_y, out_x) if rng.random() < 0.5 else (out_y, -out_x)
        kerb = (entrance.x + out_x * STREET_OFFSET_M, entrance.y + out_y * STREET_OFFSET_M)
        a = (kerb[0] - along[0] * STREET_WALK_M, kerb[1] - along[1] * STREET_WALK_M)
        b = (kerb[0] + along[0] * STREET_WALK_M, kerb[1] + along[1] * STREET_WALK_M)
        trip = Trip(person, self.mall_index, at, at, entrance_index, entrance_index, passing=True,
                    pace=float(rng.uniform(*WALK_SPEED)))
        trip.path.walk(at, a, b, trip.pace, OUTSIDE)
        trip.finish()
        return trip

    def shift(self, person: Person, open_at: float, close_at: float, rng: np.random.Generator) -> Trip:
        """A member of staff: in their shop from opening to closing, moving between the
        till and the shop floor, a few minutes at each place."""
        shop_index = person.staff_shop or 0
        shop = self.mall.shops[shop_index]
        trip = Trip(person, self.mall_index, open_at, close_at, 0, 0, pace=WALK_SPEED[0],
                    browse_pace=BROWSE_SPEED[0])
        trip.passages.append(Passage(open_at, 0, True))
        here, t = paths.till(shop), open_at
        while t < close_at:
            t = trip.path.stop(t, min(float(rng.uniform(120, 900)), close_at - t), here, shop_index)
            if t >= close_at:
                break
            target = paths.till(shop) if rng.random() < 0.4 else paths.browsing_point(shop, rng)
            for point in paths.route(shop, here, target):
                t = trip.path.walk(t, here, point, trip.browse_pace, shop_index)
                here = point
        trip.stays.append(Stay(open_at, trip.path.end, shop_index))
        trip.passages.append(Passage(trip.path.end, 0, False))
        trip.finish()
        return trip


def _length(points: list[Point]) -> float:
    return sum(math.dist(a, b) for a, b in zip(points, points[1:], strict=False))
