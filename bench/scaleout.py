"""`make bench-scaleout`: the metrics job on a local standalone Flink cluster, one task
manager at parallelism 1 against two task managers at parallelism 2, on the same
pre-filled input (the bench's, `--events` records), each run timed as `make bench` times
its runs (bench/flinkwatch.py: first record read until every partition is read and every
operator has passed its last record) and its metric values checked equal to the 1 x 1
run's. The rehearsal of several machines on one: each task manager is a JVM of its own,
exchanging records over the network stack.

    python -m bench.scaleout [--events 250000] [--layouts 1x1,2x2]

Results go to bench/results/scaleout.json and scaleout.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import inputs, quiet
from bench.flinkwatch import BenchError, JobWatch
from bench.inputs import Input
from bench.results import Metrics, production_metrics
from bench.run import REDIS_DB, RESULTS, Bench, BenchConfig, machine
from footfall.settings import ClickHouseSettings, RedisSettings, Settings
from ops.cluster import ClusterMetricsJob
from ops.services import StackError


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """The run's environment as this process's own: `flink run -py` and the task managers
    take the job's settings from the environment they are started with."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def layouts(text: str) -> tuple[tuple[int, int], ...]:
    """'1x1,2x2' -> ((1, 1), (2, 2)): task managers x parallelism."""
    try:
        found = tuple((int(tm), int(p)) for tm, p in (part.split("x") for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 1x1,2x2 (task managers x parallelism)") from None
    if not found or min(min(pair) for pair in found) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every number must be at least 1")
    return found


class ScaleOut(Bench):
    def cluster_run(self, data: Input, taskmanagers: int, parallelism: int) -> tuple[dict[str, Any], Metrics]:
        name = f"cluster-{taskmanagers}x{parallelism}"
        self.log(f"{name}: {data.records:,} records over {taskmanagers} task manager(s) at parallelism {parallelism}")
        env = self.production_environment(name, data.environment, parallelism)
        with environment(env):
            job = ClusterMetricsJob(Settings(), taskmanagers)
            submitted = time.monotonic()
            try:
                job.start(timeout=300)
                watch = JobWatch(job.rest, "metrics")
                timing = watch.time(data.last_offsets, submitted, timeout_s=self.config.run_timeout_s,
                                    settle_s=self.config.settle_s)
                watch.drained(timeout_s=60)
            finally:
                job.stop()
        metrics, positions = production_metrics(ClickHouseSettings(database=env["FOOTFALL_CLICKHOUSE_DATABASE"]),
                                                RedisSettings(db=REDIS_DB), data.kafka(), inputs.MALL_ID)
        run = {"taskmanagers": taskmanagers, "parallelism": parallelism, "records": data.records,
               "startup_s": round(timing.startup_s, 1), "seconds": round(timing.seconds, 1),
               "records_per_s": round(data.records / timing.seconds), "positions": positions}
        self.log(f"{name}: {run['records_per_s']:,} records/s ({run['seconds']} s, start-up {run['startup_s']} s)")
        return run, metrics

    def scale_out(self, pairs: tuple[tuple[int, int], ...]) -> dict[str, Any]:
        data = self.prepare()["1x"]
        runs, reference = [], None
        for taskmanagers, parallelism in pairs:
            run, metrics = self.cluster_run(data, taskmanagers, parallelism)
            runs.append(run)
            if reference is None:
                reference = metrics
            else:
                self.check(f"cluster-{taskmanagers}x{parallelism}", f"cluster-{pairs[0][0]}x{pairs[0][1]}",
                           reference, metrics)
        return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                "input": {"events": data.events, "records": data.records}, "runs": runs,
                "identical": not self.problems, "problems": self.problems}


def summary(result: dict[str, Any]) -> str:
    first = result["runs"][0]
    lines = [
        f"# Scale-out on a standalone cluster ({result['when'][:10]})",
        "",
        f"Machine: {result['machine']['cpus']} CPUs, {result['machine']['memory_gib']} GiB; the broker, the stores "
        f"and every task manager on it. Input: {result['input']['records']:,} records (one mall, with duplicates, "
        "disorder, late and malformed records).",
        "",
        "| task managers x parallelism | records/s | seconds | start-up s | vs first |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for run in result["runs"]:
        lines.append(f"| {run['taskmanagers']} x {run['parallelism']} | {run['records_per_s']:,} | {run['seconds']} | "
                     f"{run['startup_s']} | {run['records_per_s'] / first['records_per_s']:.2f} |")
    lines += ["", "Metric values identical to the first run's: " + ("yes" if result["identical"] else
                                                                   "NO: " + "; ".join(result["problems"]))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=BenchConfig.events,
                        help="records of the input (default %(default)s)")
    parser.add_argument("--layouts", type=layouts, default=((1, 1), (2, 2)),
                        help="task managers x parallelism to compare, the first the reference (default 1x1,2x2)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write (default bench/results)")
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    if (settings := quiet.settings_on_a_quiet_machine()) is None:
        return 2
    bench = ScaleOut(BenchConfig(events=args.events, scales=(1,), baseline_events=1000), settings)
    if (result := bench.measure(lambda: bench.scale_out(args.layouts), (BenchError, StackError))) is None:
        return 1
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "scaleout.json").write_text(json.dumps(result, indent=2) + "\n")
    text = summary(result)
    (args.results / "scaleout.md").write_text(text)
    print(text)
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
