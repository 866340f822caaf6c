"""What the embedded job's supervisor (ops/supervisor.py) writes after every change, and
reads back: its state, the job's process, and its restarts with their reasons
(`var/job/supervisor.json`), which `footfall status` and the System page show."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from footfall.settings import Settings


def state_file(settings: Settings) -> Path:
    return settings.stack.var_dir / "job" / "supervisor.json"


@dataclass
class Restart:
    at: str  # ISO 8601, UTC
    reason: str
    restored_from: str | None


@dataclass
class SupervisorState:
    """What the supervisor writes after every change (read by `read_state`)."""

    supervisor_pid: int
    state: str  # starting | running | restarting | stopped | failed
    job_pid: int | None = None
    since: str = ""
    restarts: int = 0
    history: list[Restart] = field(default_factory=list)

    @property
    def last(self) -> Restart | None:
        return self.history[-1] if self.history else None

    def describe(self) -> str:
        """'2 restarts by the supervisor, the last at 10:02:11 UTC: killed by SIGKILL'."""
        if not self.restarts:
            return "no restarts by the supervisor"
        plural = "s" if self.restarts != 1 else ""
        last = self.last
        when = f", the last at {last.at[11:19]} UTC: {last.reason}" if last else ""
        return f"{self.restarts} restart{plural} by the supervisor{when}"


def read_state(settings: Settings) -> SupervisorState | None:
    """The supervisor's last word, or None when no supervisor has run here."""
    try:
        raw = json.loads(state_file(settings).read_text())
    except (OSError, ValueError):
        return None
    history = [Restart(**entry) for entry in raw.pop("history", [])]
    return SupervisorState(**raw, history=history)


def running_state(settings: Settings) -> SupervisorState | None:
    """What the supervisor that runs now last wrote (None when none runs: the file may be
    an old one's)."""
    state = read_state(settings)
    if state is None:
        return None
    try:
        command = Path(f"/proc/{state.supervisor_pid}/cmdline").read_bytes()
    except OSError:
        return None
    return state if b"ops.supervisor" in command else None
