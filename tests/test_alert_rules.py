"""The alert rules' arithmetic (footfall/alerts.py), on readings with answers worked out by
hand: the hold, the hysteresis, the escalation, the band's minimum size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footfall.alerts import DEFAULTS, Rule, State, band_reading, occupancy_reading, step

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
