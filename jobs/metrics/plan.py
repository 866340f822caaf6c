"""Versions of the metrics job's plan: Flink maps a checkpoint's or a savepoint's state to
the operators of the plan that wrote it, so every snapshot is kept under the version of
the SQL that wrote it (`plan-<digest>`). No PyFlink import: the `footfall` command reads
this without starting a JVM."""

from __future__ import annotations

import hashlib
from pathlib import Path

from footfall import outputs
from jobs import sql

#: The job's folder: its numbered SQL files.
FOLDER = Path(__file__).resolve().parent


#: What the plan is made of besides the numbered SQL files: the views the launcher
#: supplies (hooks.py: the fork and the stream into the sinks are operators too), the
#: launcher (job.py), and the outputs' payloads rendered into 11_outputs.sql from their
#: definitions (payloads.py, footfall/outputs.py).
PLAN_SOURCES = (FOLDER / "hooks.py", FOLDER / "job.py", FOLDER / "payloads.py", Path(outputs.__file__))


def plan_version() -> str:
    """A digest of the job's SQL and of PLAN_SOURCES. A checkpoint restores only into the
    plan that wrote it (Flink maps state to operators), so checkpoints are kept per version
    of the plan."""
    digest = hashlib.sha256()
    for path in [*sql.numbered_files(FOLDER), *PLAN_SOURCES]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def checkpoint_home(checkpoint_dir: Path) -> Path:
    return checkpoint_dir / f"plan-{plan_version()}"


def latest_checkpoint(checkpoint_dir: Path, excluding: frozenset[Path] = frozenset()) -> Path | None:
    """The newest complete checkpoint this version of the job can restore (one sub-folder
    per job run), but those `excluding` names; None after the SQL changed, so an upgraded
    job starts from the topics."""
    complete = [m.parent for m in checkpoint_home(checkpoint_dir).glob("*/chk-*/_metadata")
                if m.parent not in excluding]
    return max(complete, key=lambda p: p.stat().st_mtime) if complete else None


def plan_of_path(path: Path) -> str | None:
    """The plan version a checkpoint or savepoint folder was written by (from its path)."""
    for part in reversed(path.parts):
        if part.startswith("plan-"):
            return part[len("plan-") :]
    return None
