"""Background processes the project owns, tracked by pid files.

`footfall down` must stop only what `footfall up` started, so every process we start
writes a pid file, and a pid counts as ours only while that process still runs the
program we started (a pid reused by something else is not ours).
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from footfall.settings import ROOT

#: prctl(2): the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """In a child's process before it runs (`preexec_fn`): SIGTERM to it when its parent
    dies, however it dies (SIGKILL included), so that nothing is left running on its own:
    the job when its supervisor dies, a restatement when whatever started it does. The
    child then takes its process group down with it (jobs/metrics/job.py `end_group`)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class PidFile:
    path: Path
    #: A word that appears in the command line of the process we started.
    program: str

    def read(self) -> int | None:
        """The pid of our process if it is still running, else None."""
        try:
            pid = int(self.path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
        if self.program not in cmdline or _is_zombie(pid):
            return None
        return pid

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid}\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


#: What PyFlink writes into the environment of a process that ran a job in its local
#: mini-cluster with a Python UDF (its loopback worker: the SQL tests do). A Flink process
#: started from there would take them: FLINK_LIB_DIR makes a cluster load PyFlink's lib/
#: without flink-python, PYFLINK_GATEWAY_DISABLED keeps a job from starting its JVM, and
#: PYTHON_LOOPBACK_SERVER_ADDRESS points its workers at a server that is gone.
PYFLINK_CLIENT_VARIABLES = frozenset({
    "BOOT_LOG_DIR", "FLINK_BIN_DIR", "FLINK_CONF_DIR", "FLINK_HOME", "FLINK_LIB_DIR", "FLINK_OPT_DIR",
    "FLINK_PLUGINS_DIR", "PYFLINK_GATEWAY_DISABLED", "PYTHON_LOOPBACK_SERVER_ADDRESS", "SEMI_PERSISTENT_DIRECTORY",
    "TABLE_LOCAL_TIME_ZONE", "_PYFLINK_CONN_INFO_PATH", "_PYTHON_WORKER_MEMORY_LIMIT", "python",
})


def flink_environment() -> dict[str, str]:
    """This process's environment for a Flink process to start with: without what a local
    PyFlink run left in it."""
    return {name: value for name, value in os.environ.items() if name not in PYFLINK_CLIENT_VARIABLES}


def spawn(argv: list[str], log: Path, cwd: Path, user: str | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` detached from our terminal, its output appended to `log`; `env`, when
    given, is its whole environment."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,  # survives the shell that ran `make up`
            user=user,
            group=user,
            env=env,
        )


def stop(pid: int, sig: signal.Signals, timeout: float) -> bool:
    """Send `sig`, wait up to `timeout` s for the process to go, then kill it. True if it went."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    time.sleep(0.5)
    return not _alive(pid)


def stop_group(leader: int, timeout: float = 30.0) -> bool:
    """Stop the leader of a process group (SIGTERM, SIGKILL after `timeout` s), then kill
    what of its group it left behind (a Flink JVM, Python workers) and wait until that is
    gone too. True if the leader went."""
    ok = stop(leader, signal.SIGTERM, timeout=timeout) or stop(leader, signal.SIGKILL, timeout=10)
    try:
        os.killpg(leader, signal.SIGKILL)  # leftovers only: the leader has exited
    except (ProcessLookupError, PermissionError):
        return ok
    deadline = time.monotonic() + 10
    while group_alive(leader) and time.monotonic() < deadline:
        time.sleep(0.1)
    return ok


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group `pgid` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(pid: int) -> bool:
    """True while the process exists and has not exited (a zombie has)."""
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    except ChildProcessError:
        pass
    return running(pid)


def port_in_use(host: str, port: int) -> bool:
    """True if something accepts connections on host:port or holds the address."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, below the system's ephemeral range.

    A port the system picks with bind(0) comes from the ephemeral range, which outgoing
    connections draw from too: a service started on it a few seconds later can find it
    taken by some client's connection (a second test stack's Redis did, once in CI).
    """
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if not port_in_use(host, port):
            return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def wait_port_free(host: str, port: int, timeout: float) -> bool:
    """Wait until nothing holds host:port (a stopped JVM lets go of it a little later)."""
    deadline = time.monotonic() + timeout
    while port and port_in_use(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


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
        ok = stop_group(pid)
        if ok:
            self.pidfile.remove()
        return ok
