"""Live latency: how long after its event time a probe report is visible in Redis and
in ClickHouse, while the production job takes a steady load.

The load (bench.freshness.SteadyLoad, in a process of its own) streams probe reports
stamped now for one mall. Meanwhile a marker, a report of a phone never seen before in a
second mall, is sent every `marker_interval_s` to partition 0 of the input, so the job
reads the markers in the order they were sent; a poller watches that mall's count of
devices seen (Redis `ff:{mall}:today`, ClickHouse `mall_daily`: a marker heard once is a
passer-by, never a visitor, docs/design.md §4 item 1; the devices-seen count takes the
path the visitor count took before visitors needed a minimum dwell) and positions (Redis
`ff:{mall}:positions`, ClickHouse `positions`). Marker n is visible in a count once the
count reaches n + 1; in positions once its device is there.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
from dataclasses import dataclass, field

from clickhouse_driver.errors import Error as ClickHouseError
from kafka import KafkaProducer
from redis import RedisError

from bench.freshness import SteadyLoad
from bench.stats import percentile
from footfall import clients
from footfall.outputs import POSITIONS, TODAY
from footfall.settings import Settings
from simulators.layout import Mall
from simulators.records import probe_record
from udfs.identity import device_id

SINKS = ("redis_seen", "clickhouse_seen", "redis_position", "clickhouse_position")


@dataclass(frozen=True)
class LatencyConfig:
    #: Before the first rate: a job just started is still warming up (JIT, Python workers).
    #: A job started on an idle topic reads a load of 2,000 records/s only once warm, so
    #: the rates go up from a lower one.
    first_warmup_s: float = 25.0
    warmup_s: float = 5.0
    measure_s: float = 12.0
    #: After the last marker, how long the markers not yet visible may take (the load
    #: goes on). A job that has not shown them all by then has fallen behind the rate.
    drain_s: float = 12.0
    marker_interval_s: float = 0.25
    load_devices: int = 20_000


@dataclass
class Marker:
    n: int
    device: str
    sent: float
    seen: dict[str, float] = field(default_factory=dict)


def _load(settings: Settings, mall: Mall, rate: int, devices: int, stop, sent) -> None:  # type: ignore[no-untyped-def]
    load = SteadyLoad(settings, mall, rate, devices)
    load.start()
    stop.wait()
    load.stop()
    sent.value = load.sent


class LoadProcess:
    """SteadyLoad in a process of its own, so it neither shares the bench's interpreter
    lock with the poller nor hides in its CPU figures."""

    def __init__(self, settings: Settings, mall: Mall, rate: int, devices: int) -> None:
        ctx = mp.get_context("fork")
        self.stopping, self.sent = ctx.Event(), ctx.Value("q", 0)
        self.process = ctx.Process(target=_load, args=(settings, mall, rate, devices, self.stopping, self.sent),
                                   name=f"load-{rate}", daemon=True)
        self.began = 0.0

    def start(self) -> int:
        self.began = time.monotonic()
        self.process.start()
        return int(self.process.pid or 0)

    def stop(self) -> float:
        """Stop; the rate actually sent, in records/s."""
        self.stopping.set()
        self.process.join(60)
        return float(self.sent.value) / max(time.monotonic() - self.began, 1e-9)


class Poller(threading.Thread):
    """Watches the marker mall's outputs and notes when each marker first shows."""

    def __init__(self, settings: Settings, mall: Mall, markers: list[Marker], interval_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.settings, self.mall, self.markers, self.interval_s = settings, mall, markers, interval_s
        self.stopping = threading.Event()
        self.errors = 0

    def run(self) -> None:
        redis = clients.redis_client(self.settings.redis)
        clickhouse = clients.clickhouse(self.settings.clickhouse)
        today, positions = TODAY.format(mall_id=self.mall.mall_id), POSITIONS.format(mall_id=self.mall.mall_id)
        try:
            while not self.stopping.wait(self.interval_s):
                try:
                    self.poll(redis, clickhouse, today, positions)
                except (RedisError, ClickHouseError, OSError):  # a slow service: the next poll tries again
                    self.errors += 1
        finally:
            clickhouse.disconnect()

    def poll(self, redis, clickhouse, today: str, positions: str) -> None:  # type: ignore[no-untyped-def]
        pipe = redis.pipeline()
        pipe.hget(today, "devices_seen")
        pipe.hkeys(positions)
        redis_count, redis_devices = pipe.execute()
        now = time.time()
        seen_counts = {"redis_seen": int(redis_count or 0)}
        seen_devices = {"redis_position": set(redis_devices)}
        rows = clickhouse.execute("SELECT max(devices_seen) FROM mall_daily FINAL WHERE mall_id = %(m)s",
                                  {"m": self.mall.mall_id})
        seen_counts["clickhouse_seen"] = int(rows[0][0] or 0) if rows else 0
        seen_devices["clickhouse_position"] = {
            row[0] for row in clickhouse.execute("SELECT DISTINCT device_id FROM positions WHERE mall_id = %(m)s",
                                                 {"m": self.mall.mall_id})}
        ch_now = time.time()
        for marker in list(self.markers):
            for sink, count in seen_counts.items():
                if sink not in marker.seen and count >= marker.n + 1:
                    marker.seen[sink] = (now if sink.startswith("redis") else ch_now) - marker.sent
            for sink, devices in seen_devices.items():
                if sink not in marker.seen and marker.device in devices:
                    marker.seen[sink] = (now if sink.startswith("redis") else ch_now) - marker.sent

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


class MarkerSender:
    def __init__(self, settings: Settings, mall: Mall, salt: str) -> None:
        self.settings, self.mall, self.salt = settings, mall, salt
        self.producer = KafkaProducer(bootstrap_servers=settings.kafka.servers, acks=1, linger_ms=0)
        self.probe = next(p for p in mall.probes if p.shop_code)
        self.sent: list[Marker] = []
        self.run = random.getrandbits(16)

    def send(self) -> Marker:
        n = len(self.sent)
        # Universally administered (not randomised) and unique to this bench run.
        mac = f"00:bb:{self.run >> 8:02x}:{self.run & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
        at = time.time()
        record = probe_record(f"marker-{self.run}-{n}", self.probe.ap_mac, mac, -45, int(at * 1000), at)
        self.producer.send(self.settings.kafka.wifi_probes_topic, record.value, key=record.key, partition=0)
        self.producer.flush()
        marker = Marker(n, device_id(self.salt, mac), at)
        self.sent.append(marker)
        return marker

    def close(self) -> None:
        self.producer.close()


def summarise(markers: list[Marker]) -> dict[str, dict[str, float | int | None]]:
    """Per sink: p50/p95/p99/max delay in seconds over the markers that showed, and how
    many did not show at all."""
    summary: dict[str, dict[str, float | int | None]] = {}
    for sink in SINKS:
        delays = sorted(m.seen[sink] for m in markers if sink in m.seen)
        summary[sink] = {
            "markers": len(markers),
            "not_seen": len(markers) - len(delays),
            **{name: (round(percentile(delays, q), 2) if delays else None)
               for name, q in (("p50_s", 0.5), ("p95_s", 0.95), ("p99_s", 0.99))},
            "max_s": round(delays[-1], 2) if delays else None,
        }
    return summary
