"""The result streams the metrics job's Python sinks write to ClickHouse and Redis: their
keys, and where each one is written. (The dead letters, and the favourite-shop feed as
well, go to Kafka through Flink's Kafka sink: jobs/metrics/11_kafka_outputs.sql.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: Redis keys (docs/metrics-job.md "Redis keys"): ff:{mall_id}:today, ff:{mall_id}:favorite:{device_id},
#: ff:{mall_id}:positions (+ :seen), ff:{mall_id}:zones, ff:dead_letters, ff:ingested, ff:outputs.
TODAY = "ff:{mall_id}:today"
FAVORITE = "ff:{mall_id}:favorite:{device_id}"
POSITIONS = "ff:{mall_id}:positions"
POSITIONS_SEEN = "ff:{mall_id}:positions:seen"
ZONES = "ff:{mall_id}:zones"
DEAD_LETTER_COUNTS = "ff:dead_letters"
#: Per input topic: "{topic}:accepted" and "{topic}:late_for_windows" message counts.
INGEST_COUNTS = "ff:ingested"
OUTPUT_UPDATES = "ff:outputs"

#: A favourite-shop feed message (docs/design.md §5), in the order it is published.
FEED_FIELDS = ("mall_id", "day", "device_id", "shop_code", "shop_name", "visits", "dwell_seconds", "updated_at")


def feed_text(message: dict[str, Any]) -> str:
    """A feed message's text as the job publishes it (Flink's json format in the Kafka
    sink, 11_kafka_outputs.sql): fields in FEED_FIELDS order, no spaces, non-ASCII as
    UTF-8."""
    return json.dumps({name: message[name] for name in FEED_FIELDS}, separators=(",", ":"), ensure_ascii=False)


#: Columns the job writes as epoch seconds and ClickHouse keeps as DateTime.
EPOCH_SECONDS = frozenset({"ts", "started_at"})
#: Columns the job writes as ISO dates and ClickHouse keeps as Date.
DATES = frozenset({"day", "qualified_day", "since_day"})


#: Engagement columns (docs/design.md §4 item 11): visits, then visits by dwell bucket.
ENGAGEMENT = ("visits", "bounced", "visits_5_20m", "visits_20_60m", "visits_1_6h", "visits_6h_plus")


@dataclass(frozen=True)
class Output:
    name: str
    key: tuple[str, ...]
    #: Columns of the ClickHouse table it is written to (docs/design.md §5, without
    #: `version`); empty for outputs that go only to Redis or Kafka.
    columns: tuple[str, ...] = ()
    #: A ReplacingMergeTree(version), upserted and read with FINAL; False for a plain
    #: MergeTree history, appended to.
    versioned: bool = True


OUTPUTS = {
    o.name: o
    for o in (
        Output("mall_daily", ("mall_id", "day"), ("mall_id", "day", "visitors", "new_visitors",
               "returning_visitors", "randomized_devices", "door_entries", "devices_seen", "passers_by",
               "staff_devices")),
        Output("mall_hourly", ("mall_id", "day", "hour"),
               ("mall_id", "day", "hour", "visitors", "door_entries", "devices_seen", "passers_by", "staff_devices")),
        Output("peak_hour_daily", ("mall_id", "day"), ("mall_id", "day", "hour", "visitors")),
        Output("shop_daily", ("mall_id", "day", "shop_code"),
               ("mall_id", "day", "shop_code", "shop_name", "visitors", "devices_seen", "walk_bys")),
        Output("shop_hourly", ("mall_id", "day", "hour", "shop_code"),
               ("mall_id", "day", "hour", "shop_code", "shop_name", "visitors", "walk_bys")),
        Output("top_shops_daily", ("mall_id", "day", "rank"),
               ("mall_id", "day", "rank", "shop_code", "shop_name", "visitors")),
        Output("favorite_shop_daily", ("mall_id", "day", "device_id"),
               ("mall_id", "day", "device_id", "shop_code", "shop_name", "visits", "dwell_seconds")),
        Output("repeat_shops_daily", ("mall_id", "day", "device_id", "shop_code"),
               ("mall_id", "day", "device_id", "shop_code", "shop_name", "visits")),
        Output("mall_engagement_daily", ("mall_id", "day"), ("mall_id", "day", *ENGAGEMENT)),
        Output("shop_engagement_daily", ("mall_id", "day", "shop_code"),
               ("mall_id", "day", "shop_code", "shop_name", *ENGAGEMENT)),
        Output("visits", ("mall_id", "day", "shop_code", "device_id", "started_at"),
               ("mall_id", "day", "shop_code", "device_id", "started_at", "shop_name", "dwell_seconds")),
        Output("staff_detected", ("mall_id", "device_id"), ("mall_id", "device_id", "qualified_day", "since_day")),
        Output("positions", ("mall_id", "ts", "device_id"), ("mall_id", "ts", "device_id", "x", "y", "zone"),
               versioned=False),
        Output("dead_letter_counts", ("source_topic", "reason")),
        Output("ingest_counts", ("source_topic",)),
    )
}

def capture_rate(visitors: int, door_entries: int) -> float | None:
    """Mall visitors per door entry (docs/design.md §4 item 10); None without entries."""
    return visitors / door_entries if door_entries else None


def draw_rate(visitors: int, passers_by: int) -> float | None:
    """The share of the devices heard that became visitors, staff left out: visitors /
    (visitors + passers-by) (docs/design.md §4 item 1); None before any is heard."""
    heard = visitors + passers_by
    return visitors / heard if heard else None


#: ClickHouse column order of each upserted (versioned) table.
COLUMNS = {o.name: o.columns for o in OUTPUTS.values() if o.columns and o.versioned}


def row_key(output: str, payload: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(payload[column] for column in OUTPUTS[output].key)


def latest(
    changes: list[tuple[bool, dict[str, Any]]], output: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Collapse a batch of changelog rows to the last state of each key.

    `changes` holds (is_delete, payload) in arrival order; update-before rows are
    dropped before they get here. Returns (upserts, deletes)."""
    last: dict[tuple[Any, ...], tuple[bool, dict[str, Any]]] = {}
    for is_delete, payload in changes:
        last[row_key(output, payload)] = (is_delete, payload)
    upserts = [payload for is_delete, payload in last.values() if not is_delete]
    deletes = [payload for is_delete, payload in last.values() if is_delete]
    return upserts, deletes
