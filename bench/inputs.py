"""The bench's input: topics of its own, pre-filled by the simulator's load mode, then
closed by one record per partition.

The closing records are a lot later than the simulated traffic, so the watermark passes
every window (the last visits end, the last seconds of positions are final), and each is
sent alone with its offset returned: the bench knows exactly where every partition ends
without asking the broker (Tansu reports a partition's end one batch short, docs/design.md §2).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kafka import KafkaProducer

from footfall.settings import ROOT, KafkaSettings, Settings
from ops.bootstrap import kafka_topics
from simulators.layout import Layout, Mall, standalone_mall
from simulators.records import door_record, probe_record

#: Beyond the demo's and the tests' malls (MACs hold the index in one octet).
MALL_ID, MALL_INDEX = "bench-mall", 250
#: The simulated traffic starts here (mall time); the closing records come this much later.
START = "2025-06-02T09:00:00"  # a Monday, in the past: the job rejects reports from the future
CLOSING_AFTER_DAYS = 60
#: A fault mix like the demo's, so validation, deduplication and the late rule do work.
FAULTS = {
    "--duplicate-rate": "0.02",
    "--out-of-order-rate": "0.01",
    "--late-rate": "0.002",
    "--malformed-rate": "0.002",
}


@dataclass(frozen=True)
class Input:
    """Pre-filled topics: the environment that points a job at them, and where each
    partition ends (the offset of its closing record)."""

    name: str
    events: int
    environment: dict[str, str]
    last_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    fill_seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(offset + 1 for offset in self.last_offsets.values())

    def kafka(self) -> KafkaSettings:
        return Settings.of(self.environment).kafka


def bench_mall() -> Mall:
    return standalone_mall(MALL_INDEX, MALL_ID)


def prefill(
    name: str, events: int, topics_suffix: str, layout_file: Path, *, visitors_per_day: int, processes: int, seed: int
) -> Input:
    """Create the input's topics and fill them with `events` simulated records
    (`footfall simulate load`, run as `python -m ops`), then close each partition."""
    environment = {**KafkaSettings.topics_environment(topics_suffix)}
    kafka = Input(name, events, environment).kafka()
    kafka_topics(kafka)
    argv = [
        sys.executable,
        "-m",
        "ops",
        "simulate",
        "load",
        "--layout",
        str(layout_file),
        "--start",
        START,
        "--seed",
        str(seed),
        "--visitors-per-day",
        str(visitors_per_day),
        "--events",
        str(events),
        "--processes",
        str(processes),
        *[item for option in FAULTS.items() for item in option],
    ]
    began = datetime.now().timestamp()
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **environment}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    seconds = datetime.now().timestamp() - began
    return Input(name, events, environment, close(kafka, bench_mall()), seconds)


def close(kafka: KafkaSettings, mall: Mall) -> dict[tuple[str, int], int]:
    """One valid record per partition, CLOSING_AFTER_DAYS after the start: a randomised
    phone (it counts only as a randomised device) and a door report of nobody. Returns
    each partition's last offset."""
    at = datetime.fromisoformat(START).replace(tzinfo=ZoneInfo(mall.tz)).timestamp() + CLOSING_AFTER_DAYS * 86400
    occur_ms = int(at * 1000)
    entrance = mall.entrances[0]
    producer = KafkaProducer(bootstrap_servers=kafka.servers, acks=1)
    ends: dict[tuple[str, int], int] = {}
    try:
        for topic in (kafka.wifi_probes_topic, kafka.door_sensors_topic):
            for partition in sorted(producer.partitions_for(topic)):
                if topic == kafka.wifi_probes_topic:
                    record = probe_record(
                        f"closing-{partition}",
                        mall.probes[0].ap_mac,
                        f"06:00:00:00:{MALL_INDEX:02x}:{partition:02x}",
                        -50,
                        occur_ms,
                        at,
                    )
                else:
                    record = door_record(entrance, mall.mall_id, occur_ms, 0, 0, at)
                sent = producer.send(topic, record.value, key=record.key, partition=partition).get(timeout=30)
                ends[(topic, partition)] = sent.offset
    finally:
        producer.close()
    return ends


def write_layout(path: Path) -> Path:
    Layout((bench_mall(),)).save(path)
    return path
