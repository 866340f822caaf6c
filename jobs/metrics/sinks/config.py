"""What the sinks are told: the stores' settings and how patient to be with them."""

from __future__ import annotations

from dataclasses import dataclass

from footfall.settings import ClickHouseSettings, PostgresSettings, RedisSettings


@dataclass(frozen=True)
class SinkConfig:
    clickhouse: ClickHouseSettings
    redis: RedisSettings
    postgres: PostgresSettings
    flush_interval_ms: int = 1000
    #: A device's favourite-shop entry in Redis outlives its day by this much.
    favorite_ttl_seconds: int = 2 * 86400
    #: A live position is dropped this long after the mall's newest one.
    position_ttl_seconds: int = 300
    #: Rows an output may hold while its store is down before the sink waits for it.
    buffer_rows: int = 200_000
    #: Longest wait between two tries of a store that does not answer.
    max_backoff_seconds: float = 30.0
