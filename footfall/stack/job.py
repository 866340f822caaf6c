"""The metrics job as a local process: the embedded Flink mini-cluster runs in it.

`footfall up` starts it after the services (resuming from its newest checkpoint when
the broker kept its data), `footfall down` stops it, and `footfall status` asks its
REST API for the job's state.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from footfall.settings import ROOT, Settings
from footfall.stack.processes import PidFile, port_in_use, spawn, stop, wait_port_free
from footfall.stack.services import StackError

NAME = "metrics"


def rest_get(rest: str, path: str, timeout: float = 2) -> Any:
    """GET a Flink REST resource as JSON; OSError when it does not answer."""
    with urllib.request.urlopen(f"{rest}{path}", timeout=timeout) as response:
        return json.load(response)


#: A Kafka source's read position metric: the offset of the last record it read.
SOURCE_OFFSET_METRIC = re.compile(r"KafkaSourceReader\.topic\.(?P<topic>.+)\.partition\.(?P<partition>\d+)\.currentOffset$")


@dataclass(frozen=True)
class JobHealth:
    """What the running job says about its dependencies (its own gauges, see
    jobs/metrics/sinks.py and udfs/java Layout.java) and about itself."""

    #: Times Flink restarted the job (from a checkpoint) since it was submitted.
    restarts: int
    #: Result rows held by the sinks, not yet written to their store.
    rows_waiting: int
    #: Dependency (clickhouse, redis, postgres) -> since when (epoch ms) the job has
    #: failed to reach it; only those failing now.
    failing: dict[str, int] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return bool(self.failing)

    def describe(self, now_ms: int | None = None) -> str:
        """One line, e.g. 'clickhouse unreachable since 10:42:07 UTC (95 s), 1,204 rows
        waiting, 0 restarts'."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        parts = [
            f"{name} unreachable since {time.strftime('%H:%M:%S', time.gmtime(since / 1000))} UTC "
            f"({max(now_ms - since, 0) / 1000:.0f} s)"
            for name, since in sorted(self.failing.items())
        ]
        parts.append(f"{self.rows_waiting:,} rows waiting")
        parts.append(f"{self.restarts} restart{'s' if self.restarts != 1 else ''}")
        return ", ".join(parts)


#: The gauges the job's own code registers: (metric name suffix, dependency it is about).
_FAILING_GAUGES = {
    "footfall_sink.clickhouseFailingSince": "clickhouse",
    "footfall_sink.redisFailingSince": "redis",
    "footfall_layout.failingSince": "postgres",
}


def job_health(rest: str, jid: str, vertices: list[dict] | None = None) -> JobHealth:
    """Read the job's restarts and its sinks' and layout's gauges from Flink's REST API
    (metrics are as old as FOOTFALL_JOB_METRICS_INTERVAL_MS); `vertices`, when the
    caller has read them already. Raises OSError when the API does not answer."""
    restarts = 0
    for metric in rest_get(rest, f"/jobs/{jid}/metrics?get=numRestarts"):
        restarts = int(float(metric.get("value", 0)))
    rows_waiting, failing = 0, {}
    if vertices is None:
        vertices = rest_get(rest, f"/jobs/{jid}")["vertices"]
    for vertex in vertices:
        if "sinks" not in vertex["name"] and "Correlate" not in vertex["name"]:
            continue
        base = f"/jobs/{jid}/vertices/{vertex['id']}/subtasks/metrics"
        names = [m["id"] for m in rest_get(rest, base) if "footfall_" in m["id"]]
        if not names:
            continue
        for metric in rest_get(rest, f"{base}?get={urllib.parse.quote(','.join(names))}&agg=max,sum"):
            name, since = metric["id"], int(metric.get("max", 0))
            if name.endswith("footfall_sink.rowsWaiting"):
                rows_waiting += int(metric.get("sum", 0))
            for suffix, dependency in _FAILING_GAUGES.items():
                if name.endswith(suffix) and since > 0:
                    failing[dependency] = max(failing.get(dependency, 0), since)
    return JobHealth(restarts, rows_waiting, failing)


def newest_job(rest: str, name: str = NAME) -> dict | None:
    """The newest run of the job called `name` in /jobs/overview (any state), or None."""
    mine = [j for j in rest_get(rest, "/jobs/overview")["jobs"] if j.get("name") == name]
    return max(mine, key=lambda j: j.get("start-time", 0)) if mine else None


class Background:
    """A project process started in the background, known by its pid file."""

    def __init__(self, home: Path, name: str, argv: list[str], program: str) -> None:
        self.argv = argv
        self.pidfile = PidFile(home / f"{name}.pid", program)
        self.log = home / f"{name}.log"

    def pid(self) -> int | None:
        return self.pidfile.read()

    def start(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        process = spawn([*self.argv, *extra], self.log, cwd=ROOT, env=env)
        self.pidfile.write(process.pid)
        return process

    def stop(self) -> bool:
        """Stop the process, then whatever it started and left behind: it was spawned as
        the leader of its own process group (a Flink JVM, Python workers)."""
        pid = self.pid()
        if pid is None:
            return False
        ok = stop(pid, signal.SIGTERM, timeout=30) or stop(pid, signal.SIGKILL, timeout=10)
        try:
            os.killpg(pid, signal.SIGKILL)  # leftovers only: the leader has exited
        except (ProcessLookupError, PermissionError):
            pass
        if ok:
            self.pidfile.remove()
        return ok


class MetricsJob(Background):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.stack.var_dir / "job", NAME, [sys.executable, "-m", "jobs.metrics"], "jobs.metrics")
        self.settings = settings

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.settings.job.rest_port}"

    def start(self, resume: bool = False, timeout: float = 120.0) -> int:  # type: ignore[override]
        """Start the job and wait until Flink reports it RUNNING; returns the pid."""
        port = self.settings.job.rest_port
        if port and port_in_use("127.0.0.1", port):
            raise StackError(
                f"port {port} (metrics job REST API) is already taken by another process: "
                "stop it or set FOOTFALL_JOB_REST_PORT to a free port"
            )
        process = super().start(*(["--from-checkpoint", "latest"] if resume else []))
        self.await_running(timeout, self.log, process)
        return process.pid

    def await_running(self, timeout: float, logs: Path, process: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until Flink reports the job RUNNING; fail early if `process` exits first."""
        deadline = time.monotonic() + timeout
        while self.state() != "RUNNING":
            if process is not None and process.poll() is not None:
                self.pidfile.remove()
                raise StackError(f"the metrics job exited during start-up (code {process.returncode}): see {logs}")
            if time.monotonic() > deadline:
                raise StackError(f"the metrics job did not reach RUNNING in {timeout:.0f} s: see {logs}")
            time.sleep(0.5)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the job, and wait until its REST port is free for the next start."""
        stopped = super().stop()
        wait_port_free("127.0.0.1", self.settings.job.rest_port, timeout)
        return stopped

    def overview(self) -> dict | None:
        """The job's entry in Flink's REST /jobs/overview, or None when it does not answer."""
        try:
            return newest_job(self.rest)
        except (OSError, ValueError, KeyError):
            return None

    def state(self) -> str | None:
        job = self.overview()
        return job["state"] if job else None

    def health(self, job: dict | None = None) -> JobHealth | None:
        """The running job's dependencies, waiting rows and restarts (`job`: its overview
        entry, when the caller has it); None without a running job."""
        job = job or self.overview()
        if job is None or job["state"] != "RUNNING":
            return None
        try:
            return job_health(self.rest, job["jid"])
        except (OSError, ValueError, KeyError):
            return None

    def checkpoints(self) -> dict | None:
        """Flink's checkpoint statistics of the running job (counts, latest sizes), or None."""
        job = self.overview()
        if job is None:
            return None
        try:
            return rest_get(self.rest, f"/jobs/{job['jid']}/checkpoints")
        except (OSError, ValueError):
            return None

    def completed_checkpoints(self) -> int:
        stats = self.checkpoints()
        return stats["counts"]["completed"] if stats else 0
