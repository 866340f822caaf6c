"""The metrics job as a local process: the embedded Flink mini-cluster runs in it.

`footfall up` starts it after the services (resuming from its newest checkpoint when
the broker kept its data), `footfall down` stops it, and `footfall status` asks its
REST API for the job's state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from footfall.flink import JOB_NAME, JobHealth, job_health, newest_job, rest_get
from footfall.settings import Settings
from footfall.supervision import SupervisorState, read_state, running_state
from ops.processes import Background, port_in_use, running, stop_group, wait_port_free
from ops.services import StackError


class FlinkJob(ABC):
    """The metrics job as Flink's REST API shows it, wherever it runs: its state, health
    and checkpoints. `MetricsJob` runs it embedded in a process of its own,
    `ops.cluster.ClusterMetricsJob` on a standalone cluster."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.settings.job.rest_port}"

    @abstractmethod
    def pid(self) -> int | None:
        """The local process that runs the job, if there is one."""

    @abstractmethod
    def start(self, resume: bool = False, timeout: float = 120.0, restore_from: Path | None = None) -> int:
        """Start the job (from its newest checkpoint with `resume`, or from the checkpoint
        or savepoint `restore_from`) and wait until Flink reports it RUNNING; its pid (0
        on a cluster)."""

    @abstractmethod
    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the job (its checkpoints are kept)."""

    def finished(self, timeout: float = 60.0) -> None:  # noqa: B027 - a hook: a cluster keeps running
        """After the job stopped by itself (stop-with-savepoint): release what ran it."""

    def await_running(self, timeout: float, logs: Path, process: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until Flink reports the job RUNNING; fail early if `process` exits first."""
        deadline = time.monotonic() + timeout
        while self.state() != "RUNNING":
            if process is not None and process.poll() is not None:
                raise StackError(f"the metrics job exited during start-up (code {process.returncode}): see {logs}")
            if time.monotonic() > deadline:
                raise StackError(f"the metrics job did not reach RUNNING in {timeout:.0f} s: see {logs}")
            time.sleep(0.5)

    def overview(self) -> dict[str, Any] | None:
        """The job's entry in Flink's REST /jobs/overview, or None when it does not answer."""
        try:
            return newest_job(self.rest)
        except (OSError, ValueError, KeyError):
            return None

    def state(self) -> str | None:
        job = self.overview()
        return job["state"] if job else None

    def health(self, job: dict[str, Any] | None = None) -> JobHealth | None:
        """The running job's dependencies, waiting rows and restarts (`job`: its overview
        entry, when the caller has it); None without a running job."""
        job = job or self.overview()
        if job is None or job["state"] != "RUNNING":
            return None
        try:
            return job_health(self.rest, job["jid"])
        except (OSError, ValueError, KeyError):
            return None

    def checkpoints(self) -> dict[str, Any] | None:
        """Flink's checkpoint statistics of the running job (counts, latest sizes), or None."""
        job = self.overview()
        if job is None:
            return None
        try:
            stats: dict[str, Any] = rest_get(self.rest, f"/jobs/{job['jid']}/checkpoints")
            return stats
        except (OSError, ValueError):
            return None

    def completed_checkpoints(self) -> int:
        stats = self.checkpoints()
        return stats["counts"]["completed"] if stats else 0


class MetricsJob(FlinkJob):
    """The job in the embedded mini-cluster: `python -m jobs.metrics` in the background,
    run by its supervisor (ops/supervisor.py), which starts it again from its
    newest checkpoint if its process dies."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.process = Background(settings.stack.var_dir / "job", JOB_NAME,
                                  [sys.executable, "-m", "ops.supervisor"], "ops.supervisor")
        self.log = self.process.log

    def pid(self) -> int | None:
        """The supervisor's pid: it stands for the job, which it runs as its child."""
        return self.process.pid()

    def job_pid(self) -> int | None:
        """The pid of the job's own process (the supervisor's child) while it runs."""
        state = self.running_supervisor()
        if state is None or state.job_pid is None:
            return None
        return state.job_pid if running(state.job_pid) else None

    def supervisor(self) -> SupervisorState | None:
        """What the supervisor last wrote: its state, restarts and their reasons."""
        return read_state(self.settings)

    def running_supervisor(self) -> SupervisorState | None:
        """What the supervisor that runs now last wrote (None when none runs: the file
        may be an old one's)."""
        state, pid = running_state(self.settings), self.pid()
        return state if state is not None and state.supervisor_pid == pid else None

    def start(self, resume: bool = False, timeout: float = 120.0, restore_from: Path | None = None) -> int:
        port = self.settings.job.rest_port
        if port and port_in_use("127.0.0.1", port):
            raise StackError(
                f"port {port} (metrics job REST API) is already taken by another process: "
                "stop it or set FOOTFALL_JOB_REST_PORT to a free port"
            )
        restore = ["--from-checkpoint", str(restore_from)] if restore_from is not None else []
        process = self.process.start(*(restore or (["--from-checkpoint", "latest"] if resume else [])))
        try:
            self.await_running(timeout, self.log, process)
        except StackError:
            if process.poll() is not None:
                self.process.pidfile.remove()
            raise
        return process.pid

    def orphan(self) -> int | None:
        """The job's own process if it runs without a supervisor (one killed before it
        could stop its child): the pid the supervisor last wrote, if that is still the job."""
        if self.pid() is not None:
            return None
        state = read_state(self.settings)
        if state is None or state.job_pid is None or not running(state.job_pid):
            return None
        try:
            command = Path(f"/proc/{state.job_pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        return state.job_pid if b"jobs.metrics" in command else None

    def stop_orphan(self, pid: int, timeout: float = 30.0) -> None:
        """Stop a job that runs without its supervisor, with all its process group (the JVM
        and its Python workers), as its supervisor would have: SIGTERM (Flink keeps its
        checkpoints on cancellation; the job passes it on to its group), then SIGKILL what
        is left after the grace period."""
        stop_group(pid, timeout=20)
        wait_port_free("127.0.0.1", self.settings.job.rest_port, timeout)

    def finished(self, timeout: float = 60.0) -> None:
        """The process ends once its job has: wait for that, then for its port."""
        deadline = time.monotonic() + timeout
        while self.process.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        self.stop()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the process, and wait until its REST port is free for the next start."""
        job_pid = self.job_pid()
        stopped = self.process.stop()
        if job_pid is not None:  # the supervisor was killed before it could stop its child
            try:
                os.killpg(job_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        wait_port_free("127.0.0.1", self.settings.job.rest_port, timeout)
        return stopped

