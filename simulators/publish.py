"""Delivering simulated records: pacing in (sped-up) real time, a rate cap, progress, sinks."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from confluent_kafka import KafkaError, Message, Producer

from footfall.settings import KafkaSettings
from simulators.records import Record


class Sink(Protocol):
    def send(self, record: Record) -> None: ...
    def close(self) -> None: ...


#: librdkafka's "no partition given": its partitioner picks one by key.
PARTITION_UA = -1


class KafkaSink:
    """A librdkafka producer (confluent-kafka): about 30x kafka-python's send() rate here,
    which the load mode needs. Only producing uses it: librdkafka's consumer groups do not
    work with the local broker (docs/design.md §2), so consumers stay on kafka-python."""

    def __init__(self, settings: KafkaSettings, partition_of: Callable[[Record], int] | None = None) -> None:
        #: Where each record goes; None: the partitioner below, by key.
        self.partition_of = partition_of
        self.producer = Producer(
            {
                "bootstrap.servers": settings.servers,
                "client.id": "footfall-simulator",
                "acks": 1,
                "linger.ms": 20,
                "batch.size": 1_000_000,
                "queue.buffering.max.messages": 1_000_000,
                "queue.buffering.max.kbytes": 1_048_576,
                # The partitioner of the Java client and kafka-python: a device's events land
                # in the partition any other producer would choose for its MAC.
                "partitioner": "murmur2_random",
            }
        )
        self.topics = settings.topics
        self.failed = 0
        self._unpolled = 0

    def _delivered(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self.failed += 1

    def send(self, record: Record) -> None:
        while True:
            try:
                partition = PARTITION_UA if self.partition_of is None else self.partition_of(record)
                self.producer.produce(self.topics[record.topic], record.value, record.key, partition=partition,
                                      on_delivery=self._delivered)
                break
            except BufferError:  # local queue full: let deliveries drain
                self.producer.poll(0.05)
        self._unpolled += 1
        if self._unpolled >= 10_000:
            self.producer.poll(0)
            self._unpolled = 0

    def close(self) -> None:
        left = self.producer.flush(60)
        if left or self.failed:
            raise RuntimeError(f"{left + self.failed} records were not delivered to Kafka")


class FileSink:
    """JSON Lines of {topic, key, value}: for a dry run or to replay later."""

    def __init__(self, path: Path) -> None:
        self.out: IO[str] = sys.stdout if str(path) == "-" else open(path, "w")  # noqa: SIM115

    def send(self, record: Record) -> None:
        key = record.key.decode() if record.key else None
        self.out.write(
            json.dumps({"topic": record.topic, "key": key, "value": record.value.decode(errors="replace")}) + "\n"
        )

    def close(self) -> None:
        if self.out is not sys.stdout:
            self.out.close()


@dataclass
class Pacer:
    """Holds records back until their simulated time comes round (`speedup` x real time),
    and below `rate` records per second. `speedup=None` means as fast as possible.

    With `wall` (the epoch clock, by default), a record is also never sent before its
    time has come on that clock: a sped-up day catches up with now and then goes on in
    real time, and nothing reaches the job stamped ahead of the wall clock (the job
    rejects such reports as `future`)."""

    sim_start: float
    speedup: float | None = 1.0
    rate: float | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall: Callable[[], float] | None = time.time
    _wall_start: float = field(init=False)
    _sent: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._wall_start = self.clock()

    def wait(self, record: Record) -> None:
        due = self._wall_start
        if self.speedup:
            due = max(due, self._wall_start + (record.time - self.sim_start) / self.speedup)
        if self.rate:
            due = max(due, self._wall_start + self._sent / self.rate)
        if self.wall is not None:
            ahead = record.time - self.wall()
            if ahead > 0:
                due = max(due, self.clock() + ahead)
        delay = due - self.clock()
        if delay > 0.001:
            self.sleep(delay)
        self._sent += 1


@dataclass
class Progress:
    """One line every `every` seconds: totals, rate, simulated time, ETA when bounded.

    With `state_file`, also the simulated time reached and the records sent so far, plus a
    mark (simulated time, records sent) at every simulated hour, as JSON: what a restart
    resumes from (`load_state`), and how `footfall demo` turns the job's count of records
    read into the simulated day it has reached."""

    total: int | None = None
    every: float = 5.0
    out: IO[str] = sys.stderr
    clock: Callable[[], float] = time.monotonic
    count: int = 0
    state_file: Path | None = None
    marks: list[tuple[float, int]] = field(default_factory=list)
    last_time: float | None = None
    _start: float = field(init=False)
    _last: float = field(init=False)
    _next_mark: float = field(init=False, default=float("-inf"))
    _started_at: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._start = self._last = self.clock()
        self._started_at = self.count

    def tick(self, record: Record | None, n: int = 1) -> None:
        self.count += n
        if record is not None:
            self.last_time = record.time
        if self.state_file is not None and record is not None and record.time >= self._next_mark:
            self.marks.append((record.time, self.count))
            self._next_mark = (record.time // 3600 + 1) * 3600
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self.out.write(self.line(record) + "\n")
            self.out.flush()
            if self.state_file is not None and record is not None:
                self.save(record.time)

    def save(self, simulated_until: float) -> None:
        if self.state_file is not None:
            write_state(
                self.state_file, {"simulated_until": simulated_until, "records": self.count, "marks": self.marks}
            )

    def line(self, record: Record | None = None) -> str:
        elapsed = max(self.clock() - self._start, 1e-9)
        rate = (self.count - self._started_at) / elapsed
        parts = [f"{self.count:,} events", f"{rate:,.0f}/s"]
        if record is not None:
            parts.append("sim " + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.time)) + " UTC")
        if self.total and rate > 0:
            parts.append(f"ETA {max(self.total - self.count, 0) / rate:,.0f}s")
        return "  ".join(parts)


def load_state(path: Path) -> dict[str, Any] | None:
    """What `Progress` last saved to `path`, or None without a readable file."""
    try:
        state = json.loads(path.read_text())
        return state if isinstance(state, dict) and "simulated_until" in state else None
    except (OSError, ValueError):
        return None


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace `path` with `state` as JSON in one step (a reader never sees half a file)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state))
    partial.replace(path)


@dataclass
class Outcome:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def publish(
    records: Iterable[Record],
    sink: Sink,
    pacer: Pacer | None = None,
    max_events: int | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Send records until they run out or `max_events` have gone; always closes the sink."""
    started = time.monotonic()
    sent = 0
    try:
        for record in records:
            if max_events is not None and sent >= max_events:
                break
            if pacer is not None:
                pacer.wait(record)
            sink.send(record)
            sent += 1
            if progress is not None:
                progress.tick(record)
    finally:
        getattr(records, "close", lambda: None)()  # lets a generator finish its ground truth
        sink.close()
    return Outcome(sent, time.monotonic() - started)
