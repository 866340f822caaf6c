"""People walk (simulators/paths.py, shoppers.py): a path never goes through a wall, its
paces are within their ranges, the truth's place at each probe request is the path's, a
buyer stands at the till when paying, and door entries are not people."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import pytest

from simulators import paths
from simulators.layout import default_layout
from simulators.shoppers import BROWSE_SPEED, WALK_SPEED, Behaviour
from simulators.truth import TruthFile
from tests.simulators.conftest import simulation

MALL = default_layout(1).malls[0]
SHOPS = {shop.shop_code: shop for shop in MALL.shops}


@pytest.fixture(scope="module")
def truth(tmp_path_factory) -> dict[str, list[dict]]:
    """Three hours of the default mall at its evening peak, its truth by record type."""
    path = tmp_path_factory.mktemp("paths") / "truth.jsonl"
    simulation(hours=3, start="2026-11-20T16:00", behaviour=Behaviour(visitors_per_day=2500),
               truth=TruthFile(path, 900))
    kinds: dict[str, list[dict]] = defaultdict(list)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        kinds[row["type"]].append(row)
    return kinds


def legs(trip: dict) -> list[tuple[list, list]]:
    """Consecutive waypoints (t, x, y, zone) of a trip's path: each pair one leg."""
    return list(zip(trip["path"], trip["path"][1:], strict=False))


def place(trip: dict, t: float) -> tuple[float, float, str]:
    """Where the path is at t: the leg holding t, read off in a straight line."""
    for (t0, x0, y0, zone), (t1, x1, y1, _) in legs(trip):
        if t0 <= t <= t1:
            f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
            return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, zone
    raise AssertionError(f"{t} is outside {trip['person']}'s path")


def in_corridor(x: float, y: float) -> bool:
    x0, y0, x1, y1 = MALL.corridor
    return x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 1e-6 <= y <= y1 + 1e-6


def test_a_path_never_goes_through_a_wall(truth) -> None:
    checked = 0
    for trip in truth["trip"]:
        for (_, x0, y0, zone), (_, x1, y1, _) in legs(trip):
            for i in range(11):  # along the leg: a straight line may not leave its zone
                x, y = x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10
                if zone in SHOPS:
                    assert SHOPS[zone].contains(x, y), (trip["person"], zone, x, y)
                elif zone == "corridor":
                    assert in_corridor(x, y), (trip["person"], x, y)
                else:
                    assert MALL.shop_at(x, y) is None and not (0 < x < MALL.width and 0 < y < MALL.depth)
                checked += 1
        # From one zone to another only through a door: a shop's, or an entrance's.
        for (_, _, _, a), (_, x, y, b) in legs(trip):
            if a != b:
                door = SHOPS[a].door if a in SHOPS else SHOPS[b].door if b in SHOPS else None
                entrances = [(e.x, e.y) for e in MALL.entrances]
                assert (x, y) == pytest.approx(door) if door else min(math.dist((x, y), e) for e in entrances) < 1e-6
    assert checked > 10_000


def test_paces_are_within_their_ranges(truth) -> None:
    corridor, shop_walks = [], []
    for trip in truth["trip"]:
        if trip["staff"]:
            continue
        for (t0, x0, y0, zone), (t1, x1, y1, _) in legs(trip):
            distance = math.dist((x0, y0), (x1, y1))
            if distance >= 1.0:  # (the truth keeps centimetres and milliseconds)
                (shop_walks if zone in SHOPS else corridor).append(distance / (t1 - t0))
    assert WALK_SPEED[0] * 0.98 <= min(corridor) and max(corridor) <= WALK_SPEED[1] * 1.02
    # Inside a shop at the browsing pace; a few walks out of a short stay after paying, faster.
    browsing = [v for v in shop_walks if BROWSE_SPEED[0] * 0.98 <= v <= BROWSE_SPEED[1] * 1.02]
    assert len(browsing) >= 0.95 * len(shop_walks) and max(shop_walks) <= WALK_SPEED[1] * 1.02


def test_the_truth_at_each_probe_request_is_where_the_path_is(truth) -> None:
    by_mac = {mac: trip for trip in truth["trip"] for mac in trip["macs"]}
    positions = [p for p in truth["position"] if p["mac"] in by_mac and p["zone"] != "outside"]
    assert len(positions) > 5000
    for p in positions:
        x, y, zone = place(by_mac[p["mac"]], p["t"])
        assert (p["x"], p["y"]) == pytest.approx((x, y), abs=0.02) and p["zone"] == zone
        shop = MALL.shop_at(p["x"], p["y"])
        assert (zone in SHOPS and SHOPS[zone].contains(p["x"], p["y"])) or (zone == "corridor" and (
            shop is None or math.dist((p["x"], p["y"]), shop.door) < 0.05))


def test_a_buyer_is_at_the_till_when_paying_and_stops_at_displays(truth) -> None:
    trips = {trip["person"]: trip for trip in truth["trip"]}
    sales = [s for s in truth["sale"] if s["amount_minor"] > 0 and s["person"] in trips]
    assert len(sales) > 100
    for sale in sales:
        x, y, zone = place(trips[sale["person"]], sale["t"])
        assert zone == sale["shop_code"] and (x, y) == pytest.approx(paths.till(SHOPS[zone]), abs=0.02)
    stops = [t1 - t0 for trip in trips.values() if not trip["staff"]
             for (t0, x0, y0, zone), (t1, x1, y1, _) in legs(trip) if zone in SHOPS and (x0, y0) == (x1, y1)]
    assert len(stops) > 1000 and sorted(stops)[len(stops) // 2] > 30  # people stand at displays


def test_door_entries_are_not_people(truth) -> None:
    (summary,) = truth["summary"]
    trips = truth["trip"]
    last_report = max(d["t"] for d in truth["door"])
    entries = sum((1 + t["companions"]) * sum(1 for p in t["passages"] if p[2] == "in" and p[0] <= last_report)
                  for t in trips)
    assert summary["entries"] == entries == sum(d["people_in"] for d in truth["door"])
    again = [t for t in trips if sum(1 for p in t["passages"] if p[2] == "in") > 1]
    groups = [t for t in trips if t["companions"]]
    assert again and groups and summary["entries"] > summary["people"] > len(trips)
    # Out for a break: out of the probes' range, so no position of the truth.
    for trip in again[:20]:
        away = [(t0, t1) for (t0, *_, zone), (t1, *_) in legs(trip) if zone == "outside"]
        heard = [p["t"] for p in truth["position"] if p["mac"] in trip["macs"]]
        assert away and not [t for t in heard for t0, t1 in away if t0 < t < t1]
    # The counters are each off by a few per cent, not more.
    assert summary["entries_counted"] != summary["entries"]
    assert summary["entries_counted"] == pytest.approx(summary["entries"], rel=0.05)
