"""The PostgreSQL writer: the staff the job detects, where its ingestion reads them back
(udfs/java Layout.java); the job's latest word on a device replaces the row. Connected
when first needed, and again after a failure."""

from __future__ import annotations

from typing import Any

from footfall.schema import postgres_schema
from jobs.metrics.sinks.config import SinkConfig


class PostgresWriter:
    name = "postgres"
    OUTPUTS = ("staff_detected",)

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.connection: Any = None

    def handles(self, output: str) -> bool:
        return output in self.OUTPUTS

    def write(self, output: str, rows: list[dict[str, Any]], updated_at: str) -> None:
        from footfall import clients

        if not rows:
            return
        schema = postgres_schema(self.config.postgres)
        try:
            if self.connection is None or self.connection.closed:
                self.connection = clients.postgres(self.config.postgres, autocommit=True)
            with self.connection.transaction():
                self.connection.cursor().executemany(
                    f"INSERT INTO {schema}.staff_detected (mall_id, device_id, qualified_day, since_day)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (mall_id, device_id) DO UPDATE"
                    " SET qualified_day = EXCLUDED.qualified_day, since_day = EXCLUDED.since_day, detected_at = now()",
                    [(r["mall_id"], r["device_id"], r["qualified_day"], r["since_day"]) for r in rows],
                )
        except Exception:
            if self.connection is not None:
                self.connection.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
