"""`footfall reset`: back to a clean slate.

Removes what the product stored: every ClickHouse table's rows, the Redis keys under
`ff:`, the Kafka topics (recreated empty) and the job's consumer group, the PostgreSQL
layout and staff tables, the job's checkpoints and savepoints, and the demo's state.
Tables, topics and the services stay, so `footfall demo` or `footfall up` starts again
from nothing. The metrics job and the simulator are stopped first (the job's state would
otherwise remember every device).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from kafka.errors import GroupIdNotFoundError, KafkaError, UnknownTopicOrPartitionError

from footfall import clients
from footfall.schema import ALERT_TABLES, PRIVACY_TABLES, STAFF_TABLES, identifier, postgres_schema
from footfall.settings import Settings
from ops import bootstrap

Report = Callable[[str], None]

#: Redis keys the product writes (footfall/outputs.py); nothing else in the database.
REDIS_PATTERN = "ff:*"
#: PostgreSQL layout tables, children first (foreign keys).
LAYOUT_TABLES = ("shop_fronts", "entrances", "probes", "shops", "malls")


def clear_clickhouse(settings: Settings) -> int:
    database = identifier(settings.clickhouse.database, "FOOTFALL_CLICKHOUSE_DATABASE")
    client = clients.clickhouse(settings.clickhouse)
    try:
        # Views hold no data (and cannot be truncated).
        tables = [row[0] for row in client.execute(
            "SELECT name FROM system.tables WHERE database = %(db)s AND engine != 'View'", {"db": database})]
        for table in tables:
            client.execute(f"TRUNCATE TABLE IF EXISTS {database}.`{table}`")
        return len(tables)
    finally:
        client.disconnect()


def clear_redis(settings: Settings) -> int:
    client = clients.redis_client(settings.redis)
    try:
        removed = 0
        batch: list[str] = []
        for key in client.scan_iter(REDIS_PATTERN, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += client.delete(*batch)
                batch.clear()
        if batch:
            removed += client.delete(*batch)
        return removed
    finally:
        client.close()


def clear_kafka(settings: Settings) -> list[str]:
    """Delete the product's topics and the job's consumer group; recreate the topics empty."""
    admin = clients.kafka_admin(settings.kafka)
    try:
        ours = sorted(set(admin.list_topics()) & set(settings.kafka.topics.values()))
        for topic in ours:
            try:
                admin.delete_topics([topic])
            except UnknownTopicOrPartitionError:
                pass
        try:
            admin.delete_consumer_groups([settings.job.group_id])
        except (GroupIdNotFoundError, KafkaError):
            pass  # never committed (a job that has not checkpointed), or already gone
    finally:
        admin.close()
    bootstrap.kafka_topics(settings.kafka, settings.privacy.retention_topics_days)
    return ours


def clear_postgres(settings: Settings) -> None:
    schema = postgres_schema(settings.postgres)
    with clients.postgres(settings.postgres) as conn:
        # The alert rules name their mall (a foreign key): emptied in the same statement.
        tables = LAYOUT_TABLES + STAFF_TABLES + PRIVACY_TABLES + ALERT_TABLES
        conn.execute(f"TRUNCATE {', '.join(f'{schema}.{t}' for t in tables)}")


def reset(settings: Settings, report: Report = print) -> None:
    """Remove every row, key, message, checkpoint and demo file the product stored."""
    report(f"{'clickhouse':<11} emptied {clear_clickhouse(settings)} tables")
    report(f"{'redis':<11} removed {clear_redis(settings):,} keys ({REDIS_PATTERN})")
    report(f"{'kafka':<11} recreated empty: {', '.join(clear_kafka(settings))}")
    clear_postgres(settings)
    emptied = ", ".join(LAYOUT_TABLES + STAFF_TABLES + PRIVACY_TABLES + ALERT_TABLES)
    report(f"{'postgres':<11} emptied the layout, the staff, the privacy registries and the alerts ({emptied})")
    for folder, what in ((settings.job.checkpoint_dir, "checkpoints"), (settings.job.savepoint_dir, "savepoints"),
                         (settings.stack.var_dir / "demo", "demo state")):
        shutil.rmtree(folder, ignore_errors=True)
        report(f"{'files':<11} removed the {what} ({folder})")
