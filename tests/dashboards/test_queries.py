"""The dashboards' queries against the real ClickHouse, Redis and Kafka, over known rows
written through the job's own sink (`known_day`): each page's numbers come from these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboards import data, health
from footfall import clients, expected
from footfall.outputs import feed_text
from tests.dashboards.conftest import DAY, WEEK_BEFORE, KnownDay, latest_feed

pytestmark = pytest.mark.integration


@pytest.fixture
def clickhouse(known_day: KnownDay):  # type: ignore[no-untyped-def]
    return clients.clickhouse(known_day.settings.clickhouse)


def layout_shops(known_day: KnownDay) -> pd.DataFrame:
    return pd.DataFrame([(s.shop_code, s.shop_name, s.category) for s in known_day.mall.shops],
                        columns=["shop_code", "shop_name", "category"])


def test_the_day_summary_is_the_newest_version_with_capture_rate_and_peak(known_day, clickhouse):
    m = known_day.mall.mall_id
    assert data.newest_day(clickhouse, m) == DAY
    summary = data.day_summary(clickhouse, m, DAY)
    assert summary.to_dict("records") == [{
        "visitors": 120, "new_visitors": 80, "returning_visitors": 40, "randomized_devices": 9,
        "door_entries": 200, "devices_seen": 243, "passers_by": 120, "staff_devices": 3, "capture_rate": 0.6,
        "draw_rate": 0.5, "peak_hour": 14, "peak_visitors": 70}]
    assert data.day_summary(clickhouse, m, date(2031, 3, 6)).empty
    assert data.newest_day(clickhouse, "no-such-mall") is None


def test_people_are_the_day_s_door_entries_over_entries_per_visitor(known_day, clickhouse):
    m = known_day.mall.mall_id
    # Three visitors with one mall visit each: one entry per visitor, so 200 entries are
    # 200 people, 200 / 120 per visitor counted.
    assert data.people(clickhouse, m, DAY).to_dict("records") == [{
        "estimated_people": 200, "people_per_visitor": 200 / 120, "entries_per_visitor": 1.0,
        "basis": "door counts"}]
    assert data.people(clickhouse, m, date(2031, 3, 6)).empty


def test_hours_cover_the_whole_day_next_to_the_same_weekday_a_week_before(known_day, clickhouse):
    hours = data.hourly(clickhouse, known_day.mall.mall_id, DAY).set_index("hour")
    assert list(hours.index) == list(range(24))
    assert hours.loc[10].tolist() == [50, 80, 40, 60]
    assert hours.loc[14].tolist() == [70, 120, 0, 0]
    assert hours.drop(index=[10, 14]).sum().sum() == 0
    assert data.peak_hour(clickhouse, known_day.mall.mall_id, DAY).to_dict("records") == [{"hour": 14, "visitors": 70}]


def test_a_day_is_compared_with_the_same_hours_of_the_weekday_a_week_before(known_day, clickhouse):
    m = known_day.mall.mall_id
    whole = data.versus_last_week(clickhouse, m, DAY, 24)
    assert whole.loc["visitors"].tolist() == [120, 40, 2.0]
    assert whole.loc["door_entries"].tolist() == [200, 60, pytest.approx(140 / 60)]
    assert whole.loc["passers_by"]["so_far"] == 30 and pd.isna(whole.loc["passers_by"]["change"])  # none last week
    # By 11:00 only the 10:00 hour of each day: 50 against 40, whatever the afternoon brings.
    assert data.versus_last_week(clickhouse, m, DAY, 11).loc["visitors"].tolist() == [50, 40, 0.25]
    nothing = data.versus_last_week(clickhouse, m, DAY, 0)
    assert list(nothing.index) == data.HOURLY_COUNTS and (nothing[["so_far", "last_week"]] == 0).all().all()


def test_shops_ranked_listed_and_trended(known_day, clickhouse):
    m, first, second = known_day.mall.mall_id, known_day.first, known_day.second
    assert data.top_shops(clickhouse, m, DAY).values.tolist() == [
        [1, first.shop_code, first.shop_name, 30], [2, second.shop_code, second.shop_name, 12]]

    every = data.shops(clickhouse, m, DAY, layout_shops(known_day), 24)
    assert len(every) == len(known_day.mall.shops)
    assert every.iloc[0].to_dict() == {"shop_code": first.shop_code, "shop_name": first.shop_name,
                                       "category": first.category, "visitors": 30, "share": 0.25,
                                       "change": 0.5, "walk_bys": 90, "conversion": 0.25,  # 6 walk-ins on 4
                                       "visits": 40,
                                       "stayed_20m": 0.125, "median_minutes": 7.5,
                                       "estimated_people": 50.0}  # 30 visitors x 200 / 120
    assert every.iloc[1][["shop_code", "visitors", "visits"]].tolist() == [second.shop_code, 12, 0]
    assert pd.isna(every.iloc[1]["change"])  # no hour of it counted a week before: no change to say
    # Up to 10:00 neither day's 10:00 hour is compared.
    assert pd.isna(data.shops(clickhouse, m, DAY, layout_shops(known_day), 10).iloc[0]["change"])
    assert pd.isna(every.iloc[1]["stayed_20m"])  # no visit of it has ended
    assert every.iloc[1]["median_minutes"] == 1.25  # (30 s + 120 s) / 2
    assert every.iloc[2:]["median_minutes"].isna().all()
    assert every.iloc[2:]["conversion"].isna().all()  # nobody near them
    assert every.iloc[1]["estimated_people"] == 20
    assert every.iloc[2:]["estimated_people"].isna().all()  # no visitors counted: no row to scale
    assert (every.iloc[2:]["visitors"] == 0).all()
    assert list(every.iloc[2:]["shop_code"]) == sorted(every.iloc[2:]["shop_code"])  # ties by code

    trend = data.shop_trend(clickhouse, m, first.shop_code, DAY)
    assert [(d, v) for d, v in trend.itertuples(index=False)] == [
        (WEEK_BEFORE, 20), (date(2031, 3, 3), 25), (DAY, 30)]
    # A day the mall has metrics for but the shop none is a 0, not a gap.
    assert data.shop_trend(clickhouse, m, second.shop_code, DAY).values.tolist() == [[WEEK_BEFORE, 0], [DAY, 12]]
    assert data.shop_trend(clickhouse, m, first.shop_code, date(2031, 2, 1)).empty

    hours = data.shop_hours(clickhouse, m, first.shop_code, DAY)
    assert hours.to_dict("records") == [{"hour": 10, "visitors": 6, "walk_bys": 18, "conversion": 0.25},
                                        {"hour": 14, "visitors": 0, "walk_bys": 4, "conversion": 0.0}]
    assert data.shop_hours(clickhouse, m, second.shop_code, DAY).empty


def test_favourite_and_repeat_shops_by_shop_and_category(known_day, clickhouse):
    m, first, second = known_day.mall.mall_id, known_day.first, known_day.second
    favourites = data.favourite_shops(clickhouse, m, DAY, layout_shops(known_day))
    assert favourites.values.tolist() == [[first.shop_code, first.shop_name, first.category, 2],
                                          [second.shop_code, second.shop_name, second.category, 1]]
    categories = data.favourite_categories(favourites)
    expected = {first.category: 2}
    expected[second.category] = expected.get(second.category, 0) + 1
    assert dict(zip(categories["category"], categories["devices"])) == expected
    assert categories["devices"].is_monotonic_decreasing

    repeats = data.repeat_shops(clickhouse, m, DAY, layout_shops(known_day))
    assert repeats[["shop_code", "devices", "visits"]].values.tolist() == [
        [first.shop_code, 2, 4], [second.shop_code, 1, 3]]


def test_a_device_lookup_shows_the_feed_message_and_the_devices_shops(known_day, clickhouse):
    settings, (a, _, _) = known_day.settings, known_day.devices
    m, first, second = known_day.mall.mall_id, known_day.first, known_day.second
    # The newest message published for the device on the feed topic, field for field.
    published = latest_feed(settings)
    entry = data.feed_entry(clients.redis_client(settings.redis), m, a)
    assert feed_text(entry) == published[a]
    assert entry["shop_code"] == second.shop_code and entry["visits"] == 3
    assert data.feed_entry(clients.redis_client(settings.redis), m, "0" * 16) is None

    shops = data.device_day(clickhouse, m, DAY, a)
    assert shops[["shop_code", "visits", "favourite"]].values.tolist() == [
        [second.shop_code, 3, True], [first.shop_code, 2, False]]
    assert shops.at[0, "dwell_seconds"] == 900
    assert data.device_day(clickhouse, m, WEEK_BEFORE, a).empty


def test_the_live_summary_is_the_redis_hash_typed(known_day):
    live = data.live_summary(clients.redis_client(known_day.settings.redis), known_day.mall.mall_id)
    row = live.iloc[0].to_dict()
    assert {k: row[k] for k in ("day", "visitors", "new_visitors", "returning_visitors", "randomized_devices",
                                "door_entries", "devices_seen", "passers_by", "staff_devices", "capture_rate",
                                "draw_rate", "peak_hour", "peak_visitors")} == {
        "day": DAY, "visitors": 120, "new_visitors": 80, "returning_visitors": 40, "randomized_devices": 9,
        "door_entries": 200, "devices_seen": 243, "passers_by": 120, "staff_devices": 3, "capture_rate": 0.6,
        "draw_rate": 0.5, "peak_hour": 14, "peak_visitors": 70}
    assert data.live_summary(clients.redis_client(known_day.settings.redis), "no-such-mall").empty


def test_engagement_is_the_day_s_visits_by_dwell_bucket(known_day, clickhouse):
    frame = data.engagement(clickhouse, known_day.mall.mall_id, DAY)
    assert frame["bucket"].tolist() == list(data.DWELL_BUCKETS.values())
    assert frame["visits"].tolist() == [30, 60, 45, 12, 3]
    assert frame["share"].tolist() == [0.2, 0.4, 0.3, 0.08, 0.02]
    assert frame.attrs == {"visits": 150, "median_seconds": 1200.0}
    assert data.engagement(clickhouse, known_day.mall.mall_id, WEEK_BEFORE).empty


def test_stored_rows_per_output_for_the_mall_and_day(known_day, clickhouse):
    rows = health.stored_rows(clickhouse, known_day.mall.mall_id, DAY, known_day.mall.tz)
    assert dict(zip(rows["output"], rows["rows"])) == {
        "mall_daily": 1, "mall_hourly": 2, "peak_hour_daily": 1, "shop_daily": 2, "shop_hourly": 2,
        "top_shops_daily": 2,
        "favorite_shop_daily": 3, "repeat_shops_daily": 3, "mall_engagement_daily": 1,
        "shop_engagement_daily": 1, "visits": 9, "staff_detected": 0, "positions": 0, "probe_hourly": 0,
        "sales_hourly": 0}


def test_loyalty_is_the_day_s_visitors_by_class(known_day, clickhouse):
    frame = data.loyalty(clickhouse, known_day.mall.mall_id, DAY)
    assert frame["loyalty"].tolist() == list(data.LOYALTY.values())
    assert frame["visitors"].tolist() == [1, 1, 0, 1, 0]
    assert frame.attrs == {"visitors": 3}
    assert data.loyalty(clickhouse, known_day.mall.mall_id, DAY + timedelta(days=1)).empty


def test_journeys_are_the_steps_between_shops_busiest_first(known_day, clickhouse):
    m, first, second = known_day.mall.mall_id, known_day.first, known_day.second
    steps = data.journeys(clickhouse, m, DAY, layout_shops(known_day))
    assert steps.values.tolist() == [
        [second.shop_code, second.shop_name, first.shop_code, first.shop_name, 2],
        [first.shop_code, first.shop_name, second.shop_code, second.shop_name, 1]]
    assert steps.attrs == {"shoppers": 3, "multi_shop_visitors": 2}
    empty = data.journeys(clickhouse, m, WEEK_BEFORE, layout_shops(known_day))
    assert empty.empty and empty.attrs == {"shoppers": 0, "multi_shop_visitors": 0}


def test_consumer_lag_per_partition_from_the_group_and_the_jobs_position(stack, unique):
    from kafka import TopicPartition
    from kafka.admin import NewTopic
    from kafka.structs import OffsetAndMetadata

    topic, group = f"lag-test-{unique}", f"lag-test-{unique}"
    clients.kafka_admin(stack.kafka).create_topics([NewTopic(topic, 3, 1)])
    producer = clients.kafka_producer(stack.kafka)
    for partition, messages in ((0, 10), (1, 4)):
        for _ in range(messages):  # one at a time: a batch's end offset is reported late by some brokers
            producer.send(topic, b"{}", partition=partition).get(10)
    committer = clients.kafka_consumer(stack.kafka, group_id=group, enable_auto_commit=False)
    committer.assign([TopicPartition(topic, 0)])
    committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(6, "", -1)})
    committer.close()

    reader = clients.kafka_consumer(stack.kafka, group_id=group, enable_auto_commit=False)
    lag = health.consumer_lag(reader, [topic])
    assert lag.astype(object).where(lag.notna(), None).values.tolist() == [
        [topic, 0, 10, None, 6, 4], [topic, 1, 4, None, None, 4], [topic, 2, 0, None, None, 0]]
    # Where the job has read further than it committed, the lag counts from there.
    ahead = health.consumer_lag(reader, [topic], {(topic, 0): 9, (topic, 1): 4})
    assert ahead["lag"].tolist() == [1, 0, 0] and ahead["read"].tolist()[:2] == [9, 4]
    assert health.topic_totals(lag) == {topic: 14}
    # The job's position, read from Flink a moment before, can be past the end the broker
    # reports a moment after (some brokers report the end a batch short): the end is at least
    # what was read, so the two never contradict.
    past = health.consumer_lag(reader, [topic], {(topic, 1): 6})
    assert past.loc[1, ["end_offset", "read", "lag"]].tolist() == [6, 6, 0]
    reader.close()


def test_dead_letters_and_output_ages_from_the_job_s_hashes(stack, unique):
    redis = clients.redis_client(stack.redis)
    letters, outputs = f"ff:test-{unique}:dead_letters", f"ff:test-{unique}:outputs"
    redis.hset(letters, mapping={"wifi-probes:not_json": 3, "wifi-probes:late": 7, "door-sensors:late": 1,
                                 "someone-else:late": 99})
    redis.hset(outputs, mapping={"mall_daily": "2031-03-05T10:00:00.000Z", "positions": "2031-03-05T10:00:58.500Z"})
    try:
        frame = health.dead_letters(redis, ["wifi-probes", "door-sensors"], key=letters)
        assert frame.values.tolist() == [["wifi-probes", "late", 7], ["wifi-probes", "not_json", 3],
                                         ["door-sensors", "late", 1]]
        from datetime import UTC, datetime
        ages = health.output_ages(redis, datetime(2031, 3, 5, 10, 1, tzinfo=UTC), key=outputs).set_index("output")
        assert ages.at["mall_daily", "age_seconds"] == 60 and ages.at["positions", "age_seconds"] == 1.5
        assert pd.isna(ages.at["shop_daily", "age_seconds"])  # never written
    finally:
        redis.delete(letters, outputs)


def test_job_status_without_a_flink_rest_api_is_an_os_error():
    from ops.processes import free_port

    with pytest.raises(OSError):
        health.flink_job(f"http://127.0.0.1:{free_port()}")


def test_the_portfolio_puts_each_mall_on_its_local_today_against_last_week(known_day, clickhouse):
    mall = known_day.mall
    malls = pd.DataFrame([(mall.mall_id, mall.name, mall.tz)], columns=["mall_id", "name", "tz"])
    redis = clients.redis_client(known_day.settings.redis)
    at = datetime.combine(DAY, datetime.min.time().replace(hour=15, minute=10), ZoneInfo(mall.tz))
    row = data.portfolio(redis, clickhouse, malls, at).iloc[0].to_dict()
    assert {k: row[k] for k in ("mall_id", "day", "visitors", "hours_so_far", "last_week_hours", "change",
                                "occupancy", "capture_rate", "top_shop", "top_shop_visitors")} == {
        "mall_id": mall.mall_id, "day": DAY, "visitors": 120, "hours_so_far": 120, "last_week_hours": 40,
        "change": 2.0, "occupancy": None, "capture_rate": 0.6, "top_shop": known_day.first.shop_name,
        "top_shop_visitors": 30}
    # At 10:03 the 10:00 hour is not closed yet: nothing of either day is compared.
    early = data.portfolio(redis, clickhouse, malls, at.replace(hour=10, minute=3)).iloc[0]
    assert (early["hours_so_far"], early["last_week_hours"], early["change"]) == (0, 0, None)
    # On another day, the live hash (of DAY) is not that day's: no live numbers.
    other = data.portfolio(redis, clickhouse, malls, at + timedelta(days=1)).iloc[0]
    assert other["visitors"] is None and other["occupancy"] is None and other["top_shop"] is None


def test_the_expected_footfall_of_a_day_rests_on_its_weekday_a_week_before_and_scales_with_the_day(
        known_day, clickhouse):
    """footfall/expected.py through ClickHouse: DAY's 10:00 usually brings what the same
    weekday's 10:00 brought a week before (40, its one week); at 15:10 the day has counted
    120 (50 + 70) where 40 was usual, with all the usual day gone: three times the usual,
    so 120 is expected at 10:00."""
    mall = known_day.mall
    at = datetime.combine(DAY, datetime.min.time().replace(hour=15, minute=10), ZoneInfo(mall.tz))
    assert expected.refresh(known_day.settings, now=at, only=[(mall.mall_id, mall.tz)]) > 0
    hours = data.expected_hours(clickhouse, mall.mall_id, DAY).set_index("hour")
    assert list(hours.index) == [10, 14]  # 14:00 counted nothing that week: 0 is usual
    assert hours.loc[10, ["baseline", "expected", "weeks"]].tolist() == [40, 120, 1]
    assert hours.loc[14, ["baseline", "expected"]].tolist() == [0, 0]
    assert hours.loc[10, "low"] == pytest.approx(40 - 2 * 40 ** 0.5)
    malls = pd.DataFrame([(mall.mall_id, mall.name, mall.tz)], columns=["mall_id", "name", "tz"])
    redis = clients.redis_client(known_day.settings.redis)
    assert data.portfolio(redis, clickhouse, malls, at).iloc[0]["usual_hours"] == 40
    assert data.usual_so_far(clickhouse, mall.mall_id, DAY, 10) == 0  # 10:00 not closed at 10:03
    assert data.usual_so_far(clickhouse, mall.mall_id, DAY + timedelta(days=1), 24) is None  # nothing held
