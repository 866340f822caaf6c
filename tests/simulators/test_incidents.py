"""Staged incidents (simulators/incidents.py): each changes exactly what it says, for as long
as it says, and a week of them is one of each kind, each on its own day, in opening hours."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from footfall.settings import Topics
from simulators.incidents import KINDS, Incident, staged_week
from simulators.layout import Layout, default_layout
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig

MALL = default_layout(1).malls[0]
NOON = datetime(2031, 3, 5, 12, 0, tzinfo=MALL.zone).timestamp()
HOUR = 3600.0
#: Each arrival one person through the doors once, counted exactly: the door counts then
#: measure the incidents' arrivals alone.
ONE_ENTRY_EACH = {"group_share": 0.0, "reentry_share": 0.0, "door_error": 0.0}


def records(incidents: tuple[Incident, ...], hours: float = 2.0) -> list[tuple[str, dict]]:
    config = SimulationConfig(start=NOON, end=NOON + hours * HOUR, seed=3, incidents=incidents,
                              behaviour=Behaviour(visitors_per_day=1500, **ONE_ENTRY_EACH))
    return [(r.topic, json.loads(r.value)) for r in Simulation(Layout((MALL,)), config).records()]


def test_without_incidents_the_simulation_is_as_before() -> None:
    assert records(()) == records(())


def test_a_dark_probe_and_a_dead_counter_report_nothing_inside_their_window_only() -> None:
    probe, sensor = MALL.probes[3].ap_mac, MALL.entrances[0].sensor_id
    dark = Incident("probe_dark", MALL.mall_id, probe, NOON + 0.5 * HOUR, NOON + HOUR)
    dead = Incident("door_dead", MALL.mall_id, sensor, NOON + 0.5 * HOUR, NOON + HOUR)
    got = records((dark, dead))
    heard = [m["occur_time"] / 1000 for topic, m in got if topic == Topics.WIFI_PROBES and m["ap_mac"] == probe]
    doors = [m["occur_time"] / 1000 for topic, m in got if topic == Topics.DOOR_SENSORS and m["sensor_id"] == sensor]
    assert not [t for t in heard if dark.covers(t)] and not [t for t in doors if dead.covers(t)]
    assert [t for t in heard if t < dark.start] and [t for t in heard if t >= dark.end]
    assert len([t for t in doors if t >= dead.end]) == 60  # one a minute again
    # The other probes and counters report as usual inside the window.
    others = {m["ap_mac"] for topic, m in got if topic == Topics.WIFI_PROBES and dark.covers(m["occur_time"] / 1000)}
    assert len(others) > len(MALL.probes) // 2 and probe not in others


def test_an_unregistered_probe_hears_what_its_neighbour_hears_while_it_is_there() -> None:
    near = MALL.probes[2].ap_mac
    extra = Incident("probe_unregistered", MALL.mall_id, "0a:bc:de:00:00:01", NOON + HOUR, NOON + 2 * HOUR, near=near)
    got = [m for topic, m in records((extra,)) if topic == Topics.WIFI_PROBES]
    shadow = [(m["device_mac"], m["occur_time"]) for m in got if m["ap_mac"] == extra.subject]
    beside = [(m["device_mac"], m["occur_time"]) for m in got
              if m["ap_mac"] == near and extra.covers(m["occur_time"] / 1000)]
    assert shadow and shadow == beside


def test_a_degraded_antenna_keeps_its_share_of_reports() -> None:
    probe = MALL.probes[5].ap_mac
    before = Counter(m["ap_mac"] for topic, m in records(()) if topic == Topics.WIFI_PROBES)[probe]
    degraded = Incident("antenna_degraded", MALL.mall_id, probe, NOON, NOON + 2 * HOUR, 0.2)
    after = Counter(m["ap_mac"] for topic, m in records((degraded,)) if topic == Topics.WIFI_PROBES)[probe]
    assert before > 500 and after == pytest.approx(0.2 * before, rel=0.25)


def test_a_surge_brings_its_people_and_an_empty_day_keeps_its_share_of_arrivals() -> None:
    def entries(incidents: tuple[Incident, ...]) -> int:
        return sum(m["in_count"] for topic, m in records(incidents) if topic == Topics.DOOR_SENSORS)

    usual = entries(())
    surge = Incident("crowd_surge", MALL.mall_id, "", NOON, NOON + HOUR, 400)
    empty = Incident("empty_day", MALL.mall_id, "", NOON - 12 * HOUR, NOON + 12 * HOUR, 0.4)
    assert entries((surge,)) - usual == pytest.approx(400, rel=0.15)
    assert entries((empty,)) == pytest.approx(0.4 * usual, rel=0.25)


def test_a_staged_week_is_one_incident_of_each_kind_on_its_own_day_in_opening_hours() -> None:
    monday = datetime(2031, 3, 3, tzinfo=MALL.zone)
    week = staged_week(MALL, monday, np.random.default_rng(5), surge_people=300)
    assert sorted(i.kind for i in week) == sorted(KINDS)
    days = [datetime.fromtimestamp(i.start, MALL.zone).date() for i in week]
    assert len(set(days)) == len(KINDS) and all(monday.date() <= d < monday.date() + timedelta(days=7) for d in days)
    for incident in week:
        start, end = (datetime.fromtimestamp(t, MALL.zone) for t in (incident.start, incident.end))
        assert MALL.opening_hour <= start.hour and end.hour <= MALL.closing_hour, incident
    with pytest.raises(ValueError, match="kind"):
        Incident("meteor", MALL.mall_id, "", 0, 1)
