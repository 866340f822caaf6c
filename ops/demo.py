"""The demo: several malls with weeks of history, then live on the wall clock.

`footfall demo` keeps its own state in `var/demo/`: the plan it runs (`plan.json`), the
simulator's pid and log, and the simulated time the simulator has reached
(`simulator.json`, see simulators.publish.Progress). The simulator sends the past days
through Kafka as fast as the broker takes them, then today up to now, then goes on in
real time; the metrics job works through all of it as it would through live traffic. A
second `footfall demo` starts only what is not running, and a simulator stopped by
`footfall down` resumes where it stopped. `footfall reset` removes all of it.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

from redis import Redis

from footfall.outputs import DEAD_LETTER_COUNTS, INGEST_COUNTS
from footfall.settings import ROOT, Settings
from ops.processes import Background


@dataclass(frozen=True)
class DemoPlan:
    """What the demo simulates. The defaults are sized for a 2-core machine: the history
    reaches today within a few minutes (README "Quick start")."""

    malls: int = 3
    days: int = 14
    #: Weekday visitors of the largest mall; the others are smaller (simulators.layout).
    visitors_per_day: int = 300
    seed: int = 42

    def __post_init__(self) -> None:
        if not 1 <= self.malls <= 8:
            raise ValueError(f"--malls must be between 1 and 8, got {self.malls}")
        if not 0 <= self.days <= 60:
            raise ValueError(f"--days must be between 0 and 60, got {self.days}")
        if self.visitors_per_day < 1:
            raise ValueError(f"--visitors-per-day must be at least 1, got {self.visitors_per_day}")

    def simulator_args(self) -> list[str]:
        """The shoppers: phones probing every 1-3 minutes (idle phones probe less often than
        the simulator's default) and probes reporting down to -90 dBm keep a mall-day near
        200 records per visitor; a little of every fault the job must survive."""
        history = ["--history", str(self.days)] if self.days else ["--start", "now"]
        return [
            "--malls", str(self.malls), *history, "--as-fast-as-possible", "--seed", str(self.seed),
            "--visitors-per-day", str(self.visitors_per_day), "--staff", "3",
            "--probe-interval", "60-180", "--sensitivity", "-90",
            "--duplicate-rate", "0.01", "--out-of-order-rate", "0.01", "--late-rate", "0.002",
            "--malformed-rate", "0.002",
        ]  # fmt: skip


class Demo:
    """The demo's files under `var/demo/` and its simulator process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.stack.var_dir / "demo"
        self.plan_file = self.home / "plan.json"
        self.state_file = self.home / "simulator.json"

    def saved_plan(self) -> DemoPlan | None:
        try:
            return DemoPlan(**json.loads(self.plan_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def save_plan(self, plan: DemoPlan) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.plan_file.write_text(json.dumps(asdict(plan)) + "\n")

    def simulator(self, plan: DemoPlan | None = None) -> Background:
        plan = plan or self.saved_plan() or DemoPlan()
        argv = [sys.executable, "-m", "simulators", "run", *plan.simulator_args(),
                "--state-file", str(self.state_file), "--resume"]
        return Background(self.home, "simulator", argv, "simulators")

    def state(self) -> dict[str, Any] | None:
        from simulators.publish import load_state

        return load_state(self.state_file)


def dashboard_argv(settings: Settings) -> list[str]:
    """`streamlit run` of the dashboards on FOOTFALL_DASHBOARD_PORT, local address only."""
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "app.py"),
            "--server.port", str(settings.dashboard.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def demo_dashboard(settings: Settings) -> Background:
    return Background(settings.stack.var_dir / "dashboard", "dashboard", dashboard_argv(settings), "streamlit")


def dashboard_answers(port: int) -> bool:
    """Whether a Streamlit server answers its health check on 127.0.0.1:`port`."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except OSError:
        return False


def records_read(redis: Redis) -> int:
    """Input records the job has accounted for: accepted, opted out and rejected, both topics."""
    accepted = sum(int(v) for k, v in redis.hgetall(INGEST_COUNTS).items() if k.endswith((":accepted", ":opted_out")))
    return accepted + sum(int(v) for v in redis.hgetall(DEAD_LETTER_COUNTS).values())


def simulated_time_at(state: dict[str, Any], records: int) -> float | None:
    """The simulated time the simulator had reached when it had sent `records` records
    (interpolated between its hourly marks); None before its first mark."""
    marks = [(float(t), int(n)) for t, n in state.get("marks", [])]
    marks.append((float(state["simulated_until"]), int(state["records"])))
    counts = [n for _, n in marks]
    i = bisect_right(counts, records)
    if i == 0:
        return None
    if i == len(marks):
        return marks[-1][0]
    (t0, n0), (t1, n1) = marks[i - 1], marks[i]
    return t0 + (t1 - t0) * (records - n0) / max(n1 - n0, 1)


@dataclass(frozen=True)
class Reading:
    """Where the job stands in the demo's simulated time."""

    day: int  # 1-based, of `days`
    days: int
    reached: float  # simulated epoch seconds the job has read up to
    rate: float  # records/s the job reads
    eta: float | None  # seconds until it reaches now
    caught_up: bool

    def line(self) -> str:
        eta = "-" if self.eta is None else f"{int(self.eta // 60)}m{int(self.eta % 60):02d}s"
        reached = time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.reached))
        return (f"history  day {self.day} of {self.days}  job at {reached} UTC  "
                f"{self.rate:,.0f} records/s  ETA {eta}")


class BackfillWatch:
    """Follows the job through the demo's history: the records it has read (its own counts
    in Redis) against the simulator's marks give the simulated time it has reached."""

    #: The job is "at now" once it has read what the simulator sent up to this long ago
    #: (the event-time windows close two minutes behind their newest report anyway).
    LIVE_WITHIN_S = 300.0

    def __init__(self, demo: Demo, plan: DemoPlan, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.demo, self.plan, self.redis, self.clock = demo, plan, redis, clock
        self.samples: deque[tuple[float, int]] = deque(maxlen=16)

    def read(self) -> Reading | None:
        state = self.demo.state()
        if state is None or not state.get("marks"):
            return None
        now, read = self.clock(), records_read(self.redis)
        self.samples.append((now, read))
        (t0, n0), (t1, n1) = self.samples[0], self.samples[-1]
        rate = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
        first = float(state["marks"][0][0])
        at = simulated_time_at(state, read)
        reached = at or first
        # Records the simulator will have sent up to now, extrapolated while it still runs
        # ahead through the past.
        until, sent = float(state["simulated_until"]), int(state["records"])
        expected = sent * (now - first) / max(until - first, 1.0) if until < now - 60 else sent
        caught_up = until >= now - 60 and (at or 0) >= now - self.LIVE_WITHIN_S
        eta = 0.0 if caught_up else (max(expected - read, 0) / rate if rate > 0 else None)
        days = self.plan.days + 1
        day = min(int((reached - first) // 86400) + 1, days)
        return Reading(day, days, reached, rate, eta, caught_up)


def follow(
    watch: BackfillWatch, out: IO[str] = sys.stdout, every: float = 2.0, timeout: float = 3600.0
) -> Reading | None:
    """Print the backfill's progress until the job has reached now; the last reading."""
    interactive = out.isatty()
    deadline, printed, reading = time.monotonic() + timeout, 0.0, None
    while time.monotonic() < deadline:
        reading = watch.read()
        if reading is not None:
            if interactive:
                out.write("\r" + reading.line().ljust(100))
            elif time.monotonic() - printed >= 15 or reading.caught_up:
                out.write(reading.line() + "\n")
                printed = time.monotonic()
            out.flush()
            if reading.caught_up:
                break
        time.sleep(every)
    if interactive:
        out.write("\n")
    return reading
