"""Expected footfall (footfall/expected.py) and its backtest (bench/expected.py), on
counts with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench.expected import backtest
from footfall.expected import closed_hours, day_factor, expectation, expected_days, history_days

MONDAY = date(2026, 11, 30)


def test_an_hours_expectation_is_the_median_of_its_weeks_and_one_odd_day_barely_moves_it() -> None:
    usual = expectation([10, 12, 11, 11])
    odd = expectation([10, 12, 30, 11])  # one week held a fair
    assert usual.baseline == 11 and odd.baseline == 11.5
    # The band: two spreads, the spread the larger of 1.4826 x MAD (1.0 here) and the
    # count's Poisson noise, sqrt(11.5) = 3.391.
    noise = math.sqrt(11.5)
    assert odd.low == pytest.approx(11.5 - 2 * noise) and odd.high == pytest.approx(11.5 + 2 * noise)
    assert odd.weeks == 4


def test_weeks_that_disagree_widen_the_band_and_one_week_rests_on_poisson_noise() -> None:
    spread = expectation([100, 60, 140])  # median 100, MAD 40: 1.4826 x 40 = 59.3 > sqrt(100)
    assert spread.baseline == 100 and spread.high == pytest.approx(100 + 2 * 1.4826 * 40)
    assert spread.low == 0.0  # never below nothing
    one = expectation([16])
    assert (one.baseline, one.low, one.high, one.weeks) == (16, 8, 24, 1)
    assert expectation([]).weeks == 0


def test_how_the_day_runs_is_trusted_by_the_share_of_the_day_gone() -> None:
    # 60 counted where 80 was usual, and those hours hold 80 of the day's usual 200: the
    # ratio 0.75 weighted 0.4, so 1 - 0.4 x 0.25.
    assert day_factor(60, 80, 200) == pytest.approx(0.9)
    assert day_factor(0, 0, 200) == 1.0  # nothing closed yet
    assert day_factor(150, 200, 200) == pytest.approx(0.75)  # the day gone: its own ratio


def test_the_weeks_an_expectation_rests_on_are_complete_days_of_the_same_weekday() -> None:
    assert history_days(MONDAY, MONDAY, 2) == [MONDAY - timedelta(days=7), MONDAY - timedelta(days=14)]
    a_week_on = MONDAY + timedelta(days=7)  # today itself is not over: it is skipped
    assert history_days(a_week_on, MONDAY, 2) == [MONDAY - timedelta(days=7), MONDAY - timedelta(days=14)]
    assert history_days(MONDAY + timedelta(days=3), MONDAY, 1) == [MONDAY - timedelta(days=4)]


def test_today_is_scaled_by_its_closed_hours_and_later_days_are_not() -> None:
    weeks = {MONDAY - timedelta(days=7 * n): {("", 10): 100, ("", 11): 100, ("S1", 10): 20} for n in (1, 2, 3)}
    counts = {**weeks, MONDAY: {("", 10): 50, ("S1", 10): 20}}
    days = expected_days(counts, MONDAY, closed_hours=11, ahead=7, weeks=4)
    assert set(days) == {MONDAY + timedelta(days=n) for n in range(8)}
    band, value = days[MONDAY][("", 11)]
    # The mall's 10:00 closed with 50 of a usual 100, half the day's usual 200: factor
    # 1 + 0.5 x (0.5 - 1) = 0.75 on every hour of the mall; the shop ran as usual.
    assert band.baseline == 100 and value == pytest.approx(75)
    assert days[MONDAY][("S1", 10)][1] == pytest.approx(20)
    # Next Monday rests on the same three weeks (today is not over), unscaled; Tuesday on none.
    assert days[MONDAY + timedelta(days=7)][("", 11)] == (band, 100)
    assert days[MONDAY + timedelta(days=1)][("", 11)][0].weeks == 0


def test_an_hour_is_closed_five_minutes_after_it_ends_in_the_malls_zone() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    assert closed_hours(MONDAY, datetime(2026, 11, 30, 10, 4, tzinfo=tz)) == 9
    assert closed_hours(MONDAY, datetime(2026, 11, 30, 10, 5, tzinfo=tz)) == 10
    assert closed_hours(MONDAY, datetime(2026, 11, 30, 0, 3, tzinfo=tz)) == 0
    assert closed_hours(MONDAY, datetime(2026, 12, 1, 0, 3, tzinfo=tz)) == 24


def test_the_backtest_scores_each_day_on_the_days_before_it_only() -> None:
    # Two Mondays: the first has no earlier week and is not scored; the second expected
    # 100 at 10:00 and 11:00 (band 80-120 on one week) and counted 75 and 125: off by 25
    # of 75 and of 125, outside the band, the day exact.
    counts = {MONDAY - timedelta(days=7): {("", 10): 100, ("", 11): 100},
              MONDAY: {("", 10): 75, ("", 11): 125}}
    start, noon = backtest(counts, weeks=4, min_visitors=10, at_hour=11)
    assert start.hours == pytest.approx([25 / 75, 25 / 125]) and start.days == [0.0] and start.inside == [False, False]
    # At 11:00 the day ran at 0.75 with half its usual gone: 11:00 expected 100 x 0.875.
    assert noon.hours == pytest.approx([37.5 / 125]) and noon.days == pytest.approx([37.5 / 125])
