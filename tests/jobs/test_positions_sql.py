"""Live positions (05_positions.sql) on bounded rows: known answers, and the plain-Python
reference on random reports."""

from __future__ import annotations

import math
import random

import pytest

from tests.jobs.conftest import TEST_LAYOUT
from tests.jobs.harness import position_reports, run_metrics
from tests.jobs.reference import ProbeEvent, positions
from udfs.geometry import zone_of

T0 = 1_795_000_000_000  # a whole second, in ms
PROBES = {"ap-a": (0.0, 0.0), "ap-b": (20.0, 0.0), "ap-c": (10.0, 10 * math.sqrt(3)), "ap-d": (35.0, 15.0)}


def report(device: str, ap: str, rssi: int, at: int = T0, event_id: str | None = None,
           randomized: bool = False) -> ProbeEvent:
    return ProbeEvent(event_id or f"{device}-{ap}-{at}-{rssi}", "m1", None, None, "UTC", rssi, at, device,
                      randomized, ap)


def placed(table_env, tmp_path, events: list[ProbeEvent]) -> dict:  # type: ignore[no-untyped-def]
    return run_metrics(table_env, tmp_path, [], [], reports=position_reports(events, PROBES))["positions"]


def test_a_device_equidistant_from_three_probes_lands_on_their_centroid(table_env, tmp_path):
    got = placed(
        table_env, tmp_path, [report("d1", ap, -62, T0 + 100 * i) for i, ap in enumerate(("ap-a", "ap-b", "ap-c"))]
    )
    assert list(got) == [("m1", T0 // 1000, "d1")]
    x, y, zone = got[("m1", T0 // 1000, "d1")]
    assert (x, y) == pytest.approx((10.0, 10 / math.sqrt(3)), abs=0.01)
    assert zone == "S1"  # on the shop's right edge (x = 10): inside


def test_each_probe_counts_once_with_its_strongest_report_and_weights_are_ten_to_rssi_over_ten(table_env, tmp_path):
    events = [
        report("d1", "ap-a", -70),
        report("d1", "ap-a", -50, T0 + 300),  # the strongest of ap-a: -50
        report("d1", "ap-a", -50, T0 + 300),  # a duplicate changes nothing
        report("d1", "ap-b", -60, T0 + 900),  # 10 dB weaker: a tenth of the weight
    ]
    x, y, zone = placed(table_env, tmp_path, events)[("m1", T0 // 1000, "d1")]
    assert (x, y) == pytest.approx((20 / 11, 0.0), abs=0.01)
    assert zone == "S1"  # on the shop's bottom edge: inside


def test_every_second_is_placed_on_its_own_and_devices_apart(table_env, tmp_path):
    events = [
        report("d1", "ap-a", -60, T0 + 999),
        report("d1", "ap-b", -60, T0 + 1000),
        report("d2", "ap-d", -55, T0 + 500),
        report("d2", "ap-b", -60, T0 - 1),
    ]
    got = placed(table_env, tmp_path, events)
    assert got == {
        ("m1", T0 // 1000, "d1"): (0.0, 0.0, "S1"),  # a vertex of S1
        ("m1", T0 // 1000 + 1, "d1"): (20.0, 0.0, "S2"),  # a vertex of S2
        ("m1", T0 // 1000, "d2"): (35.0, 15.0, "corridor"),  # in the notch of the L-shaped S2
        ("m1", T0 // 1000 - 1, "d2"): (20.0, 0.0, "S2"),
    }


def test_positions_equal_the_reference_on_random_reports(table_env, tmp_path):
    rng = random.Random(7)
    aps = list(PROBES)
    events = [
        report(
            f"d{rng.randrange(6)}",
            rng.choice(aps),
            rng.randrange(-85, -40),
            T0 + rng.randrange(20_000),
            event_id=f"e{n}",
        )
        for n in range(400)
    ]
    events.sort(key=lambda e: e.occur_ms)  # in order: no report is behind the position delay
    got = placed(table_env, tmp_path, events)
    want = positions(events, PROBES, lambda mall, x, y: zone_of(x, y, TEST_LAYOUT[mall]), delay_ms=2000)
    assert not want.uncertain
    assert got.keys() == want.certain.keys()
    for key, (x, y, zone) in want.certain.items():
        assert got[key][:2] == pytest.approx((x, y), abs=0.006), key
        assert got[key][2] == zone, key
