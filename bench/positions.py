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
import statistics
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.ownjob import SALT, job_over, own_mall
from bench.stats import percentile
from footfall import clients
from footfall.settings import ConfigError, Settings
from simulators.layout import Layout, Mall, standalone_mall
from simulators.records import probe_record
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig, unused_past_day
from simulators.truth import Truth
from udfs.identity import device_id

MALL_ID, MALL_INDEX = "bench-accuracy", 249


class Positions(Truth):
    """Where each phone was at each probe request: (mac, second) -> (x, y, zone)."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, int], tuple[float, float, str]] = {}

    def position(self, mall: Mall, t: float, mac: str, x: float, y: float, zone: str) -> None:
        self.at.setdefault((mac, int(t)), (x, y, zone))


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
    mall = standalone_mall(MALL_INDEX, MALL_ID)
    try:
        with own_mall(mall, ("positions",)) as (settings, _):
            records, truth = simulate(mall, args.minutes, args.visitors_per_day)
            with job_over(settings, records):
                rows = wait_for_positions(settings)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"minutes": args.minutes, "records": len(records), **accuracy(rows, truth)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
