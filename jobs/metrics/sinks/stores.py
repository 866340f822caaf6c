"""The stores one sink worker writes through, opened once: ClickHouse, Redis and
PostgreSQL, each with its own writer and its own say of which outputs it takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from footfall.outputs import OUTPUT_UPDATES
from jobs.metrics.sinks.clickhouse import ClickHouseWriter
from jobs.metrics.sinks.config import SinkConfig
from jobs.metrics.sinks.postgres import PostgresWriter
from jobs.metrics.sinks.redis import RedisWriter


class Store(Protocol):
    name: str

    def handles(self, output: str) -> bool: ...

    def write(self, output: str, rows: list[dict[str, Any]], updated_at: str) -> None: ...

    def close(self) -> None: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Writers:
    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.redis = RedisWriter(config)
        self.stores: tuple[Store, ...] = (ClickHouseWriter(config), self.redis, PostgresWriter(config))

    def close(self) -> None:
        for store in self.stores:
            store.close()

    def steps(self, output: str, upserts: list[dict[str, Any]]) -> list[tuple[str, Callable[[], None]]]:
        """What writing a batch of `output` takes: (store, write) in order. A step that
        fails is tried again later; the steps before it are not repeated."""
        if not upserts:
            return []
        updated_at = now_iso()
        return [(store.name, partial(store.write, output, upserts, updated_at))
                for store in self.stores if store.handles(output)]

    def write(self, output: str, upserts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> None:
        """A batch of `output` to every store at once, raising on the first failure: what a
        flush does, without the sink's state and retries (for tools and tests)."""
        for _, step in self.steps(output, upserts):
            step()
        self.mark_updated(output)

    def mark_updated(self, output: str) -> None:
        """When each output was last written (the System page's freshness), best effort:
        a Redis outage must not hold back outputs that go elsewhere."""
        try:
            self.redis.client.hset(OUTPUT_UPDATES, output, now_iso())
        except Exception:  # noqa: BLE001 - Redis down; the next batch sets it
            pass
