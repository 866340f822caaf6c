"""Pieces of the dashboards that need no service: the input-rate meter, the device
lookup's parsing, the hourly chart's peak marking, the hours a day is compared by and the
pages' wording of counts and changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboards import charts, data, words
from dashboards.health import RateMeter
from footfall.settings import Settings
from udfs.identity import DeviceQueryError, device_for, device_id, normalise_mac

DAY = date(2031, 3, 5)


def test_the_rate_meter_needs_two_samples_and_never_goes_negative():
    meter = RateMeter()
    assert meter.rates({"wifi-probes": 100}, at=10.0) == {"wifi-probes": None}
    assert meter.rates({"wifi-probes": 400, "door-sensors": 5}, at=12.0) == {"wifi-probes": 150.0, "door-sensors": None}
    assert meter.rates({"wifi-probes": 300, "door-sensors": 9}, at=14.0) == {"wifi-probes": 0.0, "door-sensors": 2.0}


def test_a_device_is_named_by_its_id_or_by_a_mac_hashed_as_the_job_does(monkeypatch, tmp_path):
    monkeypatch.setenv("FOOTFALL_SALT", "lookup-salt")
    settings = Settings()
    assert device_for(" 0123456789ABCDEF ", settings) == "0123456789abcdef"
    expected = device_id("lookup-salt", "3c:22:fb:00:11:aa")
    assert device_for("3C-22-FB-00-11-AA", settings) == expected == device_for("3c:22:fb:00:11:aa", settings)
    with pytest.raises(DeviceQueryError, match="neither a device id"):
        device_for("3c:22:fb", settings)
    assert normalise_mac("not a mac") is None


def test_a_mac_lookup_without_the_job_s_salt_is_refused_not_guessed(monkeypatch, tmp_path):
    monkeypatch.delenv("FOOTFALL_SALT", raising=False)
    monkeypatch.setenv("FOOTFALL_VAR_DIR", str(tmp_path))
    with pytest.raises(DeviceQueryError, match="salt"):
        device_for("3c:22:fb:00:11:aa", Settings())
    assert not (tmp_path / "salt").exists()  # no salt of its own made up


def test_the_hourly_chart_marks_the_peak_and_draws_last_week_only_with_data():
    frame = pd.DataFrame({"hour": range(24), "visitors": [0] * 9 + [5, 9, 4] + [0] * 12,
                          "door_entries": [0] * 24, "last_week_visitors": [0] * 24, "last_week_door_entries": [0] * 24})
    spec = charts.hourly(frame, 10, "Wed 26 Feb").to_dict()
    assert len(spec["layer"]) == 2  # bars and the peak's label; no empty line for last week
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert [row["hour"] for row in values if row["peak"]] == [10]
    frame.loc[10, "last_week_visitors"] = 3
    assert len(charts.hourly(frame, 10, "Wed 26 Feb").to_dict()["layer"]) == 3
    # An expectation held for some hours: its band and dashed line, in place of last week's.
    held = frame.assign(expected=[None] * 10 + [8.0, 6.0] + [None] * 12, low=[None] * 10 + [4.0, 2.0] + [None] * 12,
                        high=[None] * 10 + [12.0, 10.0] + [None] * 12)
    marks = [layer["mark"] for layer in charts.hourly(held, 10, "Wed 26 Feb").to_dict()["layer"]]
    kinds = [m if isinstance(m, str) else m["type"] for m in marks]
    assert kinds == ["area", "bar", "text", "line"]


@pytest.mark.parametrize(("day", "clock", "hours"), [
    (DAY, "12:30", 12), (DAY, "12:04", 11), (DAY, "00:03", 0), (DAY, "23:59", 23),
    (DAY - timedelta(days=7), "12:30", 24), (DAY + timedelta(days=1), "12:30", 24)])
def test_the_hours_compared_are_those_the_job_has_closed_of_today_and_all_of_any_other_day(day, clock, hours):
    now = datetime.combine(DAY, time.fromisoformat(clock), ZoneInfo("Europe/Amsterdam"))
    assert data.compared_hours(day, now) == hours


def test_counts_agree_with_their_nouns_and_changes_say_what_they_compare():
    assert words.counted(1, "device") == "1 device" and words.counted(1204, "device") == "1,204 devices"
    assert words.counted(0, "walk-by") == "0 walk-bys"
    assert words.change(0.25) == "+25% on last week" and words.change(-0.5) == "-50% on last week"
    assert words.change(None) is None and words.change(float("nan")) is None
    day = date(2031, 2, 26)
    assert "up to" not in words.compared(day, 24) and "Wednesday 26 February" in words.compared(day, 24)
    assert "from 00:00 to 10:00" in words.compared(day, 10)
    assert words.compared(day, 0).startswith("nothing yet")


def test_small_counts_leave_the_product_as_less_than_the_minimum_and_small_steps_are_hidden():
    from dashboards import small_counts

    frame = pd.DataFrame({"shop_code": ["S1", "S2", "S3"], "visitors": [12, 3, 0], "share": [0.8, 0.2, 0.0]})
    assert small_counts.export_csv(frame, ["visitors"], 5).decode().splitlines() == [
        "shop_code,visitors,share", "S1,12,0.8", "S2,< 5,0.2", "S3,0,0.0"]
    assert small_counts.export_csv(frame, ["visitors"], 0) == frame.to_csv(index=False).encode()  # off
    steps = pd.DataFrame({"from_shop": ["S1", "S2"], "to_shop": ["S2", "S1"], "transitions": [7, 2]})
    assert small_counts.shown_steps(steps, 5)["transitions"].tolist() == [7]
    assert small_counts.shown_steps(steps, 0)["transitions"].tolist() == [7, 2]


def test_the_live_map_rings_the_silent_probes_and_only_those():
    from dashboards import layers

    layout = data.MallLayout(
        "m1", "Mall", 52.37, 4.89,
        pd.DataFrame({"shop_code": ["S1"], "shop_name": ["Shop 1"], "category": ["food"],
                      "polygon": [[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]]}),
        pd.DataFrame({"ap_mac": ["aa", "bb"], "shop_code": ["S1", None], "x": [5.0, 20.0], "y": [5.0, 12.0]}),
        pd.DataFrame({"sensor_id": ["e1"], "name": ["North"], "x": [0.0], "y": [12.0]}))
    quiet = pd.DataFrame(columns=["device_id", "x", "y", "zone", "ts"])
    assert "silent-probes" not in [layer.id for layer in layers.deck(layout, quiet).layers]
    ringed = {layer.id: layer for layer in layers.deck(layout, quiet, ["bb"]).layers}["silent-probes"]
    assert [row["ap_mac"] for row in ringed.data] == ["bb"]
