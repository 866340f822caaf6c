"""The rules of a restatement that need no stack (footfall/restatement.py,
jobs/metrics/excerpt.py): which days may be restated, what of a topic it reads, and the
live sinks' list of final days."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from footfall.restatement import RESTATED, FinalDays, MallDay, Refused, check
from footfall.settings import Settings
from jobs.metrics.excerpt import Window, select

DAY = date(2026, 3, 10)
AMS = MallDay("ams", DAY, "Europe/Amsterdam")


def ms(hour: int, minute: int = 0, day: date = DAY, tz: str = "Europe/Amsterdam") -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def test_a_day_reads_from_the_lateness_before_its_midnight_to_its_close() -> None:
    settings = Settings()
    first, last = AMS.reads_ms(settings)
    assert first == ms(0) - (3600 + 300) * 1000  # the allowed lateness and the future tolerance
    assert last == ms(3, day=date(2026, 3, 11)) == AMS.closes_ms(settings)


def test_only_closed_days_the_topics_still_hold_are_restated() -> None:
    settings = Settings()
    check(AMS, settings, now_ms=AMS.closes_ms(settings))  # closed: no refusal
    with pytest.raises(Refused, match=r"^ams 2026-03-10: not closed until 2026-03-11 03:00 CET .*nothing was restated"):
        check(AMS, settings, now_ms=AMS.closes_ms(settings) - 1)
    eight_days_on = ms(0) + 8 * 86_400_000
    with pytest.raises(Refused, match="the input topics keep 7 days .FOOTFALL_RETENTION_TOPICS_DAYS."):
        check(AMS, settings, now_ms=eight_days_on)


def test_the_restated_outputs_are_the_upserted_tables_of_a_mall_and_day() -> None:
    assert set(RESTATED) == {
        "mall_daily", "mall_hourly", "peak_hour_daily", "shop_daily", "shop_hourly", "top_shops_daily",
        "favorite_shop_daily", "repeat_shops_daily", "mall_engagement_daily", "shop_engagement_daily", "visits",
        "probe_hourly", "sales_hourly"}


def message(at: int | str | None, offset: int, partition: int = 0, stamp: int | None = None) -> tuple:
    value = b"not json" if at is None else json.dumps({"occur_time": at, "n": offset}).encode()
    return partition, offset, value, at if stamp is None and isinstance(at, int) else (stamp or 0)


def read(folder: Path) -> dict[int, list[int]]:
    return {int(f.stem.split("-")[1]): [json.loads(line)["kafka_offset"] for line in f.read_text().splitlines()]
            for f in sorted(folder.iterdir())}


def test_an_excerpt_is_each_partitions_stretch_from_its_first_to_its_last_report_of_the_window(
        tmp_path: Path) -> None:
    window = Window(1000, 2000, future_tolerance_ms=50)
    messages = [
        message(500, 0), message(1500, 1), message(3000, 2), message(None, 3),  # out of window, then bad: kept
        message(1999, 4), message(2500, 5), message(None, 6),  # after the last in the window: cut
        message(900, 0, partition=1), message(950, 1, partition=1),  # never in the window: no file
        message(1200, 0, partition=2, stamp=1000), message(1300, 1, partition=2, stamp=1000),  # beyond tolerance
        message(1040, 2, partition=2, stamp=1000),
    ]
    assert select(messages, {}, "t", window, tmp_path) == 5
    assert read(tmp_path) == {0: [1, 2, 3, 4], 2: [2]}
    line = json.loads((tmp_path / "partition-0.json").read_text().splitlines()[0])
    assert line == {"body": json.dumps({"occur_time": 1500, "n": 1}), "kafka_partition": 0, "kafka_offset": 1}


def test_an_excerpt_the_broker_no_longer_holds_the_start_of_is_refused(tmp_path: Path) -> None:
    window = Window(1000, 2000, future_tolerance_ms=50)
    # Dropped offsets before 5 were older than the window: nothing is missing.
    assert select([message(900, 5), message(1500, 6)], {0: 5}, "t", window, tmp_path / "a") == 1
    with pytest.raises(Refused, match="t partition 0 starts at offset 5: the broker no longer holds"):
        select([message(1100, 5), message(1500, 6)], {0: 5}, "t", window, tmp_path / "b")


class Marks:
    def __init__(self) -> None:
        self.rows = [("m", DAY, "final"), ("m", date(2026, 3, 11), "restating"), ("m", date(2026, 3, 12), "failed")]
        self.reads = 0

    def execute(self, query: str) -> list[tuple]:
        self.reads += 1
        return self.rows


def test_the_live_sinks_leave_final_and_restating_days_alone_and_read_the_marks_every_ten_seconds() -> None:
    marks, now = Marks(), [0.0]
    final = FinalDays(marks, clock_s=lambda: now[0])
    assert final.get() == {("m", "2026-03-10"), ("m", "2026-03-11")}
    marks.rows = []
    now[0] = 9.9
    assert final.get() and marks.reads == 1  # the list read 9.9 s ago
    now[0] = 10.0
    assert final.get() == frozenset() and marks.reads == 2
