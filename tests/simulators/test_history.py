"""The demo's history: whole local days before today for every mall, each mall with its
own size and week, and a run that resumes where a stopped one left off."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import numpy as np

from simulators.cli import history_start
from simulators.layout import default_layout
from simulators.shoppers import Behaviour, arrival_times


def test_history_starts_at_the_earliest_local_midnight_so_every_mall_has_whole_days() -> None:
    layout = default_layout(3)  # Amsterdam, New York, Tokyo
    now = datetime.fromisoformat("2026-12-02T01:30:00+00:00").timestamp()  # New York is still on 1 December
    start = history_start(layout, 14, now)
    assert start == datetime(2026, 11, 17, tzinfo=layout.malls[1].zone).timestamp()
    for mall in layout.malls:
        today = datetime.fromtimestamp(now, mall.zone).date()
        assert datetime.fromtimestamp(start, mall.zone) <= datetime.combine(
            today - timedelta(days=14), datetime.min.time(), mall.zone
        )


def test_each_mall_has_its_own_size_and_weekly_pattern() -> None:
    big, medium, small = default_layout(3).malls
    assert big.traffic > medium.traffic > small.traffic
    behaviour = Behaviour(visitors_per_day=50_000)

    def arrivals(mall, day: date) -> int:  # type: ignore[no-untyped-def]
        return len(
            arrival_times(mall, datetime.combine(day, datetime.min.time()), behaviour, 1.0, np.random.default_rng(1))
        )

    tuesday, saturday = date(2026, 11, 24), date(2026, 11, 28)
    assert arrivals(big, tuesday) > arrivals(medium, tuesday) > arrivals(small, tuesday)
    for mall in (big, medium, small):
        ratio = arrivals(mall, saturday) / arrivals(mall, tuesday)
        assert abs(ratio / (mall.weekly[5] / mall.weekly[1]) - 1) < 0.05


def test_a_run_keeps_its_simulated_time_and_resumes_from_it_with_event_ids_of_its_own(tmp_path) -> None:
    state, first, second = tmp_path / "state.json", tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    common = ["run", "--malls", "1", "--visitors-per-day", "300", "--as-fast-as-possible", "--state-file", str(state)]

    def run(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "simulators", *common, *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr

    run("--start", "2026-11-24T12:00", "--duration", "1h", "--output", str(first))
    saved = json.loads(state.read_text())
    sent = first.read_text().splitlines()
    assert saved["records"] == len(sent)
    assert [n for _, n in saved["marks"]][0] == 1 and all(
        b[0] - a[0] <= 3600 for a, b in zip(saved["marks"], saved["marks"][1:])
    )
    run("--resume", "--duration", "1h", "--output", str(second))
    later = [json.loads(line) for line in second.read_text().splitlines()]
    times = [json.loads(m["value"])["occur_time"] / 1000 for m in later if m["topic"] == "wifi-probes"]
    assert min(times) >= saved["simulated_until"] - 1
    assert max(times) <= saved["simulated_until"] + 3600  # the hour asked for, not up to now
    ids = {json.loads(m["value"]).get("event_id") for m in map(json.loads, sent) if m["topic"] == "wifi-probes"}
    assert ids.isdisjoint(json.loads(m["value"]).get("event_id") for m in later if m["topic"] == "wifi-probes")
    assert json.loads(state.read_text())["records"] == len(sent) + len(later)


def test_size_and_week_travel_with_the_layout_file_and_are_checked() -> None:
    import pytest

    from simulators.layout import Layout, LayoutError

    layout = default_layout(2)
    again = Layout.from_json(layout.to_json())
    assert [(m.traffic, m.weekly) for m in again.malls] == [(m.traffic, m.weekly) for m in layout.malls]
    data = json.loads(layout.to_json())
    data["malls"][0]["weekly"] = [1, 1, 1]
    with pytest.raises(LayoutError, match="weekly seven factors"):
        Layout.from_json(json.dumps(data))
    del data["malls"][0]["weekly"], data["malls"][0]["traffic"]  # older layout files: every mall alike
    assert Layout.from_json(json.dumps(data)).malls[0].weekly == (1.0, 1.0, 1.0, 1.0, 1.0, 1.4, 1.4)
