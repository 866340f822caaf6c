"""Which days the supervisor restates on its own (footfall/restatement.py `due`): the
closed days of the last FOOTFALL_RESTATE_AUTO_DAYS that have live rows and are neither
final nor given up on, on the real ClickHouse and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from footfall import clients
from footfall.outputs import PROBES
from footfall.restatement import FAILED, FINAL, MallDay, due, mark
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.helpers import own_mall

pytestmark = pytest.mark.integration


def test_the_supervisor_restates_closed_days_of_the_last_days_that_are_not_final(stack: Settings,
                                                                                  unique: str) -> None:
    mall = own_mall(230, f"-{unique}")
    load_layout(Layout((mall,)), stack.postgres)
    try:
        tz = ZoneInfo(mall.tz)
        today = datetime.now(tz).date()
        now_ms = int(datetime.combine(today, time(4), tz).timestamp() * 1000)  # yesterday closed at 03:00
        days = [today - timedelta(days=n) for n in range(6)]  # today and the five days before
        rows = [{"mall_id": mall.mall_id, "day": d.isoformat(), "visitors": 1, "new_visitors": 1,
                 "returning_visitors": 0, "randomized_devices": 0, "door_entries": 0, "devices_seen": 1,
                 "passers_by": 0, "staff_devices": 0} for d in days]
        writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
        try:
            writers.write("mall_daily", rows, [])
        finally:
            writers.close()
        client = clients.clickhouse(stack.clickhouse)
        mark(client, MallDay(mall.mall_id, days[2], mall.tz), FINAL, 2)
        mark(client, MallDay(mall.mall_id, days[3], mall.tz), FAILED, 2)
        settings = Settings.of({"FOOTFALL_RESTATE_AUTO_DAYS": "4"})
        redis = clients.redis_client(stack.redis)
        heard = PROBES.format(mall_id=mall.mall_id)
        closed = MallDay(mall.mall_id, days[1], mall.tz).closes_ms(settings)
        # The mall's reports have not reached yesterday's close yet: it may still get some.
        redis.hset(heard, mapping={mall.probes[0].ap_mac: closed - 1, mall.probes[1].ap_mac: closed - 60_000})
        assert [d.day for d in due(settings, now_ms) if d.mall_id == mall.mall_id] == [days[4]]
        redis.hset(heard, mall.probes[1].ap_mac, closed)
        got = [d.day for d in due(settings, now_ms) if d.mall_id == mall.mall_id]
        # Today is not closed; the day before yesterday is final, the one before failed (it
        # waits for `footfall restate`); five days back is older than the last four.
        assert got == [days[4], days[1]]
        assert not [d for d in due(Settings.of({"FOOTFALL_RESTATE_AUTO_DAYS": "0"}), now_ms)]
    finally:
        clients.redis_client(stack.redis).delete(PROBES.format(mall_id=mall.mall_id))
        remove_malls([mall.mall_id], stack.postgres)
