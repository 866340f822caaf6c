"""`make bench`: throughput, latency and scaling of the metrics job, each figure next to a
baseline measured in the same run.

    python -m bench [--events 250000] [--scales 1,4] [--baseline-events 24000]
                    [--rates 2000,5000,10000,20000]

1. Input: topics of the bench's own, pre-filled by `footfall simulate load` (one mall of
   its own, with duplicates, out-of-order, late and malformed records): 1x and 4x
   `--events` records (1 M records by default: big enough that start-up and JIT warm-up
   are small against the run), and a smaller one for the baseline, each closed by one
   record per partition (bench/inputs.py).
2. Throughput, each variant a Flink job of its own reading an input from the start: the
   ceiling (JSON into a blackhole) and the production job on the largest input; the
   production job at parallelism 1 and 2, and with its Python functions in thread mode,
   on 1x; the straightforward baseline, too slow for a large input, and the production
   job on the smaller one. A run lasts from its first record read until every source has
   read to the end and the last record has passed every operator (bench/flinkwatch.py);
   start-up (submission to first record read) is reported on its own.
3. Scaling: the production job at parallelism 1 on each input.
4. Live latency: the production job on empty topics, under a steady load at each rate
   (ascending), timing markers from event time to Redis and ClickHouse
   (bench/latency.py). A rate with any marker not visible in every sink within the
   drain has outrun the job; the higher rates are then reported as not run.
5. CPU and memory of every component during each phase (bench/resources.py).

Every variant that computes metrics must produce the same values as the production job
on the same input, and the ceiling must read every record: a difference fails the bench
(exit 1). Slowness never does. Results go to bench/results/: bench.json, summary.md and
chart.png.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from kafka.admin import NewTopic

from bench import inputs, quiet, report
from bench.flinkwatch import BenchError, JobWatch
from bench.inputs import Input
from bench.latency import (
    SINKS,
    LatencyConfig,
    LoadProcess,
    MarkerSender,
    Poller,
    summarise,
)
from bench.resources import ResourceSampler
from bench.results import (
    Metrics,
    baseline_metrics,
    differences,
    production_metrics,
    size,
)
from bench.variant import baseline_topics
from footfall import clients
from footfall.settings import (
    ROOT,
    ClickHouseSettings,
    KafkaSettings,
    RedisSettings,
    Settings,
)
from ops.bootstrap import clickhouse_tables, kafka_topics
from ops.processes import Background, free_port
from ops.services import all_services
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, standalone_mall

RESULTS = ROOT / "bench" / "results"
SALT = "footfall-bench-salt"
#: The bench's Redis database, emptied before each production run (the product uses 0).
REDIS_DB = 15
#: How old the REST API's metrics of a job may be. Each refresh serialises all of the
#: production job's metrics (~2,700 when this was set, ~12,900 at parallelism 2 since
#: issue 20); at 250 ms that took about 40 % of the JVM's CPU and slowed the job it
#: measured by a third. JobWatch.time also naps between the ends it times.
METRICS_REFRESH_MS = 1000
LIVE_MALL = standalone_mall(251, "bench-live")
MARKER_MALL = standalone_mall(252, "bench-marker")


@dataclass(frozen=True)
class BenchConfig:
    events: int = 250_000
    scales: tuple[int, ...] = (1, 4)
    #: The baseline's input (it reads under a thousand records a second).
    baseline_events: int = 24_000
    #: Live rates, ascending: once the job falls behind one, the higher ones are not run.
    rates: tuple[int, ...] = (2_000, 5_000, 10_000, 20_000)
    visitors_per_day: int = 20_000
    processes: int = 2
    seed: int = 42
    run_timeout_s: float = 900.0
    settle_s: float = 2.0
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    results_dir: Path = RESULTS


@dataclass
class Run:
    """One job over one input."""

    variant: str
    input: str
    parallelism: int
    records: int
    #: Where the production job's Python functions ran (FOOTFALL_JOB_PYTHON_EXECUTION_MODE).
    python_mode: str = "process"
    startup_s: float = 0.0
    seconds: float = 0.0
    events_per_s: float = 0.0
    positions: int | None = None
    metric_rows: dict[str, int] = field(default_factory=dict)
    resources: dict[str, dict[str, float]] = field(default_factory=dict)


class Bench:
    def __init__(self, config: BenchConfig, settings: Settings) -> None:
        self.config, self.settings = config, settings
        self.unique = uuid.uuid4().hex[:6]
        self.home = Path(tempfile.mkdtemp(prefix="footfall-bench-"))
        self.databases: list[str] = []
        self.problems: list[str] = []

    # --- plumbing -------------------------------------------------------------------

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def environment(self, run: str, topics: dict[str, str], parallelism: int, **extra: str) -> dict[str, str]:
        """A job's whole environment: the stack's services, the run's own topics, group,
        REST port, checkpoints, salt and metrics refresh."""
        return {
            **os.environ,
            **topics,
            "FOOTFALL_SALT": SALT,
            "FOOTFALL_VAR_DIR": str(self.home / run),
            "FOOTFALL_JOB_GROUP_ID": f"bench-{self.unique}-{run}",
            "FOOTFALL_JOB_REST_PORT": str(free_port()),
            "FOOTFALL_JOB_PARALLELISM": str(parallelism),
            "FOOTFALL_JOB_CHECKPOINT_DIR": str(self.home / run / "checkpoints"),
            "FOOTFALL_JOB_METRICS_INTERVAL_MS": str(METRICS_REFRESH_MS),
            **extra,
        }

    def output_topics(self, run: str) -> dict[str, str]:
        """The favourite-shop and dead-letter topics of a production run."""
        return {
            KafkaSettings.env_name("favorite_shops_topic"): f"favorite-shops-bench-{self.unique}-{run}",
            KafkaSettings.env_name("dead_letters_topic"): f"dead-letters-bench-{self.unique}-{run}",
        }

    def production_environment(self, run: str, topics: dict[str, str], parallelism: int) -> dict[str, str]:
        database = f"footfall_bench_{self.unique}_{run.replace('-', '_')}"
        clickhouse_tables(ClickHouseSettings(database=database))
        self.databases.append(database)
        clients.redis_client(RedisSettings(db=REDIS_DB)).flushdb()
        env = self.environment(run, {**topics, **self.output_topics(run)}, parallelism,
                               FOOTFALL_CLICKHOUSE_DATABASE=database, FOOTFALL_REDIS_DB=str(REDIS_DB))
        kafka_topics(Settings.of(env).kafka)
        return env

    def services(self) -> dict[str, int]:
        roots = {service.name: service.pidfile.read() for service in all_services(self.settings)}
        return {name: pid for name, pid in roots.items() if pid}

    def job(self, run: str, argv: list[str], program: str) -> Background:
        """A job of this run in the background (its log and pid file under the run's folder),
        stopped with whatever it started."""
        return Background(self.home / run, "job", argv, program)

    # --- phases ---------------------------------------------------------------------

    def prepare(self) -> dict[str, Input]:
        """The inputs by name: "small" (the baseline's), then "1x", "4x", ... by size."""
        load_layout(Layout((inputs.bench_mall(), LIVE_MALL, MARKER_MALL)), self.settings.postgres)
        layout_file = inputs.write_layout(self.home / "layout.json")
        sizes = {"small": self.config.baseline_events, **{f"{s}x": self.config.events * s for s in self.config.scales}}
        prefilled = {}
        for name, events in sizes.items():
            prefilled[name] = inputs.prefill(
                name, events, f"bench-{self.unique}-{name}", layout_file,
                visitors_per_day=self.config.visitors_per_day, processes=self.config.processes,
                seed=self.config.seed)
            self.log(f"input {name}: {prefilled[name].records:,} records in {prefilled[name].fill_seconds:.1f} s")
        return prefilled

    def throughput(self, variant: str, data: Input, parallelism: int = 1, python_mode: str = "process",
                   interpreter: tuple[str, ...] = (sys.executable,), label: str = "") -> tuple[Run, Metrics | None]:
        """A variant over `data`; the production job with `interpreter` (another
        checkout's Python, for bench.compare), under the run name's `label` suffix."""
        run_name = f"{variant}-{data.name}-p{parallelism}" + ("-thread" if python_mode == "thread" else "") + label
        self.log(f"{run_name}: {data.records:,} records")
        prefix = f"bench-{self.unique}-{run_name}-"  # the baseline's result topics
        if variant == "ours":
            env = self.production_environment(run_name, data.environment, parallelism)
            env["FOOTFALL_JOB_PYTHON_EXECUTION_MODE"] = python_mode
            argv, job_name, program = [*interpreter, "-m", "jobs.metrics"], "metrics", "jobs.metrics"
        else:
            env = self.environment(run_name, data.environment, parallelism)
            if variant == "baseline":
                self.create_topics(list(baseline_topics(prefix).values()))
            argv = [sys.executable, "-m", "bench.variant", variant, "--output-prefix", prefix]
            job_name, program = f"bench-{variant}", "bench.variant"
        submitted = time.monotonic()
        job = self.job(run_name, argv, program)
        sampler = ResourceSampler({**self.services(), "flink job": job.start(env=env).pid})
        sampler.start()
        try:
            watch = JobWatch(f"http://127.0.0.1:{env['FOOTFALL_JOB_REST_PORT']}", job_name)
            timing = watch.time(
                data.last_offsets, submitted, timeout_s=self.config.run_timeout_s, settle_s=self.config.settle_s
            )
            if variant == "ours":  # a short run can end between two flushes of its sinks
                watch.drained(timeout_s=60)
        finally:
            job.stop()
            resources = sampler.stop()
        run = Run(
            variant,
            data.name,
            parallelism,
            data.records,
            python_mode,
            round(timing.startup_s, 1),
            round(timing.seconds, 1),
            round(data.records / timing.seconds),
            resources=resources,
        )
        metrics = None
        if variant == "ours":
            metrics, run.positions = production_metrics(
                ClickHouseSettings(database=env["FOOTFALL_CLICKHOUSE_DATABASE"]),
                RedisSettings(db=REDIS_DB),
                data.kafka(),
                inputs.MALL_ID,
            )
        elif variant == "baseline":
            metrics, run.positions = baseline_metrics(data.kafka(), baseline_topics(prefix), inputs.MALL_ID)
        if metrics is not None:
            run.metric_rows = size(metrics)
        self.log(f"{run_name}: {run.events_per_s:,.0f} events/s ({run.seconds} s, start-up {run.startup_s} s)")
        return run, metrics

    def create_topics(self, topics: list[str]) -> None:
        admin = clients.kafka_admin(self.settings.kafka)
        try:
            admin.create_topics([NewTopic(t, 1, 1) for t in topics])
        finally:
            admin.close()

    def check(self, name: str, reference_name: str, reference: Metrics | None, metrics: Metrics | None) -> None:
        if metrics is None or reference is None:
            return
        found = differences(reference, metrics)
        if not any(reference.values()):
            found.append("the production job produced no metrics at all")
        for line in found:
            self.problems.append(f"{name} differs from {reference_name}: {line}")

    def live_latency(self) -> list[dict[str, Any]]:
        """The production job on empty topics of its own, one steady rate after another."""
        config = self.config.latency
        topics = KafkaSettings.topics_environment(f"bench-{self.unique}-live")
        env = self.production_environment("live", topics, 1)
        env["FOOTFALL_JOB_STARTUP_MODE"] = "latest-offset"
        live_settings = Settings.of(env)
        job = self.job("live", [sys.executable, "-m", "jobs.metrics"], "jobs.metrics")
        process = job.start(env=env)
        phases: list[dict[str, Any]] = []
        try:
            JobWatch(f"http://127.0.0.1:{env['FOOTFALL_JOB_REST_PORT']}", "metrics").wait_running(120)
            sender = MarkerSender(live_settings, MARKER_MALL, SALT)
            poller = Poller(live_settings, MARKER_MALL, sender.sent)
            poller.start()
            try:
                for rate in sorted(self.config.rates):
                    behind = next((p["rate"] for p in phases if not p["kept_up"]), None)
                    if behind is not None:
                        # Its backlog would be in every figure of a higher rate.
                        phases.append({"rate": rate, "skipped": f"the job fell behind {behind:,}/s"})
                        self.log(f"live at {rate:,}/s: not run, the job fell behind {behind:,}/s")
                        continue
                    phases.append(self.latency_phase(rate, live_settings, sender, process.pid, config))
            finally:
                poller.stop()
                sender.close()
        finally:
            job.stop()
        return phases

    def latency_phase(
        self, rate: int, settings: Settings, sender: MarkerSender, job_pid: int, config: LatencyConfig
    ) -> dict[str, Any]:
        load = LoadProcess(settings, LIVE_MALL, rate, config.load_devices)
        load_pid = load.start()
        time.sleep(config.first_warmup_s if not sender.sent else config.warmup_s)
        sampler = ResourceSampler({**self.services(), "flink job": job_pid, "load generator": load_pid})
        sampler.start()
        first = len(sender.sent)
        deadline = time.monotonic() + config.measure_s
        while time.monotonic() < deadline:
            sender.send()
            time.sleep(config.marker_interval_s)
        resources = sampler.stop()
        markers = sender.sent[first:]
        # The load goes on meanwhile: a second of positions is final only once later
        # reports, on every partition, move the watermark past it.
        drain_until = time.monotonic() + config.drain_s
        while time.monotonic() < drain_until and not all(len(m.seen) == len(SINKS) for m in markers):
            time.sleep(0.25)
        sent_rate = load.stop()
        delays = summarise(markers)
        # Markers go to one partition, so the visitor count shows that partition's lag;
        # positions wait for the watermark, the slowest partition's.
        kept_up = all(delays[sink]["not_seen"] == 0 for sink in SINKS)
        phase = {
            "rate": rate,
            "rate_sent": round(sent_rate),
            "kept_up": kept_up,
            "delays": delays,
            "resources": resources,
        }
        seen = delays["redis_seen"]
        self.log(
            f"live at {rate:,}/s (sent {sent_rate:,.0f}/s): devices-seen count in Redis "
            f"p50 {seen['p50_s']} s, p99 {seen['p99_s']} s, {seen['not_seen']} of {seen['markers']} "
            f"markers not seen{'' if phase['kept_up'] else ': fell behind'}"
        )
        return phase

    def cleanup(self, keep_logs: bool) -> None:
        client = clients.clickhouse(self.settings.clickhouse)
        try:
            for database in self.databases:
                client.execute(f"DROP DATABASE IF EXISTS {database}")
        finally:
            client.disconnect()
        clients.redis_client(RedisSettings(db=REDIS_DB)).flushdb()
        remove_malls([inputs.MALL_ID, LIVE_MALL.mall_id, MARKER_MALL.mall_id], self.settings.postgres)
        if not keep_logs:
            shutil.rmtree(self.home, ignore_errors=True)

    def measure(self, phase: Callable[[], dict[str, Any]],
                errors: tuple[type[Exception], ...] = (BenchError,)) -> dict[str, Any] | None:
        """Run a phase of the bench (`run`, a comparison, a scale-out) and clean up after
        it: its result, or None after a one-line error on stderr; the jobs' logs are kept
        when it failed, and said where."""
        failed = True
        try:
            result = phase()
            failed = False
            return result
        except errors as err:
            print(f"error: {err} (job logs under {self.home})", file=sys.stderr)
            return None
        finally:
            self.cleanup(keep_logs=failed)

    def run(self) -> dict[str, Any]:
        began = time.monotonic()
        prefilled = self.prepare()
        small, one, largest = prefilled["small"], prefilled["1x"], list(prefilled.values())[-1]
        runs: list[Run] = []
        # On the largest input, so that it reads for well over 10 s.
        ceiling, _ = self.throughput("ceiling", largest)
        runs.append(ceiling)
        baseline, baseline_values = self.throughput("baseline", small)
        runs.append(baseline)
        ours_small, small_values = self.throughput("ours", small)
        runs.append(ours_small)
        # The baseline computes the outputs it was written for (items 1-10), not engagement.
        compared = {t: v for t, v in (small_values or {}).items() if t in (baseline_values or {})}
        self.check("baseline-small-p1", "ours-small-p1", compared, baseline_values)
        ours, reference = self.throughput("ours", one)
        runs.append(ours)
        ours_p2, values_p2 = self.throughput("ours", one, parallelism=2)
        runs.append(ours_p2)
        self.check("ours-1x-p2", "ours-1x-p1", reference, values_p2)
        thread, values_thread = self.throughput("ours", one, python_mode="thread")
        runs.append(thread)
        self.check("ours-1x-p1-thread", "ours-1x-p1", reference, values_thread)
        for name in list(prefilled)[2:]:
            scaled, _ = self.throughput("ours", prefilled[name])
            runs.append(scaled)
        live = self.live_latency()
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "config": {**asdict(self.config), "results_dir": str(self.config.results_dir)},
            "inputs": {
                d.name: {"events": d.events, "records": d.records, "fill_seconds": round(d.fill_seconds, 1)}
                for d in prefilled.values()
            },
            "runs": [asdict(r) for r in runs],
            "latency": live,
            "checks": {
                "identical": not self.problems,
                "problems": self.problems,
                "compared": [
                    "baseline-small-p1 with ours-small-p1",
                    "ours-1x-p2 and ours-1x-p1-thread with ours-1x-p1",
                ],
                "metric_rows": ours.metric_rows,
                # A run only ends once its sources have read to every partition's last offset.
                "ceiling_read_every_record": True,
            },
            "bench_seconds": round(time.monotonic() - began),
        }


def machine() -> dict[str, object]:
    return {
        "cpus": psutil.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def numbers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v.replace("_", "")) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every number must be at least 1")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=BenchConfig.events, help="records of the 1x input (default %(default)s)"
    )
    parser.add_argument(
        "--scales", type=numbers, default=BenchConfig.scales, help="input sizes, multiples of --events (default 1,4)"
    )
    parser.add_argument(
        "--baseline-events",
        type=int,
        default=BenchConfig.baseline_events,
        help="records of the baseline's input (default %(default)s)",
    )
    parser.add_argument(
        "--rates",
        type=numbers,
        default=BenchConfig.rates,
        help="live load rates, records/s (default 2000,5000,10000,20000)",
    )
    parser.add_argument(
        "--measure",
        type=float,
        default=LatencyConfig.measure_s,
        help="seconds of markers per rate (default %(default)s)",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where to write the results (default bench/results)"
    )
    args = parser.parse_args(argv)
    if args.events < 1000 or args.baseline_events < 1000:
        parser.error("--events and --baseline-events must be at least 1000")
    if 1 not in args.scales:
        parser.error("--scales must include 1 (the input every variant runs on)")
    if args.measure <= 0:
        parser.error("--measure must be positive")
    config = BenchConfig(
        events=args.events,
        scales=tuple(sorted(set(args.scales))),
        baseline_events=args.baseline_events,
        rates=args.rates,
        latency=LatencyConfig(measure_s=args.measure),
        results_dir=args.results,
    )
    if (settings := quiet.settings_on_a_quiet_machine()) is None:
        return 2
    bench = Bench(config, settings)
    if (result := bench.measure(bench.run)) is None:
        return 1
    paths = report.write(result, config.results_dir)
    print(paths["summary"].read_text())
    print(
        f"results: {', '.join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths.values())}",
        file=sys.stderr,
    )
    if result["checks"]["problems"]:
        print(
            "error: the variants' metric values differ:\n  " + "\n  ".join(result["checks"]["problems"]),
            file=sys.stderr,
        )
        return 1
    return 0
