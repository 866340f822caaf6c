"""The reports a restatement reads (jobs/metrics/restate.py): of each input topic, per
partition, the stretch of offsets from the first to the last message whose event time
falls in a mall-day's reading span (footfall/restatement.py MallDay.reads_ms), every
message in between included, in the partition's order, as the live job read them.

Messages are chosen by their event time, not the broker's time index: a backfill (the
demo's history, a probe's backlog) is sent long after it happened, and not every broker
answers a lookup by time (the local one does not). So each topic is read whole up to
where it ended when the excerpt began. A message whose event time was beyond the future
tolerance of its own broker timestamp was turned away live as `future`, and is left out
here too (the restatement's clock is later than the live job's was). The excerpt is
written to `folder` as one JSON line per message ({"body", "kafka_partition",
"kafka_offset"}), a file per partition, which the restatement's sources read
(restatement_sources.sql). No
PyFlink import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from footfall.restatement import Refused


@dataclass(frozen=True)
class Window:
    """Event times (epoch ms) of the messages a restatement takes, and the future tolerance."""

    first_ms: int
    last_ms: int
    future_tolerance_ms: int


def event_ms(value: bytes) -> int | None:
    """A message's `occur_time` as the job reads it (an integer of epoch ms), or None."""
    try:
        stamp = json.loads(value).get("occur_time")
    except (ValueError, AttributeError):
        return None
    return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None


class TopicReader:
    """One topic read from its beginning to where each partition ended when it began."""

    def __init__(self, servers: str, topic: str) -> None:
        self.topic = topic
        self.consumer = Consumer({
            "bootstrap.servers": servers, "group.id": "footfall-restatement", "enable.auto.commit": False,
            "enable.partition.eof": True, "auto.offset.reset": "earliest",
        })
        #: Per partition, the first offset the broker still holds (above 0 once it dropped some).
        self.low: dict[int, int] = {}

    def messages(self) -> Iterator[tuple[int, int, bytes, int]]:
        """(partition, offset, value, broker timestamp ms) of every message, each
        partition in order, until each partition's end (as the broker says when it is
        reached) or its first message stamped after this began: what came in since is
        not needed, and a partition that never rests would otherwise be read for good.
        (The end offsets the broker reports up front are no bound: some brokers report
        them a batch short.)"""
        began_ms = int(time.time() * 1000)
        meta = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
        parts = sorted(meta.partitions) if meta is not None and meta.partitions else []
        ends = {}
        for p in parts:
            self.low[p], ends[p] = self.consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)
        self.consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in parts])
        reading = {p for p in parts if ends[p] > self.low[p]}
        while reading:
            message = self.consumer.poll(1.0)
            if message is None:
                continue
            p, offset, error = message.partition(), message.offset(), message.error()
            if error is not None or p is None or offset is None:
                if error is None:
                    continue
                if error.code() == KafkaError._PARTITION_EOF:
                    reading.discard(p)
                    continue
                raise ConnectionError(f"{self.topic}: {error}")
            if p not in reading:
                continue
            if message.timestamp()[1] > began_ms:
                reading.discard(p)
                continue
            yield p, offset, message.value() or b"", message.timestamp()[1]

    def close(self) -> None:
        self.consumer.close()


class PartitionFile:
    """One partition's stretch, written as it is read and cut after its last message in
    the window when done."""

    def __init__(self, path: Path) -> None:
        self.out = path.open("w", encoding="utf-8")
        self.messages = self.kept = 0
        self.cut_at = 0

    def add(self, partition: int, offset: int, value: bytes, in_window: bool) -> None:
        body = value.decode("utf-8", errors="replace")
        self.out.write(json.dumps({"body": body, "kafka_partition": partition, "kafka_offset": offset}) + "\n")
        self.messages += 1
        if in_window:
            self.cut_at, self.kept = self.out.tell(), self.messages

    def close(self) -> int:
        self.out.truncate(self.cut_at)
        self.out.close()
        return self.kept


def write(servers: str, topic: str, window: Window, folder: Path) -> int:
    """Write the excerpt of `topic` into `folder` (a file per partition); how many messages
    it holds. Raises Refused if the broker has dropped messages the window may need."""
    reader = TopicReader(servers, topic)
    try:
        return select(reader.messages(), reader.low, topic, window, folder)
    finally:
        reader.close()


def select(messages: Iterable[tuple[int, int, bytes, int]], low: Mapping[int, int], topic: str, window: Window,
           folder: Path) -> int:
    """The excerpt of `messages` ((partition, offset, value, broker ms), each partition in
    order, `low` its first offset held) written into `folder`; how many it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[int, PartitionFile] = {}
    first_seen: set[int] = set()
    try:
        for partition, offset, value, stamp_ms in messages:
            at = event_ms(value)
            if partition not in first_seen:
                first_seen.add(partition)
                if low.get(partition, 0) > 0 and (at is None or at >= window.first_ms):
                    raise Refused(f"{topic} partition {partition} starts at offset {low[partition]}: the broker no "
                                  "longer holds all of the day's reports; nothing was restated")
            if at is not None and at > stamp_ms + window.future_tolerance_ms:
                continue  # turned away live as `future`
            in_window = at is not None and window.first_ms <= at <= window.last_ms
            if partition not in files:
                if not in_window:
                    continue  # before the stretch: never needed
                files[partition] = PartitionFile(folder / f"partition-{partition}.json")
            files[partition].add(partition, offset, value, in_window)
    finally:
        kept = sum(f.close() for f in files.values())
    return kept
