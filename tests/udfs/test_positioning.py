"""The position estimator (udfs/positioning.py) alone, on answers known from geometry:
reports made by its own path-loss model from a known point give that point back; walls,
silent probes and the fallback do what they say."""

from __future__ import annotations

import math
import random

import pytest

from footfall.geometry import zone_of
from udfs.positioning import Estimator, FloorPlan, Heard, Tracker, contains_many, locate

ESTIMATOR = Estimator()
#: The model's most likely point: reports without noise give the true point back exactly
#: (to the raster's step); the default mean of the likely points is near it but not on
#: it, as RSSI tells distances only roughly.
PEAK = Estimator(point="peak")
HALL = ("HALL", ((0.0, 0.0), (60.0, 0.0), (60.0, 60.0), (0.0, 60.0)))  # one room: no wall anywhere


def model_rssi(x: float, y: float, probe: tuple[float, float], p0: float = ESTIMATOR.p0_dbm, walls: int = 0) -> float:
    """What the estimator's own model says a probe hears from a phone at (x, y)."""
    distance = max(math.dist((x, y), probe), 1.0)
    return p0 - 10 * ESTIMATOR.exponent * math.log10(distance) - ESTIMATOR.wall_loss_db * walls


def heard_from(x: float, y: float, probes: list[tuple[float, float]], p0: float = ESTIMATOR.p0_dbm) -> list[Heard]:
    return [Heard(px, py, model_rssi(x, y, (px, py), p0)) for px, py in probes]


def test_three_probes_at_known_distances_give_the_known_point() -> None:
    plan = FloorPlan([HALL], estimator=PEAK)
    probes = [(10.0, 10.0), (50.0, 10.0), (30.0, 50.0)]
    for point in [(30.0, 23.0), (18.5, 31.5), (42.0, 14.0)]:
        x, y, zone = locate(plan, heard_from(*point, probes))
        assert math.dist((x, y), point) <= math.hypot(1, 1) * ESTIMATOR.step_m / 2, (point, (x, y))  # nearest point
        assert zone == "HALL"


def test_a_louder_phone_is_placed_like_a_quiet_one() -> None:
    """Its own level is solved for at each point: 6 dB more at every probe moves it little
    (the prior on phones' levels pulls a little)."""
    probes = [(10.0, 10.0), (50.0, 10.0), (30.0, 50.0), (50.0, 50.0)]
    plan = FloorPlan([HALL], probes, estimator=PEAK)  # its probes' expectations worked out once
    quiet = locate(plan, heard_from(25.0, 30.0, probes))
    loud = locate(plan, heard_from(25.0, 30.0, probes, p0=ESTIMATOR.p0_dbm + 6))
    assert math.dist(quiet[:2], (25.0, 30.0)) <= math.hypot(1, 1) * ESTIMATOR.step_m / 2
    assert math.dist(loud[:2], (25.0, 30.0)) < 3.0


def test_probes_that_stay_silent_rule_out_the_places_near_them() -> None:
    """One probe hears a device: alone it cannot tell the two sides of it apart. A silent
    probe on one side, near enough to have heard it above the threshold, puts the device
    on the other side."""
    plan_without = FloorPlan([HALL])
    plan_with = FloorPlan([HALL], probes=[(30.0, 30.0), (10.0, 30.0)])
    heard = [Heard(30.0, 30.0, model_rssi(45.0, 30.0, (30.0, 30.0)))]
    x_without, _, _ = locate(plan_without, heard, threshold_dbm=-85)
    x_with, _, _ = locate(plan_with, heard, threshold_dbm=-85)
    assert abs(x_without - 30.0) < 3.0  # symmetric about the probe: the mean is near it
    assert x_with > 35.0  # away from the silent probe at x = 10


def test_a_probe_in_a_shop_that_hears_clearly_puts_the_device_in_that_shop() -> None:
    shops = [("S1", ((0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0))),
             ("S2", ((20.0, 0.0), (40.0, 0.0), (40.0, 20.0), (20.0, 20.0)))]
    plan = FloorPlan(shops)
    in_s1, in_s2 = (10.0, 10.0), (30.0, 10.0)
    # From inside S2, near its wall with S1: S1's probe hears through two walls.
    phone = (22.0, 10.0)
    heard = [Heard(*in_s2, model_rssi(*phone, in_s2)), Heard(*in_s1, model_rssi(*phone, in_s1, walls=2))]
    assert locate(plan, heard)[2] == "S2"
    x, y, zone = locate(FloorPlan(shops, estimator=PEAK), heard)
    assert zone == "S2" == zone_of(x, y, shops)
    assert 20.0 < x < 25.0  # by S2's wall with S1


def test_a_position_is_on_the_plan_and_in_the_zone_it_is_given() -> None:
    shops = [("S1", ((0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0))),
             ("S2", ((40.0, 0.0), (60.0, 0.0), (60.0, 20.0), (40.0, 20.0)))]
    plan = FloorPlan(shops, probes=[(10.0, 10.0), (50.0, 10.0), (30.0, 10.0)])
    for rssis in [(-60, -60, -55), (-50, -80, -70), (-80, -50, -70), (-70, -70, -40)]:
        heard = [Heard(p[0], p[1], r) for p, r in zip(plan.probes, rssis, strict=True)]
        x, y, zone = locate(plan, heard, threshold_dbm=-85)
        assert 0 <= x <= 60 and 0 <= y <= 20
        assert zone_of(x, y, shops) == zone


def test_without_a_plan_near_the_probes_it_falls_back_to_the_weighted_centroid() -> None:
    heard = [Heard(0.0, 0.0, -50), Heard(20.0, 0.0, -60)]
    assert locate(FloorPlan([]), heard) == pytest.approx((20 / 11, 0.0, "corridor"))
    with pytest.raises(ValueError, match="at least one"):
        locate(FloorPlan([HALL]), [])


def test_the_raster_follows_concave_shops_and_the_first_shop_by_code_wins() -> None:
    l_shape = ((0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0), (10.0, 20.0), (0.0, 20.0))
    plan = FloorPlan([("B", l_shape), ("A", ((5.0, 0.0), (10.0, 0.0), (10.0, 5.0), (5.0, 5.0)))])
    for x, y, zone in zip(*plan.points(), strict=True):
        assert plan.zone_name(int(zone)) == zone_of(float(x), float(y), plan.shops)
    assert plan.zone_name(-1) == "corridor"
    import numpy as np

    inside = contains_many(l_shape, np.array([15.0, 5.0, 15.0]), np.array([5.0, 15.0, 15.0]))
    assert inside.tolist() == [True, True, False]  # the notch is outside


# --- smoothing over a device's recent seconds (Tracker; the job's is SmoothTrack.java) ---

ROOMY = 100.0  # a fix far from every wall: the filter's point is given as it is


def walk(seconds: range, x0: float, speed: float, noise: list[float] | None = None, zone: str = "corridor",
         room: float = ROOMY) -> list[tuple[int, float, float, str, float]]:
    """Fixes once a second of a device walking along y = 5 at `speed` m/s from x0 (plus
    noise on x, one value a fix)."""
    return [(t * 1000, x0 + speed * t + (noise[i] if noise else 0.0), 5.0, zone, room)
            for i, t in enumerate(seconds)]


def test_smoothing_keeps_a_still_device_still() -> None:
    assert Tracker().smooth(walk(range(20), 12.0, 0.0)) == [(12.0, 5.0)] * 20


def test_smoothing_averages_out_a_still_device_s_jitter() -> None:
    rng = random.Random(3)
    noise = [rng.gauss(0.0, 4.0) for _ in range(60)]
    points = Tracker().smooth(walk(range(60), 12.0, 0.0, noise))
    raw = sum(abs(n) for n in noise[20:]) / 40
    smoothed = sum(abs(x - 12.0) for x, _ in points[20:]) / 40
    assert smoothed < raw * 0.75
    assert all(y == 5.0 for _, y in points)


def test_smoothing_follows_a_device_that_walks() -> None:
    rng = random.Random(5)
    noise = [rng.gauss(0.0, 4.0) for _ in range(60)]
    points = Tracker().smooth(walk(range(60), 0.0, 1.2, noise))
    errors = [abs(x - 1.2 * t) for t, (x, _) in enumerate(points)]
    # Once its pace is learnt it is followed without lag, closer than the raw fixes.
    assert sum(errors[20:]) / 40 < sum(abs(n) for n in noise[20:]) / 40 * 0.75
    # Without noise: at most a second's walk behind while its pace is learnt, then on it.
    points = Tracker().smooth(walk(range(30), 0.0, 1.2))
    assert all(abs(x - 1.2 * t) < 1.2 for t, (x, _) in enumerate(points))
    assert all(abs(x - 1.2 * t) < 0.01 for t, (x, _) in enumerate(points) if t >= 20)


def test_a_track_starts_anew_on_a_new_zone_and_after_the_horizon() -> None:
    tracker = Tracker()
    fixes = [*walk(range(5), 10.0, 0.0), (5000, 20.0, 5.0, "S1", ROOMY), (6000, 21.0, 5.0, "S1", ROOMY),
             (6000 + int(tracker.horizon_s * 1000) + 1, 30.0, 5.0, "S1", ROOMY)]
    points = tracker.smooth(fixes)
    assert points[5] == (20.0, 5.0)  # a new zone: the fix as it is
    assert points[6][0] < 21.0  # the same zone a second later: smoothed towards the last
    assert points[7] == (30.0, 5.0)  # past the horizon: the fix as it is


def test_a_smoothed_point_stays_within_the_fix_s_room() -> None:
    fixes = [*walk(range(10), 10.0, 0.0), (10_000, 16.0, 5.0, "corridor", 0.5)]
    x, y = Tracker().smooth(fixes)[-1]
    assert math.dist((x, y), (16.0, 5.0)) == pytest.approx(0.5)
    assert x < 16.0  # pulled towards the track, only as far as the room allows


def test_room_is_the_distance_to_the_nearest_wall() -> None:
    plan = FloorPlan([("S1", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))),
                      ("S2", ((20.0, 0.0), (30.0, 0.0), (30.0, 10.0), (20.0, 10.0)))])
    assert plan.room(5.0, 5.0) == pytest.approx(5.0)  # the middle of a 10 m shop
    assert plan.room(15.0, 5.0) == pytest.approx(5.0)  # the corridor between two shops
    assert plan.room(10.0, 5.0) == pytest.approx(0.0)  # on a wall
    assert FloorPlan([]).room(1.0, 1.0) == 0.0
