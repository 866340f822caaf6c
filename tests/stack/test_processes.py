import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ops.processes import PidFile, port_in_use, spawn, stop
from tests.helpers import free_port


def test_a_listening_port_is_in_use_and_a_free_one_is_not() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert port_in_use("127.0.0.1", server.getsockname()[1])
    assert not port_in_use("127.0.0.1", free_port())


def test_a_pid_file_owns_only_the_program_it_started(tmp_path) -> None:
    process = spawn([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "out.log", cwd=tmp_path)
    # Popen returns once the child's exec has closed its descriptors, a moment before the
    # kernel has set up its new command line (read as empty until then): wait for it.
    deadline = time.monotonic() + 10
    while not Path(f"/proc/{process.pid}/cmdline").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert PidFile(tmp_path / "a.pid", "python").read() is None  # nothing written yet
        mine = PidFile(tmp_path / "a.pid", "time.sleep(30)")
        mine.write(process.pid)
        assert mine.read() == process.pid
        assert PidFile(tmp_path / "a.pid", "redis-server").read() is None  # a reused pid is not ours
    finally:
        assert stop(process.pid, signal.SIGTERM, timeout=5)
    assert mine.read() is None


def test_stop_kills_a_process_that_ignores_the_polite_signal(tmp_path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"ready"
    assert stop(process.pid, signal.SIGTERM, timeout=0.5)
    assert not Path(f"/proc/{process.pid}").exists()
