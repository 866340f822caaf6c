"""Sinks of the metrics job for ClickHouse and Redis (and PostgreSQL, for the staff the
job detects): buffered in Flink state, written in batches, idempotent, and patient with
stores that are down. (The favourite-shop feed and
the dead letters go to Kafka through Flink's own Kafka sink: 11_kafka_outputs.sql.)

Every result row reaches `BufferedSink` keyed by its output and, for per-mall outputs,
its mall (`sink_key`, 10_outputs.sql), so malls spread over the parallel subtasks and
each batch holds one output of one mall. Rows are appended to keyed ListState and
written when a processing-time timer fires (every
FOOTFALL_JOB_FLUSH_INTERVAL_MS). The buffer is part of each checkpoint, so after a
restart the rows not yet written are restored, and rows written after the checkpoint
are recomputed from the replayed input and written again. Every write is an upsert (a
ClickHouse ReplacingMergeTree row with a larger version, a Redis overwrite), so writing
twice changes nothing: no loss, no double count.

A store that does not answer does not fail the job. The batch being written stays in
state (`inflight`, with the destinations it already reached, so an append-only table is
not written twice) and is tried again with exponential backoff, while new rows gather in
the buffer. When an output holds FOOTFALL_JOB_SINK_BUFFER_ROWS rows, the sink waits for
the store instead: the operator stops taking input and back-pressure slows the sources,
so memory stays bounded and nothing is dropped. Gauges under `footfall_sink` (rows
waiting, and since when each store has been failing) reach Flink's REST API, where
`footfall status` and the System page read them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pyflink.common import Row, RowKind
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor
from redis.client import Pipeline

from footfall.outputs import (
    COLUMNS,
    DATES,
    DEAD_LETTER_COUNTS,
    EPOCH_SECONDS,
    FAVORITE,
    FEED_FIELDS,
    INGEST_COUNTS,
    OUTPUT_UPDATES,
    OUTPUTS,
    POSITIONS,
    POSITIONS_SEEN,
    TODAY,
    ZONES,
    capture_rate,
    draw_rate,
    latest,
)
from footfall.settings import ClickHouseSettings, PostgresSettings, RedisSettings

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


def _clickhouse_value(column: str, value: object) -> object:
    """A payload value as the driver takes it: DATES are ISO dates, EPOCH_SECONDS columns
    epoch seconds."""
    if column in DATES:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    if column in EPOCH_SECONDS:
        return datetime.fromtimestamp(value, UTC)  # type: ignore[arg-type]
    return value


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Writers:
    """The clients one sink worker writes through, opened once."""

    def __init__(self, config: SinkConfig) -> None:
        from footfall import clients

        self.config = config
        self.clickhouse = clients.clickhouse(config.clickhouse)
        self.redis = clients.redis_client(config.redis)
        self.set_for_day = self.redis.register_script(_SET_FOR_DAY)
        self.update_positions = self.redis.register_script(_UPDATE_POSITIONS)
        self._postgres: Any = None  # connected when first needed, again after a failure

    def close(self) -> None:
        self.clickhouse.disconnect()
        self.redis.close()
        if self._postgres is not None:
            self._postgres.close()

    def steps(self, output: str, upserts: list[dict[str, Any]]) -> list[tuple[str, Callable[[], None]]]:
        """What writing a batch of `output` takes: (destination, write) in order. A step
        that fails is tried again later; the steps before it are not repeated."""
        steps: list[tuple[str, Callable[[], None]]] = []
        if OUTPUTS[output].columns and upserts:
            steps.append(("clickhouse", lambda: self._clickhouse(output, upserts)))
        handler = getattr(self, f"_{output}_redis", None)
        if handler is not None:
            updated_at = _now_iso()
            steps.append(("redis", lambda: handler(upserts, updated_at)))
        writer = getattr(self, f"_{output}_postgres", None)
        if writer is not None and upserts:
            steps.append(("postgres", lambda: writer(upserts)))
        return steps

    def write(self, output: str, upserts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> None:
        """A batch of `output` to every destination at once, raising on the first failure:
        what a flush does, without the sink's state and retries (for tools and tests)."""
        for _, step in self.steps(output, upserts):
            step()
        self.mark_updated(output)

    def mark_updated(self, output: str) -> None:
        """When each output was last written (the System page's freshness), best effort:
        a Redis outage must not hold back outputs that go elsewhere."""
        try:
            self.redis.hset(OUTPUT_UPDATES, output, _now_iso())
        except Exception:  # noqa: BLE001 - Redis down; the next batch sets it
            pass

    def _clickhouse(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Upsert into a versioned table (a larger version replaces), append to a plain one."""
        output = OUTPUTS[table]
        version = [time.time_ns()] if output.versioned else []
        columns = [*output.columns, *(["version"] if output.versioned else [])]
        values = [[_clickhouse_value(c, row[c]) for c in output.columns] + version for row in rows]
        self.clickhouse.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", values)

    def _mall_daily_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for row in upserts:
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

    def _peak_hour_daily_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for row in upserts:
            fields = {"peak_hour": row["hour"], "peak_visitors": row["visitors"], "updated_at": updated_at}
            self._set_for_day(pipe, TODAY.format(**row), row["day"], fields)
        pipe.execute()

    def _favorite_shop_daily_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        # A row is the feed's message, stamped in the job (10_outputs.sql): its
        # `updated_at` is the one the feed carries.
        pipe = self.redis.pipeline(transaction=False)
        for row in upserts:
            fields = {name: row.get(name, updated_at) for name in FEED_FIELDS if name != "day"}
            self._set_for_day(pipe, FAVORITE.format(**row), row["day"], fields, self.config.favorite_ttl_seconds)
        pipe.execute()

    def _positions_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        if not upserts:
            return
        by_mall: dict[str, list[object]] = {}
        for row in upserts:
            live = {"x": row["x"], "y": row["y"], "zone": row["zone"], "ts": row["ts"]}
            by_mall.setdefault(row["mall_id"], []).extend(
                (row["device_id"], row["ts"] * 1000, json.dumps(live, separators=(",", ":")))
            )
        pipe = self.redis.pipeline(transaction=False)
        now = updated_at
        for mall_id, args in by_mall.items():
            keys = [k.format(mall_id=mall_id) for k in (POSITIONS, POSITIONS_SEEN, ZONES, TODAY)]
            self.update_positions(keys=keys, args=[self.config.position_ttl_seconds * 1000, now, *args], client=pipe)
        pipe.execute()

    def _dead_letter_counts_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        if upserts:
            self.redis.hset(
                DEAD_LETTER_COUNTS,
                mapping={f"{row['source_topic']}:{row['reason']}": row["messages"] for row in upserts},
            )

    def _ingest_counts_redis(self, upserts: list[dict[str, Any]], updated_at: str) -> None:
        mapping = {}
        for row in upserts:
            mapping[f"{row['source_topic']}:accepted"] = row["accepted"]
            mapping[f"{row['source_topic']}:late_for_windows"] = row["late_for_windows"]
        if mapping:
            self.redis.hset(INGEST_COUNTS, mapping=mapping)

    def _staff_detected_postgres(self, upserts: list[dict[str, Any]]) -> None:
        """The staff the job detected, where the ingestion reads them (udfs/java Layout.java);
        the job's latest word on a device replaces the row."""
        from footfall import clients
        from footfall.schema import postgres_schema

        schema = postgres_schema(self.config.postgres)
        try:
            if self._postgres is None or self._postgres.closed:
                self._postgres = clients.postgres(self.config.postgres, autocommit=True)
            with self._postgres.transaction():
                self._postgres.cursor().executemany(
                    f"INSERT INTO {schema}.staff_detected (mall_id, device_id, qualified_day, since_day)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (mall_id, device_id) DO UPDATE"
                    " SET qualified_day = EXCLUDED.qualified_day, since_day = EXCLUDED.since_day, detected_at = now()",
                    [(r["mall_id"], r["device_id"], r["qualified_day"], r["since_day"]) for r in upserts],
                )
        except Exception:
            if self._postgres is not None:
                self._postgres.close()
            raise

    def _set_for_day(self, pipe: Pipeline, key: str, day: str, fields: dict[str, Any], ttl: int = 0) -> None:
        args: list[object] = [day, ttl]
        for name, value in fields.items():
            args += [name, value]
        self.set_for_day(keys=[key], args=args, client=pipe)


def output_of(sink_key: str) -> str:
    """The output a sink key (`output` or `output/mall`) names."""
    return sink_key.split("/", 1)[0]


class BufferedSink(KeyedProcessFunction):
    """Keyed by sink key (output, or output and mall): buffer changelog rows, write them
    on a timer, and wait out stores that are down (see the module's docstring)."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.writers: Writers | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.buffer = runtime_context.get_list_state(ListStateDescriptor("buffer", Types.STRING()))
        self.inflight = runtime_context.get_list_state(ListStateDescriptor("inflight", Types.STRING()))
        self.reached = runtime_context.get_state(ValueStateDescriptor("inflight_reached", Types.STRING()))
        # Keys with a flush timer pending. Kept in memory: after a restore Flink brings
        # back the timers themselves, and at worst one extra (empty) flush happens.
        self.pending: set[str] = set()
        self.waiting: dict[str, int] = {}  # rows per output not yet written (gauge)
        self.backoff: dict[str, float] = {}  # the next retry delay per output, seconds
        self.health = StoreHealth()
        group = runtime_context.get_metrics_group().add_group("footfall_sink")
        group.gauge("rowsWaiting", lambda: sum(self.waiting.values()))
        for destination in StoreHealth.DESTINATIONS:
            group.gauge(f"{destination}FailingSince", lambda d=destination: self.health.failing_since_ms(d))
        self.writers = Writers(self.config)

    def close(self) -> None:
        if self.writers is not None:
            try:
                self.writers.close()
            except Exception as err:  # noqa: BLE001 - closing while a store is down
                log.warning("closing the sinks' clients: %s", err)

    def process_element(self, value: Row, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        kind = value.get_row_kind()
        if kind == RowKind.UPDATE_BEFORE:
            return  # the update-after that follows carries the new state of the key
        self.buffer.add(("D" if kind == RowKind.DELETE else "U") + value[2])
        key = ctx.get_current_key()
        self.waiting[key] = self.waiting.get(key, 0) + 1
        if key not in self.pending:
            self._schedule(ctx, key, self.config.flush_interval_ms / 1000)
        yield from ()  # PyFlink expects a generator; sinks emit nothing downstream

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator[Any]:
        key = ctx.get_current_key()
        self.pending.discard(key)
        while not self._flush(key):
            delay = self.backoff.get(key, 0.5)
            self.backoff[key] = min(delay * 2, self.config.max_backoff_seconds)
            if self.waiting.get(key, 0) < self.config.buffer_rows:
                self._schedule(ctx, key, delay)  # keep taking input meanwhile
                break
            # Full: hold this operator until the store answers; back-pressure does the rest.
            time.sleep(delay)
        else:
            self.backoff.pop(key, None)
        yield from ()

    def _schedule(self, ctx: KeyedProcessFunction.Context, key: str, delay_s: float) -> None:
        ctx.timer_service().register_processing_time_timer(
            ctx.timer_service().current_processing_time() + int(delay_s * 1000))
        self.pending.add(key)

    def _flush(self, key: str) -> bool:
        """Write the batch in flight, then what the buffer holds, of the sink key `key`;
        False if a store failed (what is left stays in state for the next try)."""
        assert self.writers is not None
        output = output_of(key)
        while True:
            entries = list(self.inflight.get())
            if not entries:
                entries = list(self.buffer.get())
                if not entries:
                    self.waiting[key] = 0
                    return True
                self.inflight.update(entries)
                self.reached.update("")
                self.buffer.clear()
            reached = set(filter(None, (self.reached.value() or "").split(",")))
            upserts, deletes = latest([(e[0] == "D", json.loads(e[1:])) for e in entries], output)
            for destination, write in self.writers.steps(output, upserts):
                if destination in reached:
                    continue
                try:
                    write()
                except Exception as err:  # noqa: BLE001 - any failure: try again later
                    self.health.failed(destination, output, err)
                    return False
                self.health.ok(destination)
                reached.add(destination)
                self.reached.update(",".join(sorted(reached)))
            if deletes and output in COLUMNS:
                log.warning("%s: %d deletes not applied to ClickHouse", output, len(deletes))
            self.inflight.clear()
            self.reached.clear()
            self.waiting[key] = max(0, self.waiting.get(key, 0) - len(entries))
            self.writers.mark_updated(output)


class StoreHealth:
    """Since when each destination has been failing, logged once per outage."""

    DESTINATIONS = ("clickhouse", "redis", "postgres")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.since: dict[str, float] = {}

    def failed(self, destination: str, output: str, err: Exception) -> None:
        if destination not in self.since:
            self.since[destination] = self.clock()
            log.warning("%s does not take %s (%s: %s); keeping the rows and trying again",
                        destination, output, type(err).__name__, err)

    def ok(self, destination: str) -> None:
        began = self.since.pop(destination, None)
        if began is not None:
            log.warning("%s answers again after %.0f s", destination, self.clock() - began)

    def failing_since_ms(self, destination: str) -> int:
        return int(self.since.get(destination, 0) * 1000)
