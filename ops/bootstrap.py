"""Idempotent schema bootstrap: ClickHouse tables, PostgreSQL dimension tables, Kafka topics.

Safe to run any number of times against a running stack or production systems: it only
creates what is missing (tables, topics, and columns a newer release added to a table) and
never drops or changes data that exists; the ClickHouse views, which hold none, are made anew.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from string import Template

import psycopg
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from footfall import clients
from footfall.schema import identifier, postgres_schema
from footfall.settings import (
    ClickHouseSettings,
    KafkaSettings,
    MetricSettings,
    PostgresSettings,
    Settings,
)
from jobs import sql

SCHEMA = Path(__file__).parent / "schema"

#: Columns added to a ClickHouse table after its first release, in the order of
#: clickhouse.sql (where they come last): a table made before gets them from bootstrap, as
#: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS. Old rows read 0.
ADDED_COLUMNS = {
    "mall_daily": (("devices_seen", "UInt64"), ("passers_by", "UInt64"), ("staff_devices", "UInt64")),
    "mall_hourly": (("devices_seen", "UInt64"), ("passers_by", "UInt64"), ("staff_devices", "UInt64")),
    "shop_daily": (("devices_seen", "UInt64"), ("walk_bys", "UInt64")),
}


def render(name: str, **identifiers: str) -> list[str]:
    """The statements of a schema file with its identifiers substituted."""
    return sql.split(Template((SCHEMA / name).read_text()).substitute(identifiers))


def clickhouse_tables(settings: ClickHouseSettings, metrics: MetricSettings | None = None) -> list[str]:
    """Create the missing tables, add columns to tables made before, and make the views
    anew (loyalty_daily and people_daily with `metrics`' mall minimum dwell; by default the
    environment's)."""
    database = identifier(settings.database, ClickHouseSettings.env_name("database"))
    dwell = (metrics or Settings().metrics).mall_min_dwell_seconds
    client = clients.clickhouse(settings, database="")
    try:
        for statement in render("clickhouse.sql", database=database, mall_min_dwell_seconds=str(dwell)):
            client.execute(statement)
        for table, columns in ADDED_COLUMNS.items():
            present = {row[0] for row in client.execute(f"DESCRIBE TABLE {database}.{table}")}
            for name, kind in columns:
                if name not in present:
                    client.execute(f"ALTER TABLE {database}.{table} ADD COLUMN {name} {kind}")
        return [row[0] for row in client.execute(f"SHOW TABLES FROM {database}")]
    finally:
        client.disconnect()


#: PostgreSQL tables of the staff (postgres.sql): written by the job and by operators.
def postgres_tables(settings: PostgresSettings) -> list[str]:
    schema = postgres_schema(settings)
    _ensure_database(settings)
    with clients.postgres(settings) as conn:
        for statement in render("postgres.sql", schema=schema):
            conn.execute(statement)
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (schema,)
        ).fetchall()
    return [row[0] for row in rows]


def _ensure_database(settings: PostgresSettings) -> None:
    """Create the database on a fresh local server; an existing one is used as it is."""
    try:
        clients.postgres(settings).close()
        return
    except psycopg.OperationalError as err:
        if "does not exist" not in str(err):
            raise
    with clients.postgres(settings, database="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (settings.database,)).fetchone()
        if not exists:
            name = identifier(settings.database, PostgresSettings.env_name("database"))
            conn.execute(f'CREATE DATABASE "{name}"')


def kafka_topics(settings: KafkaSettings) -> list[str]:
    admin = clients.kafka_admin(settings)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(topic, settings.partitions_of(topic), settings.replication_factor)
            for topic in settings.topics.values()
            if topic not in existing
        ]
        for topic in wanted:  # one at a time: a concurrent creator must not fail the others
            try:
                admin.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
        return sorted(set(admin.list_topics()) & set(settings.topics.values()))
    finally:
        admin.close()


def bootstrap(settings: Settings, report: Callable[[str], None] = print) -> None:
    report(f"clickhouse  tables: {', '.join(clickhouse_tables(settings.clickhouse, settings.metrics))}")
    report(f"postgres    tables: {', '.join(postgres_tables(settings.postgres))}")
    report(f"kafka       topics: {', '.join(kafka_topics(settings.kafka))}")
