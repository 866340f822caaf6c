"""Event-to-Redis freshness: how long after a probe report its device, and its live
position, show in Redis.

    python -m bench.freshness [--samples 30] [--load-rate 2000]

A mall of its own (`bench-freshness`) is put into PostgreSQL. Each sample publishes one
probe report, stamped now, for a device never seen before, then polls the mall's
`ff:{mall_id}:today` hash until its count of devices seen includes it (one report makes a
passer-by, not a visitor) and, under load, the
mall's `ff:{mall_id}:positions` hash until the device is in it. With --load-rate the
simulator streams shoppers at that rate meanwhile (real time, so its events are not
ahead of the samples' and do not make them late). The running metrics job is measured,
whichever way it runs; prints p50, p95 and max in seconds.

A second of positions is final once a later report has moved the position watermark
past it, so positions are timed only under load: with nothing else arriving, a lone
report's second waits for the next report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import threading
import time
import uuid

from bench.stats import percentile
from footfall import clients
from footfall.settings import ConfigError, Settings
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, Mall, standalone_mall
from simulators.publish import KafkaSink
from simulators.records import probe_record
from udfs.identity import device_id

MALL_ID = "bench-freshness"


@dataclasses.dataclass(frozen=True)
class FreshnessConfig:
    samples: int = 30
    interval_s: float = 1.0
    timeout_s: float = 60.0
    load_rate: int = 0
    load_devices: int = 5_000


LOAD_MALL_ID = "bench-load"
#: Probes that hear each of the load's probe requests.
HEARD_BY = 4
#: Beyond the demo's and the tests' malls (MACs hold the index in one octet), so their probes are their own.
MALL_INDEX, LOAD_MALL_INDEX = 255, 254


class SteadyLoad(threading.Thread):
    """Probe reports at a fixed rate, stamped now, until stopped: probe requests of
    random devices, each heard by HEARD_BY neighbouring probes."""

    def __init__(self, settings: Settings, mall: Mall, rate: int, devices: int, seed: int = 7) -> None:
        super().__init__(daemon=True)
        self.settings, self.mall, self.rate, self.devices = settings, mall, rate, devices
        self.random = random.Random(seed)
        self.stopping = threading.Event()
        self.sent = 0
        self.began = time.monotonic()

    def run(self) -> None:
        sink = KafkaSink(self.settings.kafka)
        self.began = time.monotonic()
        try:
            while not self.stopping.is_set():
                due = int((time.monotonic() - self.began) * self.rate) - self.sent
                now_ms = int(time.time() * 1000)
                # A phone's probe request is heard by a few neighbouring probes at once, as
                # in the simulator's radio model: one position per request, not per report.
                for _ in range(0, due, HEARD_BY):
                    device = self.random.randrange(self.devices)
                    mac = f"00:1b:{device >> 16 & 0xFF:02x}:{device >> 8 & 0xFF:02x}:{device & 0xFF:02x}:01"
                    first = self.random.randrange(len(self.mall.probes) - HEARD_BY)
                    for probe in self.mall.probes[first:first + HEARD_BY]:
                        rssi = self.random.randint(-90, -40)
                        sink.send(probe_record(f"load-{self.sent}", probe.ap_mac, mac, rssi, now_ms, now_ms / 1000))
                        self.sent += 1
                time.sleep(0.005)
        finally:
            sink.close()

    def stop(self) -> float:
        """Stop; returns the rate actually sent, in reports per second."""
        self.stopping.set()
        self.join(30)
        return self.sent / max(time.monotonic() - self.began, 1e-9)


def measure(settings: Settings, config: FreshnessConfig, mall: Mall) -> tuple[list[float], list[float]]:
    """Per sample, the delay until its device is counted as seen, and (under load) until its
    position is live."""
    probe = next(p for p in mall.probes if p.shop_code)
    sink = KafkaSink(settings.kafka)
    redis = clients.redis_client(settings.redis)
    salt = settings.metrics.salt_value(settings.stack.var_dir)
    key, positions = f"ff:{MALL_ID}:today", f"ff:{MALL_ID}:positions"
    # A count left by an earlier run (whose events a restarted broker no longer holds)
    # could be higher than the job's: the samples would wait for it in vain.
    redis.delete(key)
    run = uuid.uuid4().hex[:6]
    counted, placed = [], []
    try:
        for n in range(config.samples):
            before = int(redis.hget(key, "devices_seen") or 0)
            # Universally administered (not randomised), unique to this run and sample.
            mac = f"00:{run[:2]}:{run[2:4]}:{run[4:6]}:{n // 256:02x}:{n % 256:02x}"
            device = device_id(salt, mac)
            sent = time.time()
            sink.send(probe_record(f"freshness-{run}-{n}", probe.ap_mac, mac, -50, int(sent * 1000), sent))
            sink.producer.flush()
            waiting_count, waiting_position = True, bool(config.load_rate)
            while (waiting_count or waiting_position) and time.time() - sent < config.timeout_s:
                if waiting_count and int(redis.hget(key, "devices_seen") or 0) > before:
                    counted.append(time.time() - sent)
                    waiting_count = False
                if waiting_position and redis.hexists(positions, device):
                    placed.append(time.time() - sent)
                    waiting_position = False
                time.sleep(0.01)
            if waiting_count:
                counted.append(time.time() - sent)
            if waiting_position:
                placed.append(time.time() - sent)
            time.sleep(config.interval_s)
    finally:
        sink.close()
    return counted, placed


def summary(delays: list[float]) -> dict[str, float]:
    ordered = sorted(delays)
    return {
        "samples": len(ordered),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(percentile(ordered, 0.95), 3),
        "max_s": round(ordered[-1], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.freshness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=30, help="probe reports to time (default 30)")
    parser.add_argument("--load-rate", type=int, default=0, help="simulated shoppers' records/s meanwhile (default 0)")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.load_rate < 0:
        parser.error("--samples must be at least 1 and --load-rate not negative")
    try:
        settings = Settings()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = FreshnessConfig(samples=args.samples, load_rate=args.load_rate)
    malls = (standalone_mall(MALL_INDEX, MALL_ID), standalone_mall(LOAD_MALL_INDEX, LOAD_MALL_ID))
    load_layout(Layout(malls), settings.postgres)
    load = SteadyLoad(settings, malls[1], config.load_rate, config.load_devices) if config.load_rate else None
    sent_rate = 0.0
    try:
        if load is not None:
            load.start()
            time.sleep(15)  # the job's steady state under the load
        counted, placed = measure(settings, config, malls[0])
        result = {"seen": summary(counted), **({"position": summary(placed)} if placed else {})}
    finally:
        if load is not None:
            sent_rate = load.stop()
        remove_malls([MALL_ID, LOAD_MALL_ID], settings.postgres)
    print(json.dumps({"load_rate": config.load_rate, "load_rate_sent": round(sent_rate), **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
