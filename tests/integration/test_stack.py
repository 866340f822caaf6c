"""The local stack answers, holds the schema of docs/design.md §3/§5, and moves a message."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from kafka import TopicPartition

from footfall import clients
from footfall.settings import Settings, Topics
from ops import bootstrap, manager
from tests.stack.test_bootstrap import CONTRACT

pytestmark = pytest.mark.integration


def test_every_component_answers_with_its_version(stack: Settings) -> None:
    rows = {row.component: row for row in manager.status(stack)}
    assert set(rows) == {"kafka", "clickhouse", "redis", "postgres", "flink", "metrics"}
    # The test stack runs no metrics job of its own; the job tests start theirs.
    assert all(row.healthy for name, row in rows.items() if name != "metrics"), rows
    assert rows["clickhouse"].version.split(".")[0].isdigit()
    assert rows["redis"].version.startswith("7.")
    assert rows["postgres"].version.startswith("15")
    assert "connector jars 5/5" in rows["flink"].version


def test_clickhouse_holds_every_contract_table_with_its_engine(stack: Settings) -> None:
    client = clients.clickhouse(stack.clickhouse)
    engines = dict(
        client.execute(
            "SELECT name, engine FROM system.tables WHERE database = %(db)s", {"db": stack.clickhouse.database}
        )
    )
    assert set(CONTRACT) <= set(engines)
    replacing = {name for name, engine in engines.items() if engine == "ReplacingMergeTree"}
    assert replacing == set(CONTRACT) - {"positions"} | {"expected_hourly", "alerts", "restated_days"}
    assert {name for name, engine in engines.items() if engine == "View"} == {
        "dwell_daily", "shop_journeys_daily", "shoppers_daily", "loyalty_daily", "people_daily", "people_hourly",
        "shop_people_daily", "shop_sales_daily", "mall_sales_daily", "mall_sales_hourly"}
    columns = client.execute(
        "SELECT name FROM system.columns WHERE database = %(db)s AND table = 'favorite_shop_daily'",
        {"db": stack.clickhouse.database},
    )
    assert [c for (c,) in columns][:-1] == CONTRACT["favorite_shop_daily"]


def test_postgres_holds_the_dimension_tables_with_their_keys(stack: Settings) -> None:
    with clients.postgres(stack.postgres) as conn:
        keys = conn.execute(
            """
            SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position)
            FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
            WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = %s
            GROUP BY tc.table_name
            """,
            (stack.postgres.schema_name,),
        ).fetchall()
    assert dict(keys) == {
        "malls": "mall_id",
        "shops": "mall_id,shop_code",
        "probes": "ap_mac",
        "shop_fronts": "mall_id,shop_code,ap_mac",
        "entrances": "sensor_id",
        "staff_detected": "mall_id,device_id",
        "staff_overrides": "mall_id,device_id",
        "privacy_opt_outs": "device_id",
        "privacy_consents": "device_id",
        "privacy_requests": "request_id",
        "alert_rules": "mall_id,rule,subject",
        "alerts": "alert_id",
        "webhooks": "webhook_id",
        "alert_deliveries": "event_id,target",
    }


def test_topics_exist_with_their_configured_partitions(stack: Settings) -> None:
    consumer = clients.kafka_consumer(stack.kafka)
    try:
        for topic in Topics.ALL:
            assert len(consumer.partitions_for_topic(topic) or ()) == stack.kafka.partitions_of(topic), topic
    finally:
        consumer.close()


def test_bootstrap_again_keeps_what_is_stored(stack: Settings, unique: str) -> None:
    scratch = stack.clickhouse.model_copy(update={"database": f"ff_test_{unique}"})
    client = clients.clickhouse(scratch, database="")
    try:
        bootstrap.clickhouse_tables(scratch)
        client.execute(
            f"INSERT INTO {scratch.database}.peak_hour_daily (mall_id, day, hour, visitors, version) VALUES",
            [("m1", datetime.date(2026, 11, 20), 17, 42, 1)],
        )
        assert bootstrap.clickhouse_tables(scratch) == bootstrap.clickhouse_tables(scratch)
        assert client.execute(f"SELECT hour, visitors FROM {scratch.database}.peak_hour_daily FINAL") == [(17, 42)]
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {scratch.database}")
    assert bootstrap.postgres_tables(stack.postgres) == [
        "alert_deliveries", "alert_rules", "alerts", "entrances", "malls", "privacy_consents", "privacy_opt_outs",
        "privacy_requests", "probes", "shop_fronts", "shops", "staff_detected", "staff_overrides", "webhooks"]
    assert set(bootstrap.kafka_topics(stack.kafka)) == set(Topics.ALL)


def test_bootstrap_adds_the_columns_a_newer_release_added_and_keeps_the_rows(stack: Settings, unique: str) -> None:
    scratch = stack.clickhouse.model_copy(update={"database": f"ff_test_{unique}"})
    client = clients.clickhouse(scratch, database="")
    try:
        # mall_daily as the first release made it, with a row.
        client.execute(f"CREATE DATABASE {scratch.database}")
        client.execute(
            f"CREATE TABLE {scratch.database}.mall_daily (mall_id String, day Date, visitors UInt64, "
            "new_visitors UInt64, returning_visitors UInt64, randomized_devices UInt64, door_entries UInt64, "
            "version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (mall_id, day)"
        )
        client.execute(f"INSERT INTO {scratch.database}.mall_daily VALUES",
                       [("m1", datetime.date(2026, 11, 20), 40, 10, 30, 2, 70, 1)])
        bootstrap.clickhouse_tables(scratch)
        bootstrap.clickhouse_tables(scratch)  # and once more: nothing to add
        columns = [row[0] for row in client.execute(f"DESCRIBE TABLE {scratch.database}.mall_daily")]
        assert columns == ["mall_id", "day", "visitors", "new_visitors", "returning_visitors", "randomized_devices",
                           "door_entries", "version", "devices_seen", "passers_by", "staff_devices"]
        assert client.execute(f"SELECT visitors, devices_seen, passers_by FROM {scratch.database}.mall_daily FINAL") \
            == [(40, 0, 0)]
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {scratch.database}")


def _probe_event(unique: str) -> dict[str, object]:
    return {
        "event_id": f"it-{unique}",
        "ap_mac": "02:00:00:00:00:01",
        "device_mac": "A4-5E-60-C2-11-0F",
        "rssi": -61,
        "occur_time": int(time.time() * 1000),
    }


def test_a_probe_event_produced_to_wifi_probes_is_consumed_back(stack: Settings, unique: str) -> None:
    # A consumer group, as the jobs' consumers and monitoring use: join first, take the
    # end of each partition as the starting point, then produce.
    consumer = clients.kafka_consumer(
        stack.kafka,
        group_id=f"footfall-test-{unique}",
        auto_offset_reset="latest",
        consumer_timeout_ms=1000,
        value_deserializer=lambda raw: json.loads(raw),
    )
    consumer.subscribe([Topics.WIFI_PROBES])
    deadline = time.monotonic() + 60
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    assert consumer.assignment(), "the consumer group never got an assignment"
    for partition in consumer.assignment():
        consumer.position(partition)

    event = _probe_event(unique)
    producer = clients.kafka_producer(stack.kafka, value_serializer=lambda v: json.dumps(v).encode())
    producer.send(Topics.WIFI_PROBES, key=b"a4:5e:60:c2:11:0f", value=event).get(timeout=10)
    producer.close()

    found = None
    try:
        while found is None and time.monotonic() < deadline:
            for message in consumer:
                if message.value.get("event_id") == event["event_id"]:
                    found = message
                    break
    finally:
        consumer.close()
    assert found is not None, "the produced probe event never came back"
    assert found.value == event and found.key == b"a4:5e:60:c2:11:0f"


def test_a_message_can_be_read_back_by_seeking_to_its_offset(stack: Settings, unique: str) -> None:
    producer = clients.kafka_producer(stack.kafka)
    metadata = producer.send(Topics.DEAD_LETTERS, value=f"seek-{unique}".encode()).get(timeout=10)
    producer.close()
    consumer = clients.kafka_consumer(stack.kafka, consumer_timeout_ms=5000)
    partition = TopicPartition(Topics.DEAD_LETTERS, metadata.partition)
    consumer.assign([partition])
    consumer.seek(partition, metadata.offset)
    try:
        first = next(iter(consumer))
    finally:
        consumer.close()
    assert first.value == f"seek-{unique}".encode()


def test_redis_stores_and_returns_a_hash(stack: Settings, unique: str) -> None:
    client = clients.redis_client(stack.redis)
    key = f"ff:test-{unique}:today"
    try:
        client.hset(key, mapping={"visitors": 12, "peak_hour": 17})
        assert client.hgetall(key) == {"visitors": "12", "peak_hour": "17"}
    finally:
        client.delete(key)
