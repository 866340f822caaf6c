"""The Redis writer: the live state (footfall/outputs.py names the keys). Each output it
handles has its handler in HANDLERS; its Lua scripts ship beside this file:
set_for_day.lua (a day's fields, never older than the day stored) and
update_positions.lua (a mall's live positions, zone counts and occupancy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis.client import Pipeline

from footfall.outputs import (
    DEAD_LETTER_COUNTS,
    DOORS,
    FAVORITE,
    FEED_FIELDS,
    INGEST_COUNTS,
    POSITIONS,
    POSITIONS_SEEN,
    PROBES,
    SALES,
    SALES_FIELDS,
    TODAY,
    UNKNOWN_PROBES,
    ZONES,
    capture_rate,
    draw_rate,
)
from jobs.metrics.sinks.config import SinkConfig

SCRIPTS = Path(__file__).parent

Rows = list[dict[str, Any]]


class RedisWriter:
    name = "redis"

    def __init__(self, config: SinkConfig) -> None:
        from footfall import clients

        self.config = config
        self.client = clients.redis_client(config.redis)
        self.set_for_day = self.client.register_script((SCRIPTS / "set_for_day.lua").read_text())
        self.update_positions = self.client.register_script((SCRIPTS / "update_positions.lua").read_text())
        #: The outputs written to Redis, and how.
        self.handlers: dict[str, Callable[[Rows, str], None]] = {
            "mall_daily": self.mall_daily,
            "peak_hour_daily": self.peak_hour_daily,
            "favorite_shop_daily": self.favorite_shop_daily,
            "positions": self.positions,
            "dead_letter_counts": self.dead_letter_counts,
            "ingest_counts": self.ingest_counts,
            "probe_heard": lambda rows, _: self.newest(PROBES, "ap_mac", rows),
            "door_heard": lambda rows, _: self.newest(DOORS, "sensor_id", rows),
            "unknown_probes": self.unknown_probes,
            "sales_daily": self.sales_daily,
        }

    def handles(self, output: str) -> bool:
        return output in self.handlers

    def write(self, output: str, rows: Rows, updated_at: str) -> None:
        self.handlers[output](rows, updated_at)

    def close(self) -> None:
        self.client.close()

    def mall_daily(self, rows: Rows, updated_at: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        for row in rows:
            rate = capture_rate(row["visitors"], row["door_entries"])
            draw = draw_rate(row["visitors"], row["passers_by"])
            fields = {
                "visitors": row["visitors"],
                "new_visitors": row["new_visitors"],
                "returning_visitors": row["returning_visitors"],
                "devices_seen": row["devices_seen"],
                "passers_by": row["passers_by"],
                "staff_devices": row["staff_devices"],
                "randomized_devices": row["randomized_devices"],
                "door_entries": row["door_entries"],
                "capture_rate": "" if rate is None else f"{rate:.4f}",
                "draw_rate": "" if draw is None else f"{draw:.4f}",
                "updated_at": updated_at,
            }
            self._set_for_day(pipe, TODAY.format(**row), row["day"], fields)
        pipe.execute()

    def peak_hour_daily(self, rows: Rows, updated_at: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        for row in rows:
            fields = {"peak_hour": row["hour"], "peak_visitors": row["visitors"], "updated_at": updated_at}
            self._set_for_day(pipe, TODAY.format(**row), row["day"], fields)
        pipe.execute()

    def favorite_shop_daily(self, rows: Rows, updated_at: str) -> None:
        # A row is the feed's message, stamped in the job (11_outputs.sql): its
        # `updated_at` is the one the feed carries.
        pipe = self.client.pipeline(transaction=False)
        for row in rows:
            fields = {name: row.get(name, updated_at) for name in FEED_FIELDS if name != "day"}
            self._set_for_day(pipe, FAVORITE.format(**row), row["day"], fields, self.config.favorite_ttl_seconds)
        pipe.execute()

    def positions(self, rows: Rows, updated_at: str) -> None:
        by_mall: dict[str, list[object]] = {}
        for row in rows:
            live = {"x": row["x"], "y": row["y"], "zone": row["zone"], "ts": row["ts"]}
            by_mall.setdefault(row["mall_id"], []).extend(
                (row["device_id"], row["ts"] * 1000, json.dumps(live, separators=(",", ":")))
            )
        pipe = self.client.pipeline(transaction=False)
        for mall_id, args in by_mall.items():
            keys = [k.format(mall_id=mall_id) for k in (POSITIONS, POSITIONS_SEEN, ZONES, TODAY)]
            self.update_positions(keys=keys, args=[self.config.position_ttl_seconds * 1000, updated_at, *args],
                                  client=pipe)
        pipe.execute()

    def dead_letter_counts(self, rows: Rows, updated_at: str) -> None:
        self.client.hset(DEAD_LETTER_COUNTS,
                         mapping={f"{row['source_topic']}:{row['reason']}": row["messages"] for row in rows})

    def ingest_counts(self, rows: Rows, updated_at: str) -> None:
        mapping = {}
        for row in rows:
            mapping[f"{row['source_topic']}:accepted"] = row["accepted"]
            mapping[f"{row['source_topic']}:late_for_windows"] = row["late_for_windows"]
            mapping[f"{row['source_topic']}:opted_out"] = row["opted_out"]
        self.client.hset(INGEST_COUNTS, mapping=mapping)

    def unknown_probes(self, rows: Rows, updated_at: str) -> None:
        self.client.hset(UNKNOWN_PROBES, mapping={
            row["ap_mac"]: json.dumps({"heard_at": row["heard_at"], "reports": row["reports"]}) for row in rows})

    def sales_daily(self, rows: Rows, updated_at: str) -> None:
        """The live day's sales: a hash per mall, a field per shop (never an older day's)."""
        figures = [name for name, _ in SALES_FIELDS if name != "currency"]
        pipe = self.client.pipeline(transaction=False)
        for row in rows:
            shop = json.dumps({name: row[name] for name in figures}, separators=(",", ":"))
            fields = {"currency": row["currency"], row["shop_code"]: shop, "updated_at": updated_at}
            self._set_for_day(pipe, SALES.format(**row), row["day"], fields)
        pipe.execute()

    def newest(self, key: str, subject: str, rows: Rows) -> None:
        """Each probe's or door counter's newest report, a hash per mall (`key`)."""
        by_mall: dict[str, dict[str, int]] = {}
        for row in rows:
            by_mall.setdefault(row["mall_id"], {})[row[subject]] = row["heard_at"]
        pipe = self.client.pipeline(transaction=False)
        for mall_id, heard in by_mall.items():
            pipe.hset(key.format(mall_id=mall_id), mapping=heard)
        pipe.execute()

    def _set_for_day(self, pipe: Pipeline, key: str, day: str, fields: dict[str, Any], ttl: int = 0) -> None:
        args: list[object] = [day, ttl]
        for name, value in fields.items():
            args += [name, value]
        self.set_for_day(keys=[key], args=args, client=pipe)
