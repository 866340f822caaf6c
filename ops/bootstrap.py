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
from footfall.outputs import OUTPUTS, Output
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

def render(name: str, **identifiers: str) -> list[str]:
    """The statements of a schema file with its identifiers substituted."""
    return sql.split(Template((SCHEMA / name).read_text()).substitute(identifiers))


def output_table(database: str, output: Output) -> str:
    """The CREATE TABLE of an output, from its definition (footfall/outputs.py)."""
    columns = [*output.fields, *([("version", "UInt64")] if output.versioned else [])]
    engine = "ReplacingMergeTree(version)" if output.versioned else "MergeTree()"
    partition = f"\nPARTITION BY {output.partition_by}" if output.partition_by else ""
    return (f"CREATE TABLE IF NOT EXISTS {database}.{output.name} (\n"
            + ",\n".join(f"    {name} {kind}" for name, kind in columns)
            + f"\n) ENGINE = {engine}{partition}\nORDER BY ({', '.join(output.key)})")


def clickhouse_tables(settings: ClickHouseSettings, metrics: MetricSettings | None = None) -> list[str]:
    """Create the outputs' missing tables, add the columns a newer release defines to
    tables made before (ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS; old rows read
    0), and make the views anew (loyalty_daily and people_daily with `metrics`' mall
    minimum dwell; by default the environment's)."""
    database = identifier(settings.database, ClickHouseSettings.env_name("database"))
    dwell = (metrics or Settings().metrics).mall_min_dwell_seconds
    statements = render("clickhouse.sql", database=database, mall_min_dwell_seconds=str(dwell))
    client = clients.clickhouse(settings, database="")
    try:
        client.execute(statements[0])  # CREATE DATABASE
        for output in OUTPUTS.values():
            if output.table is None:
                continue
            client.execute(output_table(database, output))
            present = {row[0] for row in client.execute(f"DESCRIBE TABLE {database}.{output.name}")}
            for name, kind in output.fields:
                if name not in present:
                    client.execute(f"ALTER TABLE {database}.{output.name} ADD COLUMN {name} {kind}")
        for statement in statements[1:]:
            client.execute(statement)
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


def kafka_topics(settings: KafkaSettings, retention_days: int | None = None) -> list[str]:
    """Create the topics that are missing. With `retention_days`, the input topics (raw
    MACs by nature) and the dead letters are created with that retention.ms
    (docs/privacy.md); a broker that does not enforce it (the local Tansu) keeps them."""
    admin = clients.kafka_admin(settings)
    kept = {settings.wifi_probes_topic, settings.door_sensors_topic, settings.pos_transactions_topic,
            settings.dead_letters_topic}
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(topic, settings.partitions_of(topic), settings.replication_factor,
                     topic_configs={"retention.ms": str(retention_days * 86_400_000)}
                     if retention_days and topic in kept else {})
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
    topics = kafka_topics(settings.kafka, settings.privacy.retention_topics_days)
    report(f"kafka       topics: {', '.join(topics)} (inputs and dead letters kept "
           f"{settings.privacy.retention_topics_days} days where the broker enforces retention.ms)")
