"""The metrics job on a standalone Flink cluster, submitted with `flink run -py`.

The PyFlink wheel ships Flink's scripts and jars but is laid out for the embedded
mini-cluster: its `flink-python` jar sits in `opt/`, where a cluster does not look, and
its scripts find their home by their own location. So a cluster home is assembled under
FOOTFALL_VAR_DIR/flink-cluster: the scripts copied, the jars linked (flink-python moved
into `lib/`), a config of our own. The connector jars stay out of `lib/`: the job ships
them itself (`pipeline.jars`), and a second copy on the cluster's class path makes
Kafka classes clash between the two class loaders.

The task manager runs the job's Python workers and Java functions, so it is started with
the salt, the layout's database and the other FOOTFALL_* variables in its environment. The cluster's REST port is
FOOTFALL_JOB_REST_PORT, the address the job's client submits to and `footfall status`
asks, so either run mode is watched the same way.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyflink

from footfall.flink import rest_get, rest_patch
from footfall.settings import ROOT, Settings
from jobs.metrics.job import worker_environment
from jobs.metrics.partitions import check_partitions
from jobs.metrics.plan import latest_checkpoint
from ops.job import FlinkJob
from ops.processes import flink_environment, port_in_use, running, stop, wait_port_free
from ops.services import StackError

PYFLINK = Path(pyflink.__file__).resolve().parent
#: What `flink run -py` ships to the cluster besides the job script.
PYTHON_PACKAGES = "footfall,jobs,udfs"
#: The job's entry point, as `flink run -py` (and deploy/flink-deployment.yaml) run it.
JOB_SCRIPT = "jobs/metrics/job.py"


class FlinkCluster:
    """A job manager and `taskmanagers` task managers on 127.0.0.1, from the PyFlink wheel:
    several task managers on one machine rehearse a cluster of several machines (each its
    own JVM with its own slots, exchanging records over the network stack)."""

    def __init__(self, settings: Settings, taskmanagers: int = 1) -> None:
        if taskmanagers < 1:
            raise ValueError(f"--taskmanagers must be at least 1, got {taskmanagers}")
        self.settings = settings
        self.taskmanagers = taskmanagers
        self.home = settings.stack.var_dir / "flink-cluster"

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.settings.job.rest_port}"

    def environment(self) -> dict[str, str]:
        env = flink_environment()
        env.update(
            FLINK_HOME=str(self.home),
            FLINK_CONF_DIR=str(self.home / "conf"),
            FLINK_LOG_DIR=str(self.home / "log"),
            FLINK_PID_DIR=str(self.home / "run"),
            PYFLINK_CLIENT_EXECUTABLE=sys.executable,
        )
        env.update(worker_environment(self.settings))
        return env

    def prepare(self) -> None:
        """(Re)build the cluster home; cheap, so done at every start."""
        shutil.rmtree(self.home / "bin", ignore_errors=True)
        shutil.copytree(PYFLINK / "bin", self.home / "bin")
        for script in (self.home / "bin").iterdir():
            script.chmod(0o755)
        for folder in ("lib", "opt", "conf", "log", "run"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        for folder in ("lib", "opt"):
            for old in (self.home / folder).glob("*.jar"):
                old.unlink()
        jars = [*(PYFLINK / "lib").glob("*.jar"), *(PYFLINK / "opt").glob("flink-python-*.jar")]
        for jar in jars:
            (self.home / "lib" / jar.name).symlink_to(jar)
        for jar in (PYFLINK / "opt").glob("*.jar"):
            (self.home / "opt" / jar.name).symlink_to(jar)
        (self.home / "conf" / "config.yaml").write_text(self._config())

    def _config(self) -> str:
        job = self.settings.job
        # The wheel's own config carries the JVM options Flink needs on Java 17.
        shipped = (PYFLINK / "conf" / "config.yaml").read_text()
        ours = {
            "jobmanager.rpc.address": "localhost",
            "jobmanager.bind-host": "localhost",
            "jobmanager.memory.process.size": "1024m",
            "taskmanager.host": "localhost",
            "taskmanager.bind-host": "localhost",
            # Enough slots over all task managers for the job's parallelism.
            "taskmanager.numberOfTaskSlots": str(max(-(-job.parallelism // self.taskmanagers), 1)),
            "taskmanager.memory.process.size": "2048m",
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": str(job.rest_port),
            "parallelism.default": str(job.parallelism),
        }
        return shipped + "\n# footfall\n" + "".join(f"{key}: {value}\n" for key, value in ours.items())

    def _script(self, name: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.home / "bin" / name), *args], check=False, env=self.environment(), cwd=ROOT,
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise StackError(f"{name} {' '.join(args)} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def overview(self) -> dict[str, Any] | None:
        try:
            overview: dict[str, Any] = rest_get(self.rest, "/overview")
            return overview
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 90.0) -> None:
        """Start the job manager and the task managers; wait until all have registered."""
        if port_in_use("127.0.0.1", self.settings.job.rest_port) and self.overview() is None:
            raise StackError(
                f"port {self.settings.job.rest_port} is taken by something other than a Flink cluster: "
                "stop it or set FOOTFALL_JOB_REST_PORT to a free port"
            )
        self.prepare()
        self._script("jobmanager.sh", "start")
        for _ in range(self.taskmanagers):
            self._script("taskmanager.sh", "start")
        deadline = time.monotonic() + timeout
        while ((self.overview() or {}).get("taskmanagers") or 0) < self.taskmanagers:
            if time.monotonic() > deadline:
                raise StackError(f"the Flink cluster did not come up in {timeout:.0f} s: see {self.home / 'log'}")
            time.sleep(1)

    def running(self) -> bool:
        """Whether a job or task manager of ours was started and not stopped (pid files)."""
        return any((self.home / "run").glob("*.pid"))

    def daemons(self) -> dict[str, list[int]]:
        """The pids Flink's scripts recorded, by daemon: "standalonesession" (the job
        manager), "taskexecutor" (the task managers), living or not."""
        found = {}
        for pidfile in (self.home / "run").glob("*.pid"):
            found[pidfile.stem.rsplit("-", 1)[-1]] = [int(n) for n in pidfile.read_text().split() if n.isdigit()]
        return found

    def recover(self, timeout: float = 90.0) -> list[str]:
        """Bring back a cluster of ours that lost its job manager or task managers (a
        crash, the out-of-memory killer); what was done, one line each. Without its job
        manager the cluster holds no job: what is left of it is stopped and it starts
        afresh. A task manager missing is started again, and the job, which Flink keeps
        restarting from its checkpoint meanwhile, gets its slots back."""
        daemons = self.daemons()
        if not any(running(pid) for pid in daemons.get("standalonesession", [])):
            for pid in (pid for pids in daemons.values() for pid in pids if running(pid)):
                stop(pid, signal.SIGTERM, timeout=20)
            for pidfile in (self.home / "run").glob("*.pid"):
                pidfile.unlink()
            wait_port_free("127.0.0.1", self.settings.job.rest_port, 30)
            self.start(timeout)
            return ["the job manager was down: the cluster was started afresh"]
        managers = daemons.get("taskexecutor", [])
        dead = [pid for pid in managers if not running(pid)]
        if not dead:
            return []
        for _ in dead:
            self._script("taskmanager.sh", "start")
        pidfile = next((self.home / "run").glob("*-taskexecutor.pid"))
        alive = [pid for pid in self.daemons()["taskexecutor"] if running(pid)]
        pidfile.write_text("".join(f"{pid}\n" for pid in alive))  # the dead ones out: stop-all would miss none
        deadline = time.monotonic() + timeout
        while ((self.overview() or {}).get("taskmanagers") or 0) < len(managers):
            if time.monotonic() > deadline:
                raise StackError(f"the restarted task managers did not register in {timeout:.0f} s: "
                                 f"see {self.home / 'log'}")
            time.sleep(1)
        return [f"{len(dead)} of {len(managers)} task manager(s) were down (pid {', '.join(map(str, dead))}): "
                "started again"]

    def stop(self, timeout: float = 30.0) -> None:
        if not self.running():
            return
        self._script("taskmanager.sh", "stop-all")
        self._script("jobmanager.sh", "stop-all")
        wait_port_free("127.0.0.1", self.settings.job.rest_port, timeout)

    def submit(self, restore_from: Path | None = None) -> None:
        """`flink run -py jobs/metrics/job.py`, detached: returns once the job is submitted;
        with `restore_from`, from that checkpoint or savepoint (`flink run -s`)."""
        restore = ["-s", str(restore_from)] if restore_from is not None else []
        self._script("flink", "run", "-d", *restore, "-pyfs", PYTHON_PACKAGES, "-py", JOB_SCRIPT)


class ClusterMetricsJob(FlinkJob):
    """The metrics job on its own standalone cluster: `start` brings the cluster up and
    submits the job, `stop` cancels it (its checkpoints are retained) and takes the
    cluster down."""

    def __init__(self, settings: Settings, taskmanagers: int = 1) -> None:
        super().__init__(settings)
        self.cluster = FlinkCluster(settings, taskmanagers)
        self.log = self.cluster.home / "log"

    def pid(self) -> int | None:
        return None

    def start(self, resume: bool = False, timeout: float = 120.0, restore_from: Path | None = None) -> int:
        check_partitions(self.settings)
        started_here = not self.cluster.running()
        if started_here:
            self.cluster.start()
        if restore_from is None and resume:
            restore_from = latest_checkpoint(self.settings.job.checkpoint_dir)
        return self._submit(started_here, timeout, restore_from)

    def recover(self, timeout: float = 120.0) -> list[str]:
        """`footfall up` with a cluster of ours: bring back its job manager or task
        managers if they died, and the job, from its newest checkpoint if the cluster lost
        it; what was done, one line each."""
        done = self.cluster.recover()
        state = self.state()
        if state is not None and state not in ("RUNNING", "RESTARTING", "CREATED", "INITIALIZING"):
            # Ended on purpose (stopped with a savepoint, cancelled) or for good: an
            # operator's call, not a crash to recover from.
            return [*done, f"the job is {state}: `footfall job start` starts it"]
        if state is not None:
            self.await_running(timeout, self.cluster.home / "log")
            return done
        restore_from = latest_checkpoint(self.settings.job.checkpoint_dir)
        self._submit(False, timeout, restore_from)
        return [*done, f"the job was resubmitted from {restore_from or 'the topics (no checkpoint of this plan)'}"]

    def _submit(self, started_here: bool, timeout: float, restore_from: Path | None) -> int:
        try:
            self.cluster.submit(restore_from)
            self.await_running(timeout, self.cluster.home / "log")
        except BaseException:
            if started_here:  # a cluster left behind would hold its ports for the next start
                self.cluster.stop()
            raise
        return 0

    def stop(self, timeout: float = 30.0) -> bool:
        job = self.overview()
        if job is not None and job["state"] == "RUNNING":
            rest_patch(self.rest, f"/jobs/{job['jid']}?mode=cancel")
            deadline = time.monotonic() + timeout
            while self.state() not in ("CANCELED", None) and time.monotonic() < deadline:
                time.sleep(0.5)
        self.cluster.stop()
        return True
