"""The metrics job's sink for ClickHouse, Redis and PostgreSQL (each store's own writer is
beside this file: clickhouse.py, redis.py, postgres.py): buffered in Flink state, written
in batches, idempotent, and patient with stores that are down. (The favourite-shop feed and
the dead letters go to Kafka through Flink's own Kafka sink: 12_kafka_outputs.sql.)

Every result row reaches `BufferedSink` keyed by its output and, for per-mall outputs,
its mall (`sink_key`, 11_outputs.sql), so malls spread over the parallel subtasks and
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
from typing import Any

from pyflink.common import Row, RowKind
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor

from footfall.outputs import COLUMNS, latest
from jobs.metrics.sinks.config import SinkConfig
from jobs.metrics.sinks.stores import Writers

log = logging.getLogger(__name__)


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
