"""Restating a demo mall-day beside the live job: how long it takes, and what it does to
the live job's latency (docs/metrics-job.md "Restatement").

`python -m bench.restatement` (the stack up, without its job: `footfall up --no-job`):

1. The demo's day two days back (its plan: three malls, 300 visitors a weekday, a little
   of every fault) is sent to topics of the bench's own, and the production job counts it
   into a database of its own; then the job goes on live under a steady load on a mall of
   its own, with markers whose delay to Redis and ClickHouse is measured (bench/latency.py).
2. Rounds, interleaved: the live latency over a quiet spell, then over the restatement of
   one of the demo malls' day (`python -m jobs.metrics.restate`, its own process), with
   the restatement's time and its steps.

Results: bench/results/restatement.md (and .json), dated.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.flinkwatch import JobWatch
from bench.latency import SINKS, LoadProcess, MarkerSender, Poller, summarise
from bench.run import LIVE_MALL, MARKER_MALL, SALT, Bench, BenchConfig
from footfall import clients
from footfall.settings import ROOT, KafkaSettings, Settings
from ops.demo import DemoPlan
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, standalone_mall

RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class RestateBenchConfig:
    rounds: int = 2
    #: The live load beside it, records/s: a large mall at its Saturday peak.
    rate: int = 500
    #: The quiet spell each round measures before its restatement.
    quiet_s: float = 60.0
    marker_interval_s: float = 0.5
    #: The demo's plan, its history two days back: the day before yesterday is closed.
    demo: DemoPlan = DemoPlan(days=2)


def demo_malls(plan: DemoPlan) -> Layout:
    """Malls of the demo's kind under ids and probe MACs of the bench's own (the demo's own
    malls may be loaded on this stack)."""
    return Layout(tuple(standalone_mall(240 + n, f"bench-demo-{n}") for n in range(plan.malls)))


def send_demo_day(env: dict[str, str], plan: DemoPlan, layout_file: Path) -> None:
    """The demo's first day of history, whole, into the run's topics."""
    args = plan.simulator_args()
    at = args.index("--malls")
    argv = [sys.executable, "-m", "simulators", "run", *args[:at], *args[at + 2:], "--layout", str(layout_file),
            "--duration", "1d"]
    subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True)


def wait_caught_up(settings: Settings, mall_ids: list[str], timeout: float = 1800) -> None:
    """Until the job has counted the demo day: its malls' device counts stop growing."""
    client = clients.clickhouse(settings.clickhouse)
    last, deadline = -1, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = client.execute("SELECT sum(devices_seen) FROM mall_daily FINAL WHERE mall_id IN %(m)s",
                             {"m": tuple(mall_ids)})[0][0] or 0
        if now and now == last:
            return
        last = now
        time.sleep(20)
    raise TimeoutError("the job did not count the demo day")


def measure(settings: Settings, sender: MarkerSender, config: RestateBenchConfig,
            beside: subprocess.Popen[str] | None) -> dict[str, Any]:
    """Markers until `beside` ends (or for the quiet spell): their delays per sink."""
    first = len(sender.sent)
    deadline = time.monotonic() + config.quiet_s
    while (beside.poll() is None) if beside is not None else time.monotonic() < deadline:
        sender.send()
        time.sleep(config.marker_interval_s)
    markers = sender.sent[first:]
    drain = time.monotonic() + 15
    while time.monotonic() < drain and not all(len(m.seen) == len(SINKS) for m in markers):
        time.sleep(0.25)
    return summarise(markers)


def run(config: RestateBenchConfig) -> dict[str, Any]:
    settings = Settings()
    bench = Bench(BenchConfig(), settings)
    demo = demo_malls(config.demo)
    layout = Layout((*demo.malls, LIVE_MALL, MARKER_MALL))
    load_layout(layout, settings.postgres)
    topics = KafkaSettings.topics_environment(f"bench-{bench.unique}-restate")
    env = bench.production_environment("restate", topics, 1)
    live_settings = Settings.of(env)
    layout_file = bench.home / "demo-layout.json"
    demo.save(layout_file)
    send_demo_day(env, config.demo, layout_file)
    job = bench.job("restate", [sys.executable, "-m", "jobs.metrics"], "jobs.metrics")
    job.start(env=env)
    rounds: list[dict[str, Any]] = []
    try:
        JobWatch(f"http://127.0.0.1:{env['FOOTFALL_JOB_REST_PORT']}", "metrics").wait_running(120)
        mall_ids = [m.mall_id for m in demo.malls]
        wait_caught_up(live_settings, mall_ids)
        load = LoadProcess(live_settings, LIVE_MALL, config.rate, 20_000)
        load.start()
        sender = MarkerSender(live_settings, MARKER_MALL, SALT)
        poller = Poller(live_settings, MARKER_MALL, sender.sent)
        poller.start()
        try:
            time.sleep(25)  # the job warm under the load
            for n in range(config.rounds):
                mall = demo.malls[n % len(demo.malls)]
                day = (datetime.now(ZoneInfo(mall.tz)) - timedelta(days=2)).date()
                quiet = measure(live_settings, sender, config, None)
                argv = [sys.executable, "-m", "jobs.metrics.restate", "--mall", mall.mall_id, "--from", day.isoformat()]
                started = time.monotonic()
                # In a session of its own, as `footfall restate` and the supervisor start it.
                restating = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True, start_new_session=True)
                during = measure(live_settings, sender, config, restating)
                out, err = restating.communicate()
                if restating.returncode:
                    raise RuntimeError(f"the restatement failed: {err.strip().splitlines()[-1:]}")
                said = next(line for line in out.splitlines() if ": final: " in line)
                rounds.append({"mall_id": mall.mall_id, "day": day.isoformat(), "wall_s": time.monotonic() - started,
                               "restatement": said.split(": final: ", 1)[1], "quiet": quiet, "during": during})
                bench.log(f"round {n + 1}: {said}; live devices-seen p95 {quiet['redis_seen']['p95_s']} s quiet, "
                          f"{during['redis_seen']['p95_s']} s during")
        finally:
            poller.stop()
            sender.close()
            rate_sent = load.stop()
    finally:
        job.stop()
        remove_malls([m.mall_id for m in demo.malls], settings.postgres)
        bench.cleanup(keep_logs=False)
    return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "config": asdict(config),
            "rate_sent": round(rate_sent), "rounds": rounds}


def report(result: dict[str, Any]) -> str:
    lines = [
        f"# Restating a demo mall-day beside the live job ({result['when'][:10]})", "",
        "`python -m bench.restatement`: the demo's plan (three malls, 300 visitors a weekday), its day two days "
        f"back counted by the live job, which then takes a steady {result['rate_sent']:,} records/s on a mall of "
        "its own. Each round measures the live job's latency (markers from event time to Redis and ClickHouse) "
        "over a quiet minute, then while one demo mall's day is restated beside it.", "",
        "| round | mall-day | restatement | live devices seen, Redis p50 / p95 (s): quiet → during | live positions, "
        "Redis p50 / p95 (s): quiet → during | markers not seen during |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, r in enumerate(result["rounds"], 1):
        q, d = r["quiet"], r["during"]
        lines.append(
            f"| {n} | {r['mall_id']} {r['day']} | {r['restatement']}; {r['wall_s']:.0f} s with the process's start | "
            f"{q['redis_seen']['p50_s']} / {q['redis_seen']['p95_s']} → {d['redis_seen']['p50_s']} / "
            f"{d['redis_seen']['p95_s']} | {q['redis_position']['p50_s']} / {q['redis_position']['p95_s']} → "
            f"{d['redis_position']['p50_s']} / {d['redis_position']['p95_s']} | "
            f"{sum(d[s]['not_seen'] for s in SINKS)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restatement", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=RestateBenchConfig.rounds)
    parser.add_argument("--rate", type=int, default=RestateBenchConfig.rate)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(RestateBenchConfig(rounds=args.rounds, rate=args.rate))
    (args.out / "restatement.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "restatement.md").write_text(report(result))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
