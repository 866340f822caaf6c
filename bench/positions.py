"""Position accuracy: the job's live positions against the simulator's ground truth.

    python -m bench.positions [--minutes 30] [--visitors-per-day 6000]

Runs a metrics job of its own (its own topics, consumer group, REST port, checkpoints
and a temporary var folder, so the stack's job and data are left alone) over a simulated
stretch of a mall of its own (`bench-accuracy`), with no faults. Every position the job
writes to ClickHouse is matched with where the simulator put that phone when it sent
the probe request of that second. Prints the median and 90th-percentile position error
in metres, the zone accuracy, and how many of the phones' probe-seconds were placed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.stats import percentile
from footfall import clients
from footfall.settings import ConfigError, KafkaSettings, Settings
from footfall.stack.bootstrap import kafka_topics
from footfall.stack.job import MetricsJob
from footfall.stack.processes import free_port
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, Mall, standalone_mall
from simulators.publish import KafkaSink, publish
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig, probe_record, unused_past_day
from simulators.truth import Truth
from udfs.identity import device_id

MALL_ID, MALL_INDEX = "bench-accuracy", 249
SALT = "bench-accuracy-salt"


class Positions(Truth):
    """Where each phone was at each probe request: (mac, second) -> (x, y, zone)."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, int], tuple[float, float, str]] = {}

    def position(self, mall: Mall, t: float, mac: str, x: float, y: float, zone: str) -> None:
        self.at.setdefault((mac, int(t)), (x, y, zone))


def own_settings(unique: str, var_dir: str) -> Settings:
    """The stack's services, with topics, group, port, folders and salt of this run."""
    os.environ.update({
        "FOOTFALL_VAR_DIR": var_dir,
        "FOOTFALL_SALT": SALT,
        "FOOTFALL_JOB_REST_PORT": str(free_port()),
        "FOOTFALL_JOB_CHECKPOINT_DIR": os.path.join(var_dir, "checkpoints"),
        "FOOTFALL_JOB_GROUP_ID": f"bench-accuracy-{unique}",
        "FOOTFALL_KAFKA_PARTITIONS": "1",
        **KafkaSettings.topics_environment(f"bench-{unique}"),
    })
    return Settings()


def simulate(mall: Mall, minutes: int, visitors_per_day: int) -> tuple[list[Any], Positions]:
    day = unused_past_day()
    start = datetime.combine(day, datetime.min.time().replace(hour=14), ZoneInfo(mall.tz)).timestamp()
    truth = Positions()
    # People in the mall only: street passers-by outside it have no zone to get right.
    behaviour = Behaviour(visitors_per_day=visitors_per_day, street_passers_per_visitor=0.0)
    config = SimulationConfig(start=start, end=start + minutes * 60, seed=11, behaviour=behaviour)
    records = list(Simulation(Layout((mall,)), config, truth).records())
    # A randomised phone a minute after the end moves the watermark past the last second.
    end = start + minutes * 60 + 60
    records.append(probe_record("closing", mall.probes[-1].ap_mac, "06:00:00:00:00:01", -50, int(end * 1000), end))
    return records, truth


def wait_for_positions(settings: Settings, timeout: float = 300) -> list[tuple[Any, ...]]:
    """The job's positions, once their number has stopped growing."""
    client = clients.clickhouse(settings.clickhouse)
    deadline, stable = time.monotonic() + timeout, 0
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and stable < 5:
        time.sleep(2)
        fresh = client.execute("SELECT device_id, toUnixTimestamp(ts), x, y, zone FROM positions "
                               "WHERE mall_id = %(m)s", {"m": MALL_ID})
        stable = stable + 1 if fresh and len(fresh) == len(rows) else 0
        rows = fresh
    return rows


def accuracy(rows: list[tuple[Any, ...]], truth: Positions) -> dict[str, float]:
    by_device = {(device_id(SALT, mac.lower().replace("-", ":")), second): where
                 for (mac, second), where in truth.at.items()}
    errors, zone_hits = [], 0
    for device, second, x, y, zone in rows:
        where = by_device.get((device, second))
        if where is None:
            continue  # a randomised MAC is not placed; anything else would be a bug, counted below
        errors.append(math.hypot(x - where[0], y - where[1]))
        zone_hits += zone == where[2]
    errors.sort()
    placed_share = len(errors) / max(1, sum(1 for (mac, _) in truth.at if not int(mac[:2], 16) & 2))
    return {
        "positions": len(rows),
        "matched": len(errors),
        "placed_share": round(placed_share, 4),
        "error_p50_m": round(statistics.median(errors), 2),
        "error_p90_m": round(percentile(errors, 0.9), 2),
        "zone_accuracy": round(zone_hits / len(errors), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.positions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=30, help="simulated minutes (default 30)")
    parser.add_argument("--visitors-per-day", type=int, default=6000, help="the mall's visitors (default 6000)")
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.visitors_per_day < 1:
        parser.error("--minutes and --visitors-per-day must be at least 1")
    unique = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as var_dir:
        try:
            settings = own_settings(unique, var_dir)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        mall = standalone_mall(MALL_INDEX, MALL_ID)
        clients.clickhouse(settings.clickhouse).execute(f"ALTER TABLE positions DELETE WHERE mall_id = '{MALL_ID}'")
        load_layout(Layout((mall,)), settings.postgres)
        kafka_topics(settings.kafka)
        records, truth = simulate(mall, args.minutes, args.visitors_per_day)
        job = MetricsJob(settings)
        try:
            job.start()
            publish(records, KafkaSink(settings.kafka))
            rows = wait_for_positions(settings)
        finally:
            job.stop()
            remove_malls([MALL_ID], settings.postgres)
    print(json.dumps({"minutes": args.minutes, "records": len(records), **accuracy(rows, truth)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
