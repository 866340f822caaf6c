"""The ClickHouse writer: every output with columns (footfall/outputs.py), one INSERT per
batch; a versioned table gets a larger version, so a row written again replaces the old."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from footfall.outputs import DATES, EPOCH_SECONDS, OUTPUTS
from jobs.metrics.sinks.config import SinkConfig


def clickhouse_value(column: str, value: object) -> object:
    """A payload value as the driver takes it: DATES are ISO dates, EPOCH_SECONDS columns
    epoch seconds."""
    if column in DATES:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    if column in EPOCH_SECONDS:
        return datetime.fromtimestamp(value, UTC)  # type: ignore[arg-type]
    return value


class ClickHouseWriter:
    name = "clickhouse"

    def __init__(self, config: SinkConfig) -> None:
        from footfall import clients

        self.client = clients.clickhouse(config.clickhouse)

    def handles(self, output: str) -> bool:
        return bool(OUTPUTS[output].columns)

    def write(self, output: str, rows: list[dict[str, Any]], updated_at: str) -> None:
        """Upsert into a versioned table (a larger version replaces), append to a plain one."""
        if not rows:
            return
        spec = OUTPUTS[output]
        version = [time.time_ns()] if spec.versioned else []
        columns = [*spec.columns, *(["version"] if spec.versioned else [])]
        values = [[clickhouse_value(c, row[c]) for c in spec.columns] + version for row in rows]
        self.client.execute(f"INSERT INTO {output} ({', '.join(columns)}) VALUES", values)

    def close(self) -> None:
        self.client.disconnect()
