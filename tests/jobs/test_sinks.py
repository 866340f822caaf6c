"""The sinks' patience with stores that are down, without Flink: BufferedSink driven by
hand with in-memory state, timers and writers whose stores fail on demand."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pyflink.common import Row, RowKind

from jobs.metrics.sinks import BufferedSink, SinkConfig, StoreHealth
from jobs.metrics.sinks import buffered as sinks


class ListState:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, item: str) -> None:
        self.items.append(item)

    def get(self) -> list[str]:
        return list(self.items)

    def update(self, items: list[str]) -> None:
        self.items = list(items)

    def clear(self) -> None:
        self.items = []


class ValueState:
    def __init__(self) -> None:
        self.item: str | None = None

    def value(self) -> str | None:
        return self.item

    def update(self, item: str) -> None:
        self.item = item

    def clear(self) -> None:
        self.item = None


class Timers:
    def __init__(self) -> None:
        self.now = 0
        self.registered: list[int] = []

    def current_processing_time(self) -> int:
        return self.now

    def register_processing_time_timer(self, at: int) -> None:
        self.registered.append(at)


class Context:
    def __init__(self, key: str) -> None:
        self.key, self.timers = key, Timers()

    def get_current_key(self) -> str:
        return self.key

    def timer_service(self) -> Timers:
        return self.timers


class Stores:
    """Writers whose destinations fail while named in `down`; records what was written."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.written: list[tuple[str, list[dict]]] = []
        self.updated: list[str] = []

    def steps(self, output: str, upserts: list[dict]):  # type: ignore[no-untyped-def]
        def write(destination: str):  # type: ignore[no-untyped-def]
            def go() -> None:
                if destination in self.down:
                    raise ConnectionError(f"{destination} is down")
                self.written.append((destination, upserts))
            return go
        return [(d, write(d)) for d in ("clickhouse", "redis")]

    def mark_updated(self, output: str) -> None:
        self.updated.append(output)


@pytest.fixture
def sink(monkeypatch) -> tuple[BufferedSink, Stores]:  # type: ignore[no-untyped-def]
    sink = BufferedSink(SinkConfig(clickhouse=None, redis=None, postgres=None, buffer_rows=10,  # type: ignore[arg-type]
                                   max_backoff_seconds=4))
    stores = Stores()
    sink.buffer, sink.inflight, sink.reached = ListState(), ListState(), ValueState()
    sink.pending, sink.waiting, sink.backoff, sink.health = set(), {}, {}, StoreHealth(clock=lambda: 1000.0)
    sink.writers = stores  # type: ignore[assignment]
    monkeypatch.setattr(sinks.time, "sleep", lambda s: pytest.fail(f"slept {s} s with room in the buffer"))
    return sink, stores


def row(mall: str, visitors: int) -> Row:
    value = Row(f"mall_daily/{mall}", None, json.dumps({"mall_id": mall, "day": "2026-01-05", "visitors": visitors}))
    value.set_row_kind(RowKind.INSERT)
    return value


def feed(sink: BufferedSink, ctx: Context, *rows: Row) -> None:
    for value in rows:
        list(sink.process_element(value, ctx))


def test_a_store_down_keeps_the_batch_and_the_store_already_written_is_not_written_again(sink) -> None:
    sink, stores = sink
    ctx = Context("mall_daily")
    feed(sink, ctx, row("m1", 1), row("m1", 2))
    stores.down = {"redis"}
    list(sink.on_timer(0, ctx))
    assert stores.written == [("clickhouse", [{"mall_id": "m1", "day": "2026-01-05", "visitors": 2}])]
    assert sink.health.failing_since_ms("redis") == 1_000_000
    assert ctx.timers.registered[-1] == 500  # tried again after the first backoff
    feed(sink, ctx, row("m2", 5))  # keeps taking input meanwhile
    list(sink.on_timer(500, ctx))
    assert len(stores.written) == 1 and ctx.timers.registered[-1] == 1000  # 0.5 s, then 1 s

    stores.down = set()
    list(sink.on_timer(1500, ctx))
    assert stores.written[1:] == [
        ("redis", [{"mall_id": "m1", "day": "2026-01-05", "visitors": 2}]),  # only what was missing
        ("clickhouse", [{"mall_id": "m2", "day": "2026-01-05", "visitors": 5}]),
        ("redis", [{"mall_id": "m2", "day": "2026-01-05", "visitors": 5}]),
    ]
    assert sink.health.failing_since_ms("redis") == 0 and sink.waiting["mall_daily"] == 0
    assert not sink.inflight.get() and not sink.buffer.get()


def test_a_full_buffer_waits_for_the_store_instead_of_taking_more(sink, monkeypatch) -> None:
    sink, stores = sink
    sink.config = dataclasses.replace(sink.config, buffer_rows=3)
    ctx = Context("mall_daily")
    feed(sink, ctx, row("m1", 1), row("m2", 1), row("m3", 1))
    stores.down = {"clickhouse"}
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the store comes back after three tries
        slept.append(seconds)
        if len(slept) == 3:
            stores.down = set()

    monkeypatch.setattr(sinks.time, "sleep", sleep)
    list(sink.on_timer(0, ctx))
    assert slept == [0.5, 1.0, 2.0]  # held the operator: back-pressure
    assert [d for d, _ in stores.written] == ["clickhouse", "redis"]
    assert sink.waiting["mall_daily"] == 0
