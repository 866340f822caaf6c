"""The ClickHouse writer: every output with columns (footfall/outputs.py), one INSERT per
batch; a versioned table gets a larger version, so a row written again replaces the old.
A mall-day that is final (restated: footfall/restatement.py) is no longer written: only a
restatement changes it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from footfall.outputs import DATES, EPOCH_SECONDS, OUTPUTS
from footfall.restatement import RESTATED, FinalDays
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
        self.final = FinalDays(self.client)

    def handles(self, output: str) -> bool:
        return bool(OUTPUTS[output].columns)

    def write(self, output: str, rows: list[dict[str, Any]], updated_at: str) -> None:
        """Upsert into a versioned table (a larger version replaces), append to a plain one."""
        if rows and output in RESTATED:
            final = self.final.get()
            rows = [row for row in rows if (row["mall_id"], row["day"]) not in final]
        if rows:
            insert(self.client, output, rows, time.time_ns())

    def close(self) -> None:
        self.client.disconnect()


def insert(client: Any, output: str, rows: list[dict[str, Any]], version: int) -> None:
    """One INSERT of `rows` into `output`'s table; a versioned table's rows get `version`."""
    spec = OUTPUTS[output]
    stamp = [version] if spec.versioned else []
    columns = [*spec.columns, *(["version"] if spec.versioned else [])]
    values = [[clickhouse_value(c, row[c]) for c in spec.columns] + stamp for row in rows]
    client.execute(f"INSERT INTO {output} ({', '.join(columns)}) VALUES", values)


def replace_day(client: Any, mall_id: str, day: date, rows: dict[str, list[dict[str, Any]]], version: int,
                ready: Callable[[], None] = lambda: None) -> None:
    """A restatement's write (jobs/metrics/restate.py): the mall-day's rows of every
    RESTATED output with `version`, which replaces the live rows of the same keys at once;
    then, once `ready` returns, every older row of that mall-day is deleted (a key the
    restatement no longer has: a shop the day's corrected layout did not see). Waits for
    ClickHouse to have applied the deletes."""
    for output in RESTATED:
        if rows.get(output):
            insert(client, output, rows[output], version)
    ready()
    for output in RESTATED:
        client.execute(f"ALTER TABLE {output} DELETE WHERE mall_id = %(m)s AND day = %(d)s AND version < %(v)s",
                       {"m": mall_id, "d": day, "v": version})
    while client.execute("SELECT count() FROM system.mutations WHERE database = currentDatabase() "
                         "AND table IN %(tables)s AND is_done = 0", {"tables": RESTATED})[0][0]:
        time.sleep(0.2)  # ClickHouse applies a mutation in the background; 18.16 cannot be told to wait
