"""Live positions (09_positions.sql) on bounded rows: the windows hand place_device() each
device's second and the Java estimator places it as its Python twin does (which is tested
alone on known answers: tests/udfs/test_positioning.py),
smooth_track() smooths a device's fixes as its Python twin does, and the whole equals the
plain-Python reference on random reports."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import numpy as np
import pytest

from jobs import sql
from jobs.metrics.job import position_values
from simulators.radio import MallRadio, RadioModel
from tests.jobs.conftest import SIMULATED_MALL, TEST_LAYOUT, TEST_PROBES
from tests.jobs.harness import Case, position_reports, run_cases
from tests.jobs.reference import DEFAULTS, ProbeEvent, positions
from udfs.positioning import FloorPlan, Heard, Tracker, locate

T0 = 1_795_000_000_000  # a whole second, in ms
PROBES = TEST_PROBES


def report(device: str, ap: str, rssi: int, at: int = T0, event_id: str | None = None,
           randomized: bool = False) -> ProbeEvent:
    return ProbeEvent(event_id or f"{device}-{ap}-{at}-{rssi}", "p1", None, None, "UTC", rssi, at, device,
                      randomized, ap)


PLAN = FloorPlan(TEST_LAYOUT["p1"], list(PROBES.values()))  # what place_device() reads for p1 here
#: Each test's reports, by the test's name: every case of the module runs through one plan.
CASES: dict[str, Case] = {}


def case(events: list[ProbeEvent]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Registers a test's reports (as 03_events.sql makes them of these events) under its name."""
    def register(test: Callable[..., None]) -> Callable[..., None]:
        CASES[test.__name__] = Case(reports=position_reports(events, PROBES))
        return test
    return register


@pytest.fixture(scope="module")
def outputs(module_table_env, tmp_path_factory) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return run_cases(module_table_env, tmp_path_factory.mktemp("cases"), CASES)


def placed(outputs: dict[str, dict], request: pytest.FixtureRequest) -> dict:
    """The positions of the test's reports."""
    return outputs[request.node.originalname]["positions"]


def at(heard: dict[str, int]) -> tuple[float, float, str]:
    """Where the estimator puts a device these probes heard at these levels."""
    return locate(PLAN, [Heard(*PROBES[ap], rssi) for ap, rssi in heard.items()], DEFAULTS.mall_min_rssi)


@case([report("d1", ap, -62, T0 + 100 * i) for i, ap in enumerate(("ap-a", "ap-b", "ap-c"))])
def test_a_device_is_placed_by_the_estimator_from_its_second_s_probes(outputs, request):
    got = placed(outputs, request)
    assert list(got) == [("p1", T0 // 1000, "d1")]
    x, y, zone = got[("p1", T0 // 1000, "d1")]
    assert (x, y, zone) == pytest.approx(at({"ap-a": -62, "ap-b": -62, "ap-c": -62}), abs=0.006)
    assert zone in {"S1", "S2", "corridor"} and 0 <= x <= 40 and 0 <= y <= 20  # on the plan


@case([
    report("d1", "ap-a", -70),
    report("d1", "ap-a", -50, T0 + 300),  # the strongest of ap-a: -50
    report("d1", "ap-a", -50, T0 + 300),  # a duplicate changes nothing
    report("d1", "ap-b", -60, T0 + 900),
    report("d1", "ap-c", -86, T0 + 950),  # below the mall threshold: not a report
])
def test_each_probe_counts_once_with_its_strongest_report(outputs, request):
    x, y, zone = placed(outputs, request)[("p1", T0 // 1000, "d1")]
    assert (x, y) == pytest.approx(at({"ap-a": -50, "ap-b": -60})[:2], abs=0.006)
    assert zone == at({"ap-a": -50, "ap-b": -60})[2] == "S1"  # loudest by ap-a, in S1's corner


@case([
    report("d1", "ap-a", -60, T0 + 999),
    report("d1", "ap-b", -60, T0 + 1000),
    report("d2", "ap-d", -55, T0 + 500),
    report("d2", "ap-b", -60, T0 - 1),
])
def test_every_second_is_placed_on_its_own_and_devices_apart(outputs, request):
    got = placed(outputs, request)
    want = {
        ("p1", T0 // 1000, "d1"): at({"ap-a": -60}),
        ("p1", T0 // 1000 + 1, "d1"): at({"ap-b": -60}),
        ("p1", T0 // 1000, "d2"): at({"ap-d": -55}),
        ("p1", T0 // 1000 - 1, "d2"): at({"ap-b": -60}),
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=0.006), key
    assert got[("p1", T0 // 1000, "d1")][2] == "S1" and got[("p1", T0 // 1000 + 1, "d1")][2] == "S2"


def random_reports() -> list[ProbeEvent]:
    rng = random.Random(7)
    aps = list(PROBES)
    events = [
        report(f"d{rng.randrange(6)}", rng.choice(aps), rng.randrange(-85, -40), T0 + rng.randrange(20_000),
               event_id=f"e{n}")
        for n in range(400)
    ]
    return sorted(events, key=lambda e: e.occur_ms)  # in order: no report is behind the position delay


@case(random_reports())
def test_positions_equal_the_reference_on_random_reports(outputs, request):
    got = placed(outputs, request)
    want = positions(random_reports(), PROBES, lambda mall: PLAN, delay_ms=2000)
    assert not want.uncertain
    assert got.keys() == want.certain.keys()
    for key, (x, y, zone) in want.certain.items():
        assert got[key][:2] == pytest.approx((x, y), abs=0.006), key
        assert got[key][2] == zone, key


SECONDS = """
CREATE TEMPORARY TABLE seconds_in (
    n INT, mall_id STRING, xs ARRAY<DOUBLE>, ys ARRAY<DOUBLE>, rssis ARRAY<INT>
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""


def test_the_java_estimator_places_as_its_python_twin_on_the_simulated_mall(table_env, tmp_path):
    """place_device (udfs/java FloorPlan.java) against udfs/positioning.py, a device-second at
    a time, on the simulator's mall: its shops (L-shaped ones too), walls and 84 probes,
    those that hear a phone and those that stay silent, as the simulator's radio hears."""
    mall = SIMULATED_MALL
    radio = MallRadio(mall, RadioModel())
    plan = FloorPlan([(shop.shop_code, shop.polygon) for shop in mall.shops], [(p.x, p.y) for p in mall.probes])
    rng = np.random.default_rng(5)
    rows = []
    for n in range(300):
        x, y = rng.uniform(0, mall.width), rng.uniform(0, mall.depth)
        shop = mall.shop_at(x, y)
        heard, rssi = radio.hear(x, y, mall.shops.index(shop) if shop else -1, rng)
        keep = rssi >= DEFAULTS.mall_min_rssi
        if keep.any():
            rows.append({"n": n, "mall_id": mall.mall_id, "xs": radio.x[heard][keep].tolist(),
                         "ys": radio.y[heard][keep].tolist(), "rssis": rssi[keep].tolist()})
    (tmp_path / "seconds.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    table_env.execute_sql(SECONDS.format(path=tmp_path / "seconds.json"))
    tuning = sql.literal(position_values()["estimator_tuning"])
    query = (f"SELECT n, p.x, p.y, p.zone, p.room FROM seconds_in AS s, LATERAL TABLE(place_device("
             f"s.mall_id, s.xs, s.ys, s.rssis, {DEFAULTS.mall_min_rssi}, {tuning})) AS p(x, y, zone, room)")
    with table_env.execute_sql(query).collect() as results:
        got = {n: (x, y, zone, room) for n, x, y, zone, room in results}
    assert len(rows) > 250 and got.keys() == {r["n"] for r in rows}
    zones = set()
    for r in rows:
        x, y, zone = locate(plan, [Heard(*h) for h in zip(r["xs"], r["ys"], r["rssis"], strict=True)],
                            DEFAULTS.mall_min_rssi)
        assert got[r["n"]] == pytest.approx((x, y, zone, plan.room(x, y)), abs=1e-9), r
        zones.add(zone)
    assert len(zones) > 20  # the corridor and many shops


FIXES = """
CREATE TEMPORARY TABLE fixes_in (
    device STRING, zone STRING, x DOUBLE, y DOUBLE, room DOUBLE, at_ms BIGINT,
    at_time AS TO_TIMESTAMP_LTZ(at_ms, 3),
    WATERMARK FOR at_time AS at_time - INTERVAL '1' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
SMOOTHED = """
SELECT device, at_ms, t.track.x, t.track.y FROM (
    SELECT device, at_ms, smooth_track(x, y, zone, room, at_ms, CAST({sigma_m} AS DOUBLE), CAST({accel} AS DOUBLE),
                                       CAST({horizon_ms} AS BIGINT)) OVER (
        PARTITION BY device ORDER BY at_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS track
    FROM fixes_in
) AS t
"""


def smooth_track(table_env, tmp_path, tracks: dict[str, list[tuple[int, float, float, str, float]]],
                 tracker: Tracker) -> dict[str, list[tuple[float, float]]]:  # type: ignore[no-untyped-def]
    """The Java smooth_track over each device's fixes, as the job calls it."""
    rows = [{"device": d, "at_ms": at, "x": x, "y": y, "zone": zone, "room": room}
            for d, fixes in tracks.items() for at, x, y, zone, room in fixes]
    (tmp_path / "fixes.json").write_text("".join(json.dumps(r) + "\n" for r in sorted(rows, key=lambda r: r["at_ms"])))
    table_env.execute_sql(FIXES.format(path=tmp_path / "fixes.json"))
    query = SMOOTHED.format(sigma_m=tracker.sigma_m, accel=tracker.accel, horizon_ms=round(tracker.horizon_s * 1000))
    got: dict[str, list[tuple[int, float, float]]] = {d: [] for d in tracks}
    with table_env.execute_sql(query).collect() as results:
        for device, at_ms, x, y in results:
            got[device].append((at_ms, x, y))
    return {d: [(x, y) for _, x, y in sorted(points)] for d, points in got.items()}


def test_smooth_track_keeps_a_still_device_still_and_equals_its_python_twin(table_env, tmp_path):
    tracker = Tracker()
    rng = random.Random(11)
    still = [(T0 + 1000 * s, 12.0, 4.0, "S1", 3.0) for s in range(15)]
    walker, x = [], 0.0
    for s in range(80):
        x += 1.2
        zone = "corridor" if s < 40 else "S2"  # a new zone: a new track
        at = T0 + 1000 * s + (60_000 if s >= 60 else 0)  # a minute's silence: a new track
        walker.append((at, x + rng.gauss(0.0, 4.0), 10.0 + rng.gauss(0.0, 4.0), zone, rng.uniform(0.0, 6.0)))
    got = smooth_track(table_env, tmp_path, {"still": still, "walker": walker}, tracker)
    assert got["still"] == [(12.0, 4.0)] * 15
    want = tracker.smooth(walker)
    assert len(got["walker"]) == len(want)
    for point, expected in zip(got["walker"], want, strict=True):
        assert point == pytest.approx(expected, abs=1e-9)
    assert got["walker"] != [(fx, fy) for _, fx, fy, _, _ in walker]  # it did smooth
