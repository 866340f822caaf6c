"""The alert rules' arithmetic (footfall/alerts.py), on readings with answers worked out by
hand: the hold, the hysteresis, the escalation, the band's minimum size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footfall.alerts import (
    DEFAULTS,
    Activity,
    Rule,
    State,
    activity,
    band_reading,
    degraded_reading,
    drift_reading,
    median,
    occupancy_reading,
    silent_readings,
    step,
    unregistered_readings,
    usual_over,
    usual_share,
)

T0 = datetime(2031, 5, 6, 12, 0, tzinfo=UTC)
OCCUPANCY = Rule("m", "occupancy", "", 0.80, 0.95, 0.70, 120, 0)
BAND = Rule("m", "footfall_band", "", None, None, None, 0, 20)


def run(rule: Rule, readings: list) -> list[str | None]:  # type: ignore[type-arg]
    state, raised = State(), []
    for reading in readings:
        state, kind = step(rule, state, reading)
        raised.append(kind)
    return raised


def test_the_defaults_are_the_fields_alert_figures() -> None:
    assert (DEFAULTS["occupancy"]["warning"], DEFAULTS["occupancy"]["critical"]) == (0.80, 0.95)
    assert DEFAULTS["occupancy"]["clear"] < DEFAULTS["occupancy"]["warning"]


def test_occupancy_fires_only_after_its_hold_and_a_dip_under_the_warning_restarts_it() -> None:
    def at(seconds: int, people: int):  # type: ignore[no-untyped-def]
        return occupancy_reading(OCCUPANCY, people, 1000, T0 + timedelta(seconds=seconds))

    # 81 % for 119 s, a dip to 79 %, then 81 % again for 120 s: it opens only at the end.
    assert run(OCCUPANCY, [at(0, 810), at(119, 810), at(130, 790), at(140, 810), at(259, 810), at(260, 810)]) == [
        None, None, None, None, None, "opened"]


def test_hysteresis_keeps_one_alert_open_between_the_warning_and_the_clear_level() -> None:
    def at(seconds: int, people: int):  # type: ignore[no-untyped-def]
        return occupancy_reading(OCCUPANCY, people, 100, T0 + timedelta(seconds=seconds))

    kinds = run(OCCUPANCY, [at(0, 85), at(120, 85), at(130, 79), at(140, 81), at(150, 71), at(160, 96), at(170, 70),
                            at(180, 69)])
    assert kinds == [None, "opened", None, None, None, "escalated", None, "resolved"]
    critical = occupancy_reading(OCCUPANCY, 96, 100, T0)
    assert (critical.level, critical.threshold) == ("critical", 95)
    assert occupancy_reading(OCCUPANCY, 81, 100, T0).threshold == 80


def test_a_band_alert_needs_the_minimum_size_and_resolves_back_inside() -> None:
    def at(hour: int, visitors: int, expected: float, low: float, high: float):  # type: ignore[no-untyped-def]
        return band_reading(BAND, visitors, expected, low, high, T0 + timedelta(hours=hour))

    # 14 over a band topping at 12: under the minimum of 20 from the expected 10, nothing;
    # 40 is; 25 back inside resolves; 0 against an expected 30 (low 15) is a dip.
    kinds = run(BAND, [at(0, 14, 10, 8, 12), at(1, 40, 10, 8, 12), at(2, 25, 24, 18, 30), at(3, 0, 30, 15, 45)])
    assert kinds == [None, "opened", "resolved", "opened"]
    assert at(3, 0, 30, 15, 45).threshold == 15


SILENT = Rule("m", "probe_silent", "", 900, None, None, 0, 0)


def test_a_probe_is_silent_behind_its_neighbours_and_a_door_counter_behind_the_probes() -> None:
    heard = {"a": 1_000_000, "b": 1_000_000 - 901_000, "c": 1_000_000 - 899_000}
    new_mall = Activity(True, None)  # nothing expected yet: judged against its own probes
    got = {r.subject: (reading.value, reading.level) for r, reading in silent_readings(SILENT, heard, T0, new_mall)}
    assert got == {"a": (0, None), "b": (901, "warning"), "c": (899, None)}
    # Door counters: both 30 min 1 s behind the mall's newest probe report.
    door = Rule("m", "door_silent", "", 1800, None, None, 0, 0)
    doors = {"d1": 1_000_000, "d2": 1_000_000}
    readings = silent_readings(door, doors, T0, new_mall, newest_ms=1_000_000 + 1_801_000)
    assert [(r.subject, reading.level) for r, reading in readings] == [("d1", "warning"), ("d2", "warning")]
    # Not usually busy now: nothing is judged, but a probe heard again is clear.
    quiet = silent_readings(SILENT, heard, T0, Activity(False, None))
    assert [(reading.level, reading.cleared) for _, reading in quiet] == [(None, True), (None, False), (None, True)]


def test_a_silence_counts_from_when_the_mall_became_usually_busy_and_a_dark_mall_against_the_clock() -> None:
    # 40 visitors an hour from 10:00: at 10:10 the last 15 minutes usually bring 40 * 10/60
    # = 6.7 (under 10: the mall has just opened); from 10:15 on, 10 or more.
    baselines = {10: 40.0, 11: 40.0}
    assert abs(usual_over(baselines, T0.replace(hour=10, minute=10), 900) - 40 * 10 / 60) < 1e-9
    assert usual_over(baselines, T0.replace(hour=11, minute=5), 900) == 10.0
    assert activity(baselines, T0.replace(hour=10, minute=10), SILENT) == Activity(False, None)
    assert activity(baselines, T0.replace(hour=11, minute=40), SILENT) == Activity(True, T0.replace(hour=10, minute=15))
    assert activity({}, T0, SILENT) == Activity(True, None)
    # At 10:25 a probe last heard last night and one heard at 10:20, the mall's newest at
    # 10:25: the first has been silent 10 minutes of the busy stretch, not 12 hours.
    now = T0.replace(hour=10, minute=25)
    ms = int(now.timestamp() * 1000)
    heard = {"night": ms - 12 * 3_600_000, "new": ms - 300_000, "newest": ms}
    got = {r.subject: (round(reading.value), reading.level)
           for r, reading in silent_readings(SILENT, heard, now, activity(baselines, now, SILENT))}
    assert got == {"night": (600, None), "new": (300, None), "newest": (0, None)}
    # At 10:40 the night probe has been silent 25 minutes of it: silent.
    later = T0.replace(hour=10, minute=40)
    heard["newest"] = int(later.timestamp() * 1000)
    got = {r.subject: reading.level for r, reading in silent_readings(SILENT, heard, later,
                                                                      activity(baselines, later, SILENT))}
    assert got == {"night": "warning", "new": "warning", "newest": None}
    # The whole mall silent since 11:00, at 11:20: against the clock, every probe.
    dark = T0.replace(hour=11, minute=20)
    heard = {"a": int(T0.replace(hour=11).timestamp() * 1000), "b": int(T0.replace(hour=11).timestamp() * 1000)}
    busy = activity(baselines, dark, SILENT)
    assert {reading.level for _, reading in silent_readings(SILENT, heard, dark, busy)} == {"warning"}
    assert {reading.level for _, reading in silent_readings(SILENT, heard, dark, Activity(True, None))} == {None}


def test_a_degraded_probe_is_judged_on_its_share_with_hysteresis_and_a_minimum() -> None:
    rule = Rule("m", "probe_degraded", "ap", 0.4, None, 0.6, 0, 300)
    usual = usual_share([(100, 1000), (120, 1000), (0, 0), (80, 1000)])  # 10 %, 12 %, 8 %: 10 %
    assert usual == 0.10
    low = degraded_reading(rule, 300, 10_000, usual, T0)  # 3 % of the reports: 0.3 of the usual 10 %
    assert (round(low.value, 6), low.level, low.cleared) == (0.3, "warning", False)
    between = degraded_reading(rule, 500, 10_000, usual, T0)  # 0.5: not firing, not clear either
    assert (between.level, between.cleared) == (None, False)
    assert degraded_reading(rule, 700, 10_000, usual, T0).cleared
    # Usually 10 % of 2,000 = 200 reports, under the minimum of 300: not judged.
    assert degraded_reading(rule, 0, 2_000, usual, T0) is None
    assert degraded_reading(rule, 0, 2_000, None, T0) is None


def test_capture_drift_is_the_relative_change_of_visitors_per_entry() -> None:
    rule = Rule("m", "capture_drift", "", 0.3, None, 0.15, 0, 200)
    assert median([0.5, 0.6, 0.4]) == 0.5 and median([]) is None
    up = drift_reading(rule, 400, 600, 0.5, T0)  # 0.667 per entry: +33 %
    assert (up.level, up.threshold, round(up.value, 3)) == ("warning", 0.3, 0.333)
    down = drift_reading(rule, 200, 600, 0.5, T0)  # -33 %
    assert (down.level, down.threshold) == ("warning", -0.3)
    assert drift_reading(rule, 330, 600, 0.5, T0).cleared  # +10 %
    assert drift_reading(rule, 90, 150, 0.5, T0) is None  # 150 entries: under the minimum


def test_an_unregistered_probe_fires_while_it_reports_enough_and_resolves_when_registered_or_gone() -> None:
    rule = Rule("", "unregistered_probe", "", 3600, None, None, 0, 10)
    now_ms = int(T0.timestamp() * 1000)
    unknown = {"new": (now_ms - 60_000, 10), "few": (now_ms, 9), "gone": (now_ms - 3_601_000, 500),
               "known": (now_ms, 50)}
    got = {r.subject: (reading.level, reading.cleared) for r, reading in
           unregistered_readings(rule, unknown, {"known"}, T0)}
    assert got == {"new": ("warning", False), "few": (None, True), "gone": (None, True), "known": (None, True)}
    assert all(r.alert_id == f"unregistered_probe//{r.subject}" for r, _ in
               unregistered_readings(rule, unknown, set(), T0))
