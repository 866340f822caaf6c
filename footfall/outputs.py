"""The job's outputs, each defined once (OUTPUTS): name, key, fields and their types, and
how ClickHouse keeps it. The ClickHouse tables (ops/bootstrap.py), the job's payloads
(jobs/metrics/payloads.py, rendered into 11_outputs.sql) and the sinks' writes are made
from it. Also the Redis key layout and the two rates derived when a row is written.
(The favourite-shop feed and the dead letters go to Kafka: 12_kafka_outputs.sql.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: Redis keys (docs/metrics-job.md "Redis keys"): ff:{mall_id}:today, ff:{mall_id}:favorite:{device_id},
#: ff:{mall_id}:positions (+ :seen), ff:{mall_id}:zones, ff:{mall_id}:probes, ff:{mall_id}:doors,
#: ff:{mall_id}:sales,
#: ff:unknown_probes, ff:dead_letters, ff:ingested,
#: ff:outputs.
TODAY = "ff:{mall_id}:today"
FAVORITE = "ff:{mall_id}:favorite:{device_id}"
POSITIONS = "ff:{mall_id}:positions"
POSITIONS_SEEN = "ff:{mall_id}:positions:seen"
ZONES = "ff:{mall_id}:zones"
#: The live day's sales of each shop: "day", "currency", and shop_code -> JSON of SALES.
SALES = "ff:{mall_id}:sales"
#: Each probe's newest accepted report: ap_mac -> its event time, epoch ms.
PROBES = "ff:{mall_id}:probes"
#: Each door counter's newest report (sensor_id -> event time, epoch ms).
DOORS = "ff:{mall_id}:doors"
#: Reports of probes not in the layout: ap_mac -> JSON {"heard_at": epoch ms, "reports": n}.
UNKNOWN_PROBES = "ff:unknown_probes"
DEAD_LETTER_COUNTS = "ff:dead_letters"
#: Per input topic: "{topic}:accepted" and "{topic}:late_for_windows" message counts.
INGEST_COUNTS = "ff:ingested"
OUTPUT_UPDATES = "ff:outputs"

#: Column types (ClickHouse's) and how the job writes them: Date columns travel as ISO
#: dates, DateTime columns as epoch seconds, the others as JSON numbers and strings.
DATE, DATETIME = "Date", "DateTime"
S, U8, U32, U64, I64, F32 = "String", "UInt8", "UInt32", "UInt64", "Int64", "Float32"


@dataclass(frozen=True)
class Output:
    """One output of the job, defined once: the ClickHouse table (bootstrap makes it from
    this), the job's payload (11_outputs.sql renders it from this) and the sinks' writes
    all follow from it."""

    name: str
    key: tuple[str, ...]
    #: Its fields and their ClickHouse types, in the contract's order (docs/design.md §5):
    #: the payload's fields, and the ClickHouse table's columns (with `version` if versioned).
    fields: tuple[tuple[str, str], ...]
    #: How it is kept in ClickHouse: "replacing" (a ReplacingMergeTree(version), upserted
    #: and read with FINAL), "append" (a plain MergeTree history, appended to), or None
    #: (Redis or Kafka only).
    table: str | None = "replacing"
    #: The table's PARTITION BY expression, if any.
    partition_by: str | None = "toYYYYMM(day)"
    #: Fields the payload carries after `fields` and the table does not (the feed's stamp).
    extra: tuple[str, ...] = ()
    #: Whether its payload is also published to Kafka as a message, fields in order (the
    #: favourite-shop feed).
    published: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of its ClickHouse table, without `version`; empty if it has none."""
        return tuple(name for name, _ in self.fields) if self.table else ()

    @property
    def versioned(self) -> bool:
        return self.table == "replacing"

    @property
    def payload_fields(self) -> tuple[tuple[str, str], ...]:
        """The fields of its payload in the job, in order, with their types (the extra
        ones are strings)."""
        return (*self.fields, *((name, S) for name in self.extra))

    @property
    def payload(self) -> tuple[str, ...]:
        """The names of its payload's fields, in order."""
        return tuple(name for name, _ in self.payload_fields)


#: Engagement columns (docs/design.md §4 item 11): visits, then visits by dwell bucket.
ENGAGEMENT = ("visits", "bounced", "visits_5_20m", "visits_20_60m", "visits_1_6h", "visits_6h_plus")
#: Sales columns (docs/design.md §4 item 18): sales transactions and the items they sold,
#: refunds and the amount they gave back, and the net amount (sales less refunds), in minor
#: units of the currency.
SALES_FIELDS = (("currency", S), ("transactions", U64), ("items", U64), ("refunds", U64), ("refunded_minor", I64),
                ("sales_minor", I64))

OUTPUTS = {
    o.name: o
    for o in (
        Output("mall_daily", ("mall_id", "day"), (
            ("mall_id", S), ("day", DATE), ("visitors", U64), ("new_visitors", U64), ("returning_visitors", U64),
            ("randomized_devices", U64), ("door_entries", U64), ("devices_seen", U64), ("passers_by", U64),
            ("staff_devices", U64))),
        Output("mall_hourly", ("mall_id", "day", "hour"), (
            ("mall_id", S), ("day", DATE), ("hour", U8), ("visitors", U64), ("door_entries", U64),
            ("devices_seen", U64), ("passers_by", U64), ("staff_devices", U64))),
        Output("peak_hour_daily", ("mall_id", "day"), (("mall_id", S), ("day", DATE), ("hour", U8), ("visitors", U64))),
        Output("shop_daily", ("mall_id", "day", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("shop_code", S), ("shop_name", S), ("visitors", U64),
            ("devices_seen", U64), ("walk_bys", U64))),
        Output("shop_hourly", ("mall_id", "day", "hour", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("hour", U8), ("shop_code", S), ("shop_name", S), ("visitors", U64),
            ("walk_bys", U64))),
        Output("top_shops_daily", ("mall_id", "day", "rank"), (
            ("mall_id", S), ("day", DATE), ("rank", U8), ("shop_code", S), ("shop_name", S), ("visitors", U64))),
        # Its payload is the feed's message (docs/design.md §5), stamped once in the job, so
        # the favourite in Redis and its message on the feed agree.
        Output("favorite_shop_daily", ("mall_id", "day", "device_id"), (
            ("mall_id", S), ("day", DATE), ("device_id", S), ("shop_code", S), ("shop_name", S), ("visits", U32),
            ("dwell_seconds", U32)), extra=("updated_at",), published=True),
        Output("repeat_shops_daily", ("mall_id", "day", "device_id", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("device_id", S), ("shop_code", S), ("shop_name", S), ("visits", U32))),
        Output("mall_engagement_daily", ("mall_id", "day"),
               (("mall_id", S), ("day", DATE), *((name, U64) for name in ENGAGEMENT))),
        Output("shop_engagement_daily", ("mall_id", "day", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("shop_code", S), ("shop_name", S), *((name, U64) for name in ENGAGEMENT))),
        # A visit's key is where, who and when it started: written again after a restart,
        # it replaces itself.
        Output("visits", ("mall_id", "day", "shop_code", "device_id", "started_at"), (
            ("mall_id", S), ("day", DATE), ("shop_code", S), ("device_id", S), ("started_at", DATETIME),
            ("shop_name", S), ("dwell_seconds", U32))),
        # Staff and fixed devices detected (docs/design.md §4 item 14): the day the rule was
        # met, and the day from which the device is left out of every visitor metric.
        # Operators' overrides live in PostgreSQL (staff_overrides).
        Output("staff_detected", ("mall_id", "device_id"), (
            ("mall_id", S), ("device_id", S), ("qualified_day", DATE), ("since_day", DATE)), partition_by=None),
        # Position history: appended, one row per device and second.
        Output("positions", ("mall_id", "ts", "device_id"), (
            ("mall_id", S), ("ts", DATETIME), ("device_id", S), ("x", F32), ("y", F32), ("zone", S)),
            table="append", partition_by="toYYYYMMDD(ts)"),
        Output("dead_letter_counts", ("source_topic", "reason"),
               (("source_topic", S), ("reason", S), ("messages", U64)), table=None),
        # Each probe's newest accepted report (event time, epoch ms): the alerts tell a
        # silent probe by it (footfall/alerts.py). Redis only.
        Output("probe_heard", ("mall_id", "ap_mac"), (("mall_id", S), ("ap_mac", S), ("heard_at", U64)), table=None),
        # Each door counter's newest report, likewise (door_silent). Redis only.
        Output("door_heard", ("mall_id", "sensor_id"), (("mall_id", S), ("sensor_id", S), ("heard_at", U64)),
               table=None),
        # Reports of probes not in the layout, per probe (unregistered_probe). Redis only.
        Output("unknown_probes", ("ap_mac",), (("ap_mac", S), ("heard_at", U64), ("reports", U64)), table=None),
        # Each probe's accepted reports per local hour: the alerts tell a probe that hears
        # less than it used to (probe_degraded).
        Output("probe_hourly", ("mall_id", "day", "hour", "ap_mac"), (
            ("mall_id", S), ("day", DATE), ("hour", U8), ("ap_mac", S), ("reports", U64))),
        # A shop's till transactions per local hour (docs/design.md §4 item 18).
        Output("sales_hourly", ("mall_id", "day", "hour", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("hour", U8), ("shop_code", S), ("shop_name", S), *SALES_FIELDS)),
        # The same per day: the live day in Redis (SALES); ClickHouse sums the hours.
        Output("sales_daily", ("mall_id", "day", "shop_code"), (
            ("mall_id", S), ("day", DATE), ("shop_code", S), ("shop_name", S), *SALES_FIELDS), table=None),
        Output("ingest_counts", ("source_topic",),
               (("source_topic", S), ("accepted", U64), ("late_for_windows", U64), ("opted_out", U64)), table=None),
    )
}

#: A favourite-shop feed message (docs/design.md §5), in the order it is published.
FEED_FIELDS = OUTPUTS["favorite_shop_daily"].payload
#: A dead letter (docs/design.md §5), in the order it is published, with its types:
#: `raw` is the message's text with every phone MAC replaced by its device id or removed,
#: `macs_replaced` how many were.
DEAD_LETTER = (("source_topic", S), ("raw", S), ("macs_replaced", U32), ("reason", S), ("received_at", S))
DEAD_LETTER_FIELDS = tuple(name for name, _ in DEAD_LETTER)


def feed_text(message: dict[str, Any]) -> str:
    """A feed message's text as the job publishes it (11_outputs.sql): fields in
    FEED_FIELDS order, no spaces, non-ASCII as UTF-8."""
    return json.dumps({name: message[name] for name in FEED_FIELDS}, separators=(",", ":"), ensure_ascii=False)


#: Columns the job writes as epoch seconds and ClickHouse keeps as DateTime.
EPOCH_SECONDS = frozenset(n for o in OUTPUTS.values() for n, kind in o.fields if kind == DATETIME)
#: Columns the job writes as ISO dates and ClickHouse keeps as Date.
DATES = frozenset(n for o in OUTPUTS.values() for n, kind in o.fields if kind == DATE)


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
