"""The supervisor's rules, with a stand-in for the job (a small Python program that writes
a checkpoint, then dies or ends as told): what it restarts, from where, and what it
leaves stopped. tests/integration/test_faults.py kills the real job's JVM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from footfall.settings import Settings
from footfall.supervision import SupervisorState, read_state, state_file
from jobs.metrics.plan import checkpoint_home
from ops import manager, supervisor
from ops.job import MetricsJob
from ops.processes import flink_environment, group_alive
from ops.supervisor import Supervisor

#: The stand-in: run number n (counted in a file) writes a checkpoint chk-n, records its
#: arguments, then does what `plan` says for that run: kill itself, exit with a code, or
#: sleep until it is stopped ("early": exit 1 before writing its checkpoint).
STAND_IN = """
import json, os, signal, sys, time
from pathlib import Path
home, plan = Path(sys.argv[1]), json.loads(sys.argv[2])
runs = home / "runs.txt"
n = len(runs.read_text().splitlines()) if runs.exists() else 0
with runs.open("a") as out:
    out.write(json.dumps(sys.argv[3:]) + "\\n")
what = plan[min(n, len(plan) - 1)]
if what == "early":  # fails before it ever runs: no checkpoint
    sys.exit(1)
chk = Path(os.environ["CHECKPOINTS"]) / "job-a" / f"chk-{n + 1}"
chk.mkdir(parents=True)
(chk / "_metadata").write_text("x")
if what == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
if what == "sleep":
    time.sleep(600)
sys.exit(int(what))
"""


#: Starts a stand-in for an orphaned job in a session of its own and prints its pid: a
#: process that names `jobs.metrics` and has a child (what the JVM is to the job).
ORPHAN_LAUNCHER = """
import subprocess, sys
job = ("import subprocess, sys, time; "
       "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); time.sleep(600)")
orphan = subprocess.Popen([sys.executable, "-c", job, "jobs.metrics"], start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(orphan.pid)
"""


class StandIn(Supervisor):
    def __init__(self, settings: Settings, home: Path, plan: list[str], running: bool = True,
                 not_running_from: str | None = None) -> None:
        super().__init__(settings, None)
        self.home, self.plan, self.running, self.not_running_from = home, plan, running, not_running_from

    def command(self) -> list[str]:
        extra = ["--from-checkpoint", str(self.restore_from)] if self.restore_from else []
        return [sys.executable, "-c", STAND_IN, str(self.home), json.dumps(self.plan), *extra]

    def reached_running(self) -> bool:
        if self.restore_from is not None and self.restore_from.name == self.not_running_from:
            return False
        return self.running


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("FOOTFALL_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FOOTFALL_JOB_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("FOOTFALL_JOB_REST_PORT", "1")  # nothing answers there
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF_S", 0.2)
    settings = Settings()
    monkeypatch.setenv("CHECKPOINTS", str(checkpoint_home(settings.job.checkpoint_dir)))
    return settings


def runs(home: Path) -> list[list[str]]:
    """The stand-in's arguments, run by run."""
    return [json.loads(line) for line in (home / "runs.txt").read_text().splitlines()]


def test_a_killed_job_is_started_again_from_the_checkpoint_its_run_wrote(settings: Settings, tmp_path: Path) -> None:
    code = StandIn(settings, tmp_path, ["kill", "kill", "0"]).run()

    assert code == 0
    state = read_state(settings)
    assert state is not None and (state.state, state.restarts) == ("stopped", 2)
    assert [r.reason for r in state.history] == ["killed by SIGKILL (the out-of-memory killer sends it)"] * 2
    assert [Path(r.restored_from or "").name for r in state.history] == ["chk-1", "chk-2"]
    assert [Path(argv[-1]).name if argv else None for argv in runs(tmp_path)] == [None, "chk-1", "chk-2"]
    assert "2 restarts by the supervisor, the last at" in state.describe()


def test_a_checkpoint_the_job_did_not_run_from_is_not_tried_again(settings: Settings, tmp_path: Path) -> None:
    # The third run, from chk-2, fails before it runs (a checkpoint the dying JVM left
    # half-written, say): the fourth starts from chk-1, not from chk-2 once more.
    code = StandIn(settings, tmp_path, ["kill", "kill", "early", "0"], not_running_from="chk-2").run()

    assert code == 0
    assert [Path(argv[-1]).name if argv else None for argv in runs(tmp_path)] == [None, "chk-1", "chk-2", "chk-1"]


def test_a_job_that_fails_is_restarted_with_a_growing_backoff(settings: Settings, tmp_path: Path) -> None:
    standin = StandIn(settings, tmp_path, ["1", "1", "0"])
    assert standin.run() == 0
    state = read_state(settings)
    assert state is not None and [r.reason for r in state.history] == ["exited with code 1"] * 2
    assert standin.backoff == pytest.approx(0.8)  # 0.2, then 0.4, doubled once more after the last


def test_a_job_stopped_on_purpose_stays_stopped(settings: Settings, tmp_path: Path) -> None:
    standin = StandIn(settings, tmp_path, ["sleep"])
    threading.Timer(2.0, standin._on_stop, args=(15, None)).start()  # what SIGTERM (`footfall down`) runs

    assert standin.run() == 0
    state = read_state(settings)
    assert state is not None and (state.state, state.restarts, state.job_pid) == ("stopped", 0, None)
    assert len(runs(tmp_path)) == 1


def test_a_job_that_never_ran_is_not_retried(settings: Settings, tmp_path: Path) -> None:
    code = StandIn(settings, tmp_path, ["2"], running=False).run()

    assert code == 2
    state = read_state(settings)
    assert state is not None and (state.state, state.restarts) == ("failed", 0)
    assert len(runs(tmp_path)) == 1


def test_the_job_does_not_inherit_what_a_local_pyflink_run_left_in_the_environment(monkeypatch) -> None:
    # What a process has after a PyFlink job with a Python UDF ran in it (the SQL tests).
    monkeypatch.setenv("PYFLINK_GATEWAY_DISABLED", "true")
    monkeypatch.setenv("FLINK_LIB_DIR", "/somewhere/pyflink/lib")
    monkeypatch.setenv("PYTHON_LOOPBACK_SERVER_ADDRESS", "localhost:1")
    env = flink_environment()
    assert not {"PYFLINK_GATEWAY_DISABLED", "FLINK_LIB_DIR", "PYTHON_LOOPBACK_SERVER_ADDRESS"} & env.keys()
    assert env["PATH"] == os.environ["PATH"]


def test_a_job_left_running_without_its_supervisor_is_found_and_stopped_with_its_group(
        settings: Settings, tmp_path: Path) -> None:
    # A stand-in for an orphaned job (its supervisor gone before this release made the job
    # end with it): a process group led by a process that names `jobs.metrics`, with a
    # child of its own (what the JVM is to the job), recorded by a supervisor that is dead.
    # Started through a parent that exits at once, so that, as a real orphan, it is not
    # this process's child (whose zombie would stay in the group until reaped).
    launcher = subprocess.run([sys.executable, "-c", ORPHAN_LAUNCHER], capture_output=True, text=True, check=True)
    orphan = int(launcher.stdout)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = state_file(settings)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(asdict(SupervisorState(dead.pid, "running", job_pid=orphan))))
    job = MetricsJob(settings)
    try:
        assert job.orphan() == orphan
        assert manager._job_row(settings).state == "unsupervised"
        started = time.monotonic()
        job.stop_orphan(orphan)
        assert not group_alive(orphan) and job.orphan() is None
        assert time.monotonic() - started < 10  # ended on SIGTERM, the job and its child alike
    finally:
        if group_alive(orphan):
            os.killpg(orphan, signal.SIGKILL)
