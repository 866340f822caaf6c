"""Client factories for the services, built from settings.

Every component (stack, jobs' sinks, simulator, dashboards, tests) connects through
these, so timeouts and credentials are handled in one place.
"""

from __future__ import annotations

import clickhouse_driver
import psycopg
import redis
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from footfall.settings import (
    ClickHouseSettings,
    KafkaSettings,
    PostgresSettings,
    RedisSettings,
)


def kafka_admin(settings: KafkaSettings, timeout_ms: int = 5000) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.servers,
        request_timeout_ms=timeout_ms,
        api_version_auto_timeout_ms=timeout_ms,
        client_id="footfall-admin",
    )


def kafka_producer(settings: KafkaSettings, **options: object) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=settings.servers, client_id="footfall-producer", **options)


def kafka_consumer(settings: KafkaSettings, **options: object) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=settings.servers, **options)


def clickhouse(settings: ClickHouseSettings, database: str | None = None) -> clickhouse_driver.Client:
    """A native-protocol client; `database=""` connects without choosing one."""
    return clickhouse_driver.Client(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password.get_secret_value(),
        database=settings.database if database is None else database or "default",
        connect_timeout=3,
        send_receive_timeout=60,
    )


def redis_client(settings: RedisSettings) -> redis.Redis:
    return redis.Redis(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        password=settings.password.get_secret_value() or None,
        socket_connect_timeout=3,
        # A server that hangs (not down, just silent) must not hold a caller forever.
        socket_timeout=60,
        decode_responses=True,
    )


def postgres(settings: PostgresSettings, database: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(**settings.conninfo(database), autocommit=autocommit)
