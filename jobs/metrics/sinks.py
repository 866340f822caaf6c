"""Sinks of the metrics job: buffered in Flink state, written in batches, idempotent.

Every result row reaches `BufferedSink` keyed by its output name. Rows are appended to
keyed ListState and written when a processing-time timer fires (every
FOOTFALL_JOB_FLUSH_INTERVAL_MS). The buffer is part of each checkpoint, so after a
restart the rows not yet written are restored, and rows written after the checkpoint
are recomputed from the replayed input and written again. Every write is an upsert (a
ClickHouse ReplacingMergeTree row with a larger version, a Redis overwrite, the latest
Kafka message per key), so writing twice changes nothing: no loss, no double count.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pyflink.common import Row, RowKind
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor

from footfall.settings import ClickHouseSettings, KafkaSettings, RedisSettings
from jobs.metrics.outputs import (
    COLUMNS,
    DEAD_LETTER_COUNTS,
    FAVORITE,
    FEED_FIELDS,
    OUTPUT_UPDATES,
    OUTPUTS,
    POSITIONS,
    POSITIONS_SEEN,
    TODAY,
    ZONES,
    capture_rate,
    latest,
)

log = logging.getLogger(__name__)


# Write a day's fields only if that day is not older than the one stored; a newer day
# replaces the hash. Keeps "today" right when updates for two days interleave. Occupancy
# is of the moment, not of a day, so it survives the change of day.
_SET_FOR_DAY = """
local current = redis.call('HGET', KEYS[1], 'day')
if current and current > ARGV[1] then return 0 end
if current and current < ARGV[1] then
  local now = redis.call('HMGET', KEYS[1], 'occupancy', 'occupancy_at')
  redis.call('DEL', KEYS[1])
  if now[1] then redis.call('HSET', KEYS[1], 'occupancy', now[1], 'occupancy_at', now[2]) end
end
redis.call('HSET', KEYS[1], 'day', ARGV[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


# A mall's live positions: a hash device -> {x, y, zone, ts} read in one HGETALL, and a
# sorted set device -> ts that expires them. A position replaces a device's entry only if
# it is not older. The mall's clock is its newest position (event time, so a replay or a
# simulated day expires as live data would); entries more than the TTL behind it go.
# Zone counts follow each entry that changes or goes (not a recount of every device),
# and occupancy is the hash's length. The keys themselves expire when a mall sends
# nothing for the TTL (Redis 7.0 has no field TTL).
# KEYS: positions, seen, zones, today. ARGV: ttl_ms, now (ISO), then device, ts_ms, json.
_UPDATE_POSITIONS = """
local function count(entry, by)
  if not entry then return end
  local zone = cjson.decode(entry)['zone']
  if redis.call('HINCRBY', KEYS[3], zone, by) <= 0 then redis.call('HDEL', KEYS[3], zone) end
end
local ttl = tonumber(ARGV[1])
for i = 3, #ARGV, 3 do
  local seen = redis.call('ZSCORE', KEYS[2], ARGV[i])
  local ts = tonumber(ARGV[i + 1])
  if not seen or tonumber(seen) <= ts then
    count(redis.call('HGET', KEYS[1], ARGV[i]), -1)
    count(ARGV[i + 2], 1)
    redis.call('ZADD', KEYS[2], ts, ARGV[i])
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local cutoff = '(' .. (tonumber(newest[2]) - ttl)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
for i = 1, #gone, 1000 do
  local batch = {unpack(gone, i, math.min(i + 999, #gone))}
  for _, entry in ipairs(redis.call('HMGET', KEYS[1], unpack(batch))) do count(entry, -1) end
  redis.call('HDEL', KEYS[1], unpack(batch))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local occupancy = redis.call('HLEN', KEYS[1])
redis.call('HSET', KEYS[4], 'occupancy', occupancy, 'occupancy_at', ARGV[2])
local ttl_s = math.ceil(ttl / 1000)
for k = 1, 3 do redis.call('EXPIRE', KEYS[k], ttl_s) end
return occupancy
"""


@dataclass(frozen=True)
class SinkConfig:
    clickhouse: ClickHouseSettings
    redis: RedisSettings
    kafka: KafkaSettings
    flush_interval_ms: int = 1000
    #: A device's favourite-shop entry in Redis outlives its day by this much.
    favorite_ttl_seconds: int = 2 * 86400
    #: A live position is dropped this long after the mall's newest one.
    position_ttl_seconds: int = 300


def _clickhouse_value(column: str, value: object) -> object:
    """A payload value as the driver takes it: `day` is an ISO date, `ts` epoch seconds."""
    if column == "day":
        return date.fromisoformat(value)  # type: ignore[arg-type]
    if column == "ts":
        return datetime.fromtimestamp(value, UTC)  # type: ignore[arg-type]
    return value


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Writers:
    """The clients one sink worker writes through, opened once."""

    def __init__(self, config: SinkConfig) -> None:
        from confluent_kafka import Producer

        from footfall import clients

        self.config = config
        self.clickhouse = clients.clickhouse(config.clickhouse)
        self.redis = clients.redis_client(config.redis)
        self.set_for_day = self.redis.register_script(_SET_FOR_DAY)
        self.update_positions = self.redis.register_script(_UPDATE_POSITIONS)
        self.producer = Producer(
            {
                "bootstrap.servers": config.kafka.servers,
                "client.id": "footfall-metrics",
                "acks": "all",
                "linger.ms": 5,
                "partitioner": "murmur2_random",
            }
        )

    def close(self) -> None:
        self.producer.flush(30)
        self.clickhouse.disconnect()
        self.redis.close()

    def write(self, output: str, upserts: list[dict], deletes: list[dict]) -> None:
        if OUTPUTS[output].columns and upserts:
            self._clickhouse(output, upserts)
        handler = getattr(self, f"_{output}", None)
        if handler is not None:
            handler(upserts, deletes)
        self.redis.hset(OUTPUT_UPDATES, output, _now_iso())

    def _clickhouse(self, table: str, rows: list[dict]) -> None:
        """Upsert into a versioned table (a larger version replaces), append to a plain one."""
        output = OUTPUTS[table]
        version = [time.time_ns()] if output.versioned else []
        columns = [*output.columns, *(["version"] if output.versioned else [])]
        values = [[_clickhouse_value(c, row[c]) for c in output.columns] + version for row in rows]
        self.clickhouse.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", values)

    def _mall_daily(self, upserts: list[dict], deletes: list[dict]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for row in upserts:
            rate = capture_rate(row["visitors"], row["door_entries"])
            fields = {
                "visitors": row["visitors"],
                "new_visitors": row["new_visitors"],
                "returning_visitors": row["returning_visitors"],
                "randomized_devices": row["randomized_devices"],
                "door_entries": row["door_entries"],
                "capture_rate": "" if rate is None else f"{rate:.4f}",
                "updated_at": _now_iso(),
            }
            self._set_for_day(pipe, TODAY.format(**row), row["day"], fields)
        pipe.execute()

    def _peak_hour_daily(self, upserts: list[dict], deletes: list[dict]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for row in upserts:
            fields = {"peak_hour": row["hour"], "peak_visitors": row["visitors"], "updated_at": _now_iso()}
            self._set_for_day(pipe, TODAY.format(**row), row["day"], fields)
        pipe.execute()

    def _favorite_shop_daily(self, upserts: list[dict], deletes: list[dict]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        updated_at = _now_iso()
        for row in upserts:
            message = {name: row[name] for name in FEED_FIELDS if name != "updated_at"} | {"updated_at": updated_at}
            self.producer.produce(self.config.kafka.favorite_shops_topic, key=row["device_id"], value=json.dumps(message))
            fields = {k: v for k, v in message.items() if k != "day"}
            self._set_for_day(pipe, FAVORITE.format(**row), row["day"], fields, self.config.favorite_ttl_seconds)
        pipe.execute()
        self._deliver()

    def _positions(self, upserts: list[dict], deletes: list[dict]) -> None:
        if not upserts:
            return
        by_mall: dict[str, list[object]] = {}
        for row in upserts:
            live = {"x": row["x"], "y": row["y"], "zone": row["zone"], "ts": row["ts"]}
            by_mall.setdefault(row["mall_id"], []).extend(
                (row["device_id"], row["ts"] * 1000, json.dumps(live, separators=(",", ":")))
            )
        pipe = self.redis.pipeline(transaction=False)
        now = _now_iso()
        for mall_id, args in by_mall.items():
            keys = [k.format(mall_id=mall_id) for k in (POSITIONS, POSITIONS_SEEN, ZONES, TODAY)]
            self.update_positions(keys=keys, args=[self.config.position_ttl_seconds * 1000, now, *args], client=pipe)
        pipe.execute()

    def _dead_letter_counts(self, upserts: list[dict], deletes: list[dict]) -> None:
        if upserts:
            self.redis.hset(
                DEAD_LETTER_COUNTS,
                mapping={f"{row['source_topic']}:{row['reason']}": row["messages"] for row in upserts},
            )

    def _dead_letters(self, upserts: list[dict], deletes: list[dict]) -> None:
        for row in upserts:
            value = {k: row[k] for k in ("source_topic", "raw", "reason", "received_at")}
            # The key names the message it rejects, so a copy sent again after a
            # restart can be recognised.
            key = f"{row['source_topic']}/{row['partition']}/{row['offset']}"
            self.producer.produce(self.config.kafka.dead_letters_topic, key=key, value=json.dumps(value))
        self._deliver()

    def _set_for_day(self, pipe, key: str, day: str, fields: dict, ttl: int = 0) -> None:  # type: ignore[no-untyped-def]
        args: list[object] = [day, ttl]
        for name, value in fields.items():
            args += [name, value]
        self.set_for_day(keys=[key], args=args, client=pipe)

    def _deliver(self) -> None:
        remaining = self.producer.flush(30)
        if remaining:
            raise RuntimeError(f"{remaining} Kafka messages not delivered within 30 s")


class BufferedSink(KeyedProcessFunction):
    """Keyed by output name: buffer changelog rows, write them on a timer."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.writers: Writers | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.buffer = runtime_context.get_list_state(ListStateDescriptor("buffer", Types.STRING()))
        # Keys with a flush timer pending. Kept in memory: after a restore Flink brings
        # back the timers themselves, and at worst one extra (empty) flush happens.
        self.pending: set[str] = set()
        self.writers = Writers(self.config)

    def close(self) -> None:
        if self.writers is not None:
            self.writers.close()

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context):  # type: ignore[no-untyped-def]
        kind = value.get_row_kind()
        if kind == RowKind.UPDATE_BEFORE:
            return  # the update-after that follows carries the new state of the key
        self.buffer.add(("D" if kind == RowKind.DELETE else "U") + value[1])
        key = ctx.get_current_key()
        if key not in self.pending:
            fire_at = ctx.timer_service().current_processing_time() + self.config.flush_interval_ms
            ctx.timer_service().register_processing_time_timer(fire_at)
            self.pending.add(key)
        yield from ()  # PyFlink expects a generator; sinks emit nothing downstream

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext):  # type: ignore[no-untyped-def]
        output = ctx.get_current_key()
        changes = [(entry[0] == "D", json.loads(entry[1:])) for entry in self.buffer.get()]
        self.buffer.clear()
        self.pending.discard(output)
        if changes:
            upserts, deletes = latest(changes, output)
            assert self.writers is not None
            self.writers.write(output, upserts, deletes)
            if deletes and output in COLUMNS:
                log.warning("%s: %d deletes not applied to ClickHouse", output, len(deletes))
        yield from ()
