"""The supervisor of the embedded metrics job: `python -m ops.supervisor`.

The embedded job runs in a process of its own; Flink restarts failed tasks inside it, but
nothing inside it survives the process itself dying (a crash of the JVM, the out-of-memory
killer). The supervisor is the process `footfall up` starts in its place: it runs the job
as its child and, when the child dies of anything but a deliberate stop, starts it again
from the newest checkpoint of the run that died, after a backoff that doubles with each
restart in a row. Each restart and its reason go to `var/job/supervisor.json`, which
`footfall status` and the dashboard's System page show.

It also runs the product's chores once the job runs, each every so often in a thread of
its own, so a store that is slow or down never holds up the supervision: the retention of
device-level data (footfall/retention.py, docs/privacy.md; every
FOOTFALL_RETENTION_EVERY_HOURS) and the expected footfall's refresh
(footfall/expected.py; every FOOTFALL_EXPECTED_EVERY_MINUTES) and the alerts'
evaluation and delivery (footfall/alerts.py, footfall/webhooks.py; every
FOOTFALL_ALERTS_EVERY_SECONDS), and the restatement of the days that closed
(footfall/restatement.py, jobs/metrics/restate.py; every FOOTFALL_RESTATE_EVERY_MINUTES).

A job stopped on purpose stays stopped:
- `footfall down` (SIGTERM to the supervisor): it stops the job and exits;
- `footfall job stop --savepoint`: the job ends by itself with exit code 0, and so does the
  supervisor;
- a job that never reached RUNNING on its first start (a bad setting, a store it cannot
  reach at start-up) is not retried: the supervisor exits with its code, and `footfall up`
  reports the error at once instead of after its timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from footfall import alerts, expected, retention, webhooks
from footfall.flink import newest_job
from footfall.settings import ConfigError, Settings
from footfall.supervision import Restart, SupervisorState, state_file
from jobs.metrics.plan import checkpoint_home, latest_checkpoint
from ops import restate
from ops.processes import end_with_parent, flink_environment

#: The job's exit code for a bad setting or argument (jobs/metrics/job.py).
BAD_CONFIGURATION = 2
#: Backoff between restarts: doubles from FIRST_BACKOFF_S up to MAX_BACKOFF_S, and starts
#: again from the first once a run has stayed up STABLE_S.
FIRST_BACKOFF_S = 2.0
MAX_BACKOFF_S = 120.0
STABLE_S = 600.0
#: How long the job gets to stop on SIGTERM before its process group is killed; within
#: the 30 s `footfall down` gives the supervisor.
STOP_GRACE_S = 20.0
#: Restarts kept in the state file (the count covers all of them).
HISTORY = 20
#: After a chore that failed (a store down), the next try comes this much later.
CHORE_RETRY_S = 600.0


def exit_reason(code: int) -> str:
    """Why a process ended, from its return code (negative: the signal that killed it)."""
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (the out-of-memory killer sends it)" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exited with code {code}"


class Chore:
    """Work the supervisor does every `every_s` seconds (0: never) once the job runs, in a
    thread of its own; `work` returns what to say it did (nothing: say nothing). One that
    fails is tried again after CHORE_RETRY_S."""

    def __init__(self, name: str, every_s: float, work: Callable[[], str]) -> None:
        self.name, self.every_s, self.work = name, every_s, work
        #: When it is next due (monotonic s), and the thread doing it.
        self.due = 0.0
        self.thread: threading.Thread | None = None

    def keep(self) -> None:
        """Start the chore when it is due and not under way."""
        busy = self.thread is not None and self.thread.is_alive()
        if not self.every_s or time.monotonic() < self.due or busy:
            return
        self.due = time.monotonic() + self.every_s
        self.thread = threading.Thread(target=self._do, name=self.name, daemon=True)
        self.thread.start()

    def _do(self) -> None:
        try:
            done = self.work()
        except Exception as err:  # noqa: BLE001 - any store error: said, and tried again later
            self.due = time.monotonic() + CHORE_RETRY_S
            print(f"supervisor: {self.name} not done ({type(err).__name__}: {err}); "
                  f"trying again in {CHORE_RETRY_S:.0f} s", flush=True)
            return
        if done:  # a chore with nothing to say (no alert changed) stays out of the log
            print(f"supervisor: {self.name}: {done}", flush=True)


def chores(settings: Settings) -> list[Chore]:
    def enforce_retention() -> str:
        removed = retention.enforce(settings)
        return ", ".join(f"{table} {rows:,} rows" for table, rows in removed.items()) or "nothing was due"

    def refresh_expected() -> str:
        return f"{expected.refresh(settings):,} hours written"

    def evaluate_alerts() -> str:
        events = alerts.evaluate(settings)
        sent = webhooks.deliver(settings)
        said = [f"{e['kind']} {e['alert_id']} ({e['severity']})" for e in events]
        said += [f"{n} deliveries {what}" for what, n in sent.items() if n]
        return ", ".join(said)

    def restate_closed_days() -> str:
        return "; ".join(restate.due(settings))

    return [Chore("retention enforced", settings.privacy.retention_every_hours * 3600, enforce_retention),
            Chore("closed days restated", settings.restate.every_minutes * 60, restate_closed_days),
            Chore("expected footfall refreshed", settings.expected.every_minutes * 60, refresh_expected),
            Chore("alerts evaluated", settings.alerts.every_seconds, evaluate_alerts)]


class Supervisor:
    def __init__(self, settings: Settings, restore_from: Path | None) -> None:
        self.settings = settings
        self.restore_from = restore_from
        self.state = SupervisorState(os.getpid(), "starting")
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.backoff = FIRST_BACKOFF_S
        #: Checkpoints a restart could not get the job running from.
        self.unusable: set[Path] = set()
        self.chores = chores(settings)

    # -- the state file -----------------------------------------------------------------
    def _save(self, state: str) -> None:
        self.state.state = state
        self.state.since = datetime.now(UTC).isoformat(timespec="seconds")
        self.state.job_pid = self.child.pid if self.child and self.child.poll() is None else None
        path = state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(asdict(self.state), indent=2) + "\n")
        scratch.replace(path)  # readers never see half a file

    # -- the child ----------------------------------------------------------------------
    def command(self) -> list[str]:
        """The job's command line, from the checkpoint or savepoint to restore."""
        argv = [sys.executable, "-m", "jobs.metrics"]
        return argv + (["--from-checkpoint", str(self.restore_from)] if self.restore_from is not None else [])

    def _launch(self) -> float:
        argv = self.command()
        print(f"supervisor: starting the job{f' from {self.restore_from}' if self.restore_from else ''}", flush=True)
        # A session of its own, so that after the JVM dies its Python workers (same
        # group) can be cleaned up with it, and a signal to the job reaches all of it.
        self.child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, env=flink_environment(),
                                      preexec_fn=end_with_parent)
        if self.stopping:  # told to stop while it was being started
            self._kill_group(signal.SIGTERM)
        self._save("running")
        return time.monotonic()

    def reached_running(self) -> bool:
        """Whether the job's REST API reports it RUNNING."""
        try:
            job = newest_job(f"http://127.0.0.1:{self.settings.job.rest_port}")
        except (OSError, ValueError, KeyError):
            return False
        return job is not None and job["state"] == "RUNNING"

    def _kill_group(self, sig: signal.Signals) -> None:
        if self.child is None:
            return
        try:
            os.killpg(self.child.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        self._kill_group(signal.SIGTERM)

    def _newest_since(self, started_wall: float) -> Path | None:
        """The newest complete checkpoint the run that began at `started_wall` wrote."""
        newest = latest_checkpoint(self.settings.job.checkpoint_dir)
        if newest is not None and (newest / "_metadata").stat().st_mtime >= started_wall:
            return newest
        return None

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        ever_running = False
        while True:
            started_wall, started = time.time(), self._launch()
            assert self.child is not None
            running = False
            while True:
                if not running and self.reached_running():
                    running = ever_running = True
                if running:
                    for chore in self.chores:
                        chore.keep()
                if (code := self._wait(1.0)) is not None:
                    break
            if self.stopping:
                self._end_child()
                self._save("stopped")
                return 0
            self._kill_group(signal.SIGKILL)  # what the dead JVM left behind
            if code == 0:
                self._save("stopped")  # stopped with a savepoint, or a bounded input's end
                return 0
            if not ever_running:
                self._save("failed")
                print(f"supervisor: the job {exit_reason(code)} before it ever ran: not restarting", flush=True)
                return code if code > 0 else 1
            if time.monotonic() - started >= STABLE_S:
                self.backoff = FIRST_BACKOFF_S
            if not running and self.restore_from is not None:
                # A restart that never got the job running from this checkpoint (one whose
                # _metadata the dying JVM left half-written, say) must not be tried from it
                # again and again: the next newest is.
                self.unusable.add(self.restore_from)
                print(f"supervisor: the job did not run from {self.restore_from}: not trying it again", flush=True)
                self.restore_from = latest_checkpoint(self.settings.job.checkpoint_dir, frozenset(self.unusable))
            else:
                self.restore_from = self._newest_since(started_wall) or self.restore_from
            reason = exit_reason(code)
            self.state.restarts += 1
            self.state.history = [*self.state.history, Restart(datetime.now(UTC).isoformat(timespec="seconds"), reason,
                                                               str(self.restore_from) if self.restore_from else None)]
            self.state.history = self.state.history[-HISTORY:]
            self.child = None
            self._save("restarting")
            print(f"supervisor: the job {reason}; restart {self.state.restarts} in {self.backoff:.0f} s", flush=True)
            if self._sleep(self.backoff):
                self._save("stopped")
                return 0
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)

    def _wait(self, seconds: float) -> int | None:
        assert self.child is not None
        try:
            return self.child.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def _end_child(self) -> None:
        """After SIGTERM: give the job STOP_GRACE_S to go, then kill what is left."""
        assert self.child is not None
        try:
            self.child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        self._kill_group(signal.SIGKILL)
        self.child.wait()

    def _sleep(self, seconds: float) -> bool:
        """Sleep through the backoff; True if told to stop meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopping:
                return True
            time.sleep(0.2)
        return self.stopping


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.supervisor", description=__doc__.split("\n")[0])
    parser.add_argument("--from-checkpoint", metavar="PATH|latest",
                        help="the first start's checkpoint or savepoint folder, or the newest of this plan")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_CONFIGURATION
    restore: Path | None = None
    if args.from_checkpoint == "latest":
        restore = latest_checkpoint(settings.job.checkpoint_dir)
        if restore is None:
            print(f"supervisor: no checkpoint under {checkpoint_home(settings.job.checkpoint_dir)}: "
                  "the job starts from the topics", flush=True)
    elif args.from_checkpoint:
        restore = Path(args.from_checkpoint)
    return Supervisor(settings, restore).run()


if __name__ == "__main__":
    sys.exit(main())
