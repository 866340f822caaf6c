"""The position estimator alone against the simulator's walking truth, without the job.

    python -m bench.placement [--hours 2] [--density shop] [--radio 2.7/6] [--visitors-per-day 1000]

For tuning the estimator and the smoothing (udfs/positioning.py, the Java functions'
twins) in seconds rather than a job's minutes: simulates `--hours` of one built-in mall
from noon (no faults), places every visitor's second from its reports at or above the
mall threshold as the job does (each probe's strongest report; randomised phones and
staff left out), smooths each device's fixes with the Tracker, and scores against where
the simulator put the phone at that probe request. Prints the median and 90th-percentile
error in metres and the share of seconds in the right zone, for the fixes alone, for the
smoothed track, and for an oracle that knows where each person stood still and averages
every fix of one stop: a bound on what any smoothing of these fixes can reach.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.accuracy import radio_settings
from bench.stats import percentile
from footfall.settings import MetricSettings
from simulators.layout import DENSITIES, Layout, Mall, standalone_mall
from simulators.radio import RadioModel
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig
from simulators.truth import TruthFile
from udfs.positioning import Fix, FloorPlan, Heard, Tracker, locate

#: The built-in mall the accuracy report's first mall is a copy of.
MALL_INDEX = 240
THRESHOLD = MetricSettings.model_fields["mall_min_rssi"].default


def scores(errors: list[float], hits: int) -> dict[str, Any]:
    errors = sorted(errors)
    return {"seconds": len(errors), "p50_m": round(percentile(errors, 0.5), 2),
            "p90_m": round(percentile(errors, 0.9), 2), "zone": round(hits / len(errors), 4)}


def place(mall: Mall, hours: float, radio: RadioModel, visitors_per_day: int) -> dict[str, dict[str, Any]]:
    start = datetime(2031, 3, 5, 12, 0, tzinfo=mall.zone).timestamp()
    config = SimulationConfig(start=start, end=start + hours * 3600, seed=17,
                              behaviour=Behaviour(visitors_per_day=visitors_per_day), radio=radio)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "truth.jsonl"
        records = list(Simulation(Layout((mall,)), config, TruthFile(path, 900)).records())
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    left_out = {mac for row in rows if row["type"] == "trip" and (row["staff"] or row["randomized"])
                for mac in row["macs"]}
    truth = {(row["mac"], int(row["t"])): (row["x"], row["y"], row["zone"]) for row in rows
             if row["type"] == "position" and row["zone"] != "outside"}
    heard: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for record in records:
        report = json.loads(record.value)
        if record.topic == "wifi-probes" and report["device_mac"] not in left_out and report["rssi"] >= THRESHOLD:
            strongest = heard[(report["device_mac"], report["occur_time"] // 1000)]
            strongest[report["ap_mac"]] = max(strongest.get(report["ap_mac"], -999), report["rssi"])
    plan = FloorPlan([(shop.shop_code, shop.polygon) for shop in mall.shops], [(p.x, p.y) for p in mall.probes])
    places = {probe.ap_mac: (probe.x, probe.y) for probe in mall.probes}
    tracks: dict[str, list[tuple[int, Fix]]] = defaultdict(list)
    for mac, second in sorted(heard, key=lambda key: key[1]):
        x, y, zone = locate(plan, [Heard(*places[ap], rssi) for ap, rssi in heard[(mac, second)].items()], THRESHOLD)
        tracks[mac].append((second, (second * 1000, x, y, zone, plan.room(x, y))))
    fixes: list[float] = []
    smoothed: list[float] = []
    hits = 0
    stops: dict[tuple[str, float, float], list[tuple[float, float, float, float]]] = defaultdict(list)
    for mac, track in tracks.items():
        for (second, fix), (sx, sy) in zip(track, Tracker().smooth(f for _, f in track), strict=True):
            where = truth.get((mac, second))
            if where is None:
                continue
            fixes.append(math.hypot(fix[1] - where[0], fix[2] - where[1]))
            smoothed.append(math.hypot(sx - where[0], sy - where[1]))
            hits += fix[3] == where[2]
            stops[(mac, where[0], where[1])].append((fix[1], fix[2], where[0], where[1]))
    averaged = []
    for stop in stops.values():
        mx, my = sum(f[0] for f in stop) / len(stop), sum(f[1] for f in stop) / len(stop)
        averaged += [math.hypot(mx - tx, my - ty) for _, _, tx, ty in stop]
    return {"fixes": scores(fixes, hits), "smoothed": scores(smoothed, hits),
            "oracle_stop_average": scores(averaged, hits)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.placement", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours from noon (default 2)")
    parser.add_argument("--density", choices=tuple(DENSITIES), default="shop", help="access points (default shop)")
    parser.add_argument("--radio", type=radio_settings, default=((RadioModel.exponent, RadioModel.shadowing),),
                        help="exponent/shadowing pairs, comma separated (default the simulator's)")
    parser.add_argument("--visitors-per-day", type=int, default=1000, help="(default 1000)")
    args = parser.parse_args(argv)
    if args.hours <= 0 or args.visitors_per_day < 1:
        parser.error("--hours and --visitors-per-day must be positive")
    mall = standalone_mall(MALL_INDEX, "bench-placement", args.density)
    for exponent, shadowing in args.radio:
        figures = place(mall, args.hours, RadioModel(exponent=exponent, shadowing=shadowing), args.visitors_per_day)
        print(json.dumps({"radio": [exponent, shadowing], "density": args.density, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
