"""The metric values a run produced, in one shape for every variant, and their comparison.

A run's values are a `Metrics`: per output table, key -> values, with the bench mall's
days as ISO strings. The production job's are read where it wrote them (ClickHouse with
FINAL, and Redis for the rejects); the baseline's from its upsert-kafka topics, folded to
the latest value per key as any consumer of such a topic would.
"""

from __future__ import annotations

import json
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from dashboards.health import dead_letters
from footfall import clients
from footfall.outputs import OUTPUTS
from footfall.settings import ClickHouseSettings, KafkaSettings, RedisSettings, Topics

Metrics = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]

#: Output table -> (key columns after mall_id, value columns), from the outputs' one
#: definition (footfall/outputs.py), for the versioned per-mall tables.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    o.name: (o.key[1:], tuple(c for c in o.columns if c not in o.key))
    for o in OUTPUTS.values() if o.columns and o.versioned
}
REJECTS = "dead_letter_counts"


def _plain(value: Any) -> Any:
    """One spelling per value: days as ISO text, every integer a Python int."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return int(value) if isinstance(value, int) else value


def _row(table: str, row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    keys, values = TABLES[table]
    return tuple(_plain(row[k]) for k in keys), tuple(_plain(row[v]) for v in values)


def _contract_topic(topic: str, kafka: KafkaSettings) -> str:
    return {kafka.wifi_probes_topic: Topics.WIFI_PROBES, kafka.door_sensors_topic: Topics.DOOR_SENSORS}.get(
        topic, topic
    )


def production_metrics(
    clickhouse: ClickHouseSettings, redis: RedisSettings, kafka: KafkaSettings, mall_id: str
) -> tuple[Metrics, int]:
    """What the production job wrote for `mall_id`, and how many positions."""
    client = clients.clickhouse(clickhouse)
    metrics: Metrics = {}
    try:
        for table, (keys, values) in TABLES.items():
            columns = [*keys, *values]
            rows = client.execute(
                f"SELECT {', '.join(columns)} FROM {table} FINAL WHERE mall_id = %(m)s", {"m": mall_id}
            )
            metrics[table] = dict(_row(table, dict(zip(columns, row, strict=True))) for row in rows)
        positions = client.execute("SELECT count() FROM positions WHERE mall_id = %(m)s", {"m": mall_id})[0][0]
    finally:
        client.disconnect()
    rejects = dead_letters(clients.redis_client(redis), kafka.input_topics)
    metrics[REJECTS] = {
        (_contract_topic(row.topic, kafka), row.reason): (int(row.messages),) for row in rejects.itertuples()
    }
    return metrics, int(positions)


def read_upserts(
    kafka: KafkaSettings, topics: list[str], idle_s: float = 3.0
) -> dict[str, dict[str, dict[str, Any] | None]]:
    """Per topic, the latest value per key of an upsert topic (None for a key deleted
    last). One consumer reads them all until none has had a message for `idle_s` (the
    broker's end offsets trail, docs/design.md section 2)."""
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.servers, enable_auto_commit=False, consumer_timeout_ms=int(idle_s * 1000)
    )
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        latest: dict[str, dict[str, dict[str, Any] | None]] = {topic: {} for topic in topics}
        for message in consumer:
            latest[message.topic][message.key.decode()] = (
                json.loads(message.value) if message.value is not None else None
            )
        return latest
    finally:
        consumer.close()


def baseline_metrics(kafka: KafkaSettings, topics: dict[str, str], mall_id: str) -> tuple[Metrics, int]:
    """The baseline's results for `mall_id`, assembled into the production job's tables:
    mall_daily's new and returning visitors come from the new-visitor metric of their own,
    staff_devices is 0."""
    read = read_upserts(kafka, list(topics.values()))

    def rows(name: str) -> list[dict[str, Any]]:
        # No staff: the baseline does not detect them, and the bench's input is shorter
        # than the staff rule's days, so the job finds none either.
        return [{"staff_devices": 0, **v} for v in read[topics[name]].values()
                if v is not None and v.get("mall_id", mall_id) == mall_id]

    metrics: Metrics = {}
    new = {row["day"]: row["new_visitors"] for row in rows("new_visitors")}
    metrics["mall_daily"] = dict(
        _row(
            "mall_daily",
            {
                **row,
                "new_visitors": new.get(row["day"], 0),
                "returning_visitors": row["visitors"] - new.get(row["day"], 0),
            },
        )
        for row in rows("mall_daily")
    )
    for table in TABLES:
        if table != "mall_daily" and table in topics:  # it computes items 1-10, not engagement
            metrics[table] = dict(_row(table, row) for row in rows(table))
    metrics[REJECTS] = {
        (_contract_topic(row["source_topic"], kafka), row["reason"]): (row["messages"],)
        for row in rows("dead_letter_counts")
    }
    return metrics, len(rows("positions"))


def differences(expected: Metrics, actual: Metrics, limit: int = 5) -> list[str]:
    """What differs between two runs' values, table by table: keys only one of them has and
    keys whose values differ (at most `limit` examples per table). Empty when identical."""
    found = []
    for table in sorted(set(expected) | set(actual)):
        ours, theirs = expected.get(table, {}), actual.get(table, {})
        wrong = [
            f"{key}: {ours.get(key)} != {theirs.get(key)}"
            for key in sorted(set(ours) | set(theirs), key=repr)
            if ours.get(key) != theirs.get(key)
        ]
        if wrong:
            found.append(
                f"{table}: {len(wrong)} of {len(set(ours) | set(theirs))} keys differ, e.g. " + "; ".join(wrong[:limit])
            )
    return found


def size(metrics: Metrics) -> dict[str, int]:
    return {table: len(rows) for table, rows in metrics.items()}
