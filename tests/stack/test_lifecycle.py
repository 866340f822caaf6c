"""`footfall job` without a running job: which snapshots it keeps and lists, and what
`start --from` restores (the whole lifecycle runs on a real cluster in
tests/integration/test_job_lifecycle.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from footfall.settings import Settings
from jobs.metrics.plan import plan_version
from ops import lifecycle
from ops.services import StackError


def snapshot(folder: Path, age_s: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "_metadata").write_bytes(b"x")
    stamp = 1_800_000_000 - age_s
    os.utime(folder / "_metadata", (stamp, stamp))
    return folder


@pytest.fixture
def kept(tmp_path, monkeypatch) -> Settings:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FOOTFALL_JOB_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("FOOTFALL_JOB_SAVEPOINT_DIR", str(tmp_path / "savepoints"))
    settings = Settings()
    mine = plan_version()
    snapshot(settings.job.checkpoint_dir / f"plan-{mine}" / "run1" / "chk-7", age_s=300)
    snapshot(settings.job.savepoint_dir / f"plan-{mine}" / "savepoint-ab12-cd34", age_s=200)
    snapshot(settings.job.checkpoint_dir / "plan-0ld0ld0ld0ld" / "run0" / "chk-3", age_s=100)
    (settings.job.checkpoint_dir / f"plan-{mine}" / "run1" / "chk-8").mkdir()  # incomplete: no _metadata
    return settings


def test_every_complete_snapshot_is_listed_with_its_plan_oldest_first(kept: Settings) -> None:
    found = lifecycle.snapshots(kept)
    assert [(s.kind, s.plan, s.path.name) for s in found] == [
        ("checkpoint", plan_version(), "chk-7"), ("savepoint", plan_version(), "savepoint-ab12-cd34"),
        ("checkpoint", "0ld0ld0ld0ld", "chk-3")]
    assert "plan 0ld0ld0ld0ld" in found[-1].line()


def test_start_from_latest_takes_the_newest_snapshot_of_this_plan_only(kept: Settings) -> None:
    assert lifecycle.resolve(kept, "latest").name == "savepoint-ab12-cd34"
    assert lifecycle.resolve(kept, "topics") is None


def test_a_snapshot_of_another_plan_or_no_snapshot_at_all_is_refused_with_the_way_out(kept: Settings) -> None:
    with pytest.raises(StackError, match="written by plan 0ld0ld0ld0ld.*--from topics"):
        lifecycle.resolve(kept, str(kept.job.checkpoint_dir / "plan-0ld0ld0ld0ld" / "run0" / "chk-3"))
    with pytest.raises(StackError, match="no _metadata"):
        lifecycle.resolve(kept, str(kept.job.checkpoint_dir))
    mine = kept.job.checkpoint_dir / f"plan-{plan_version()}" / "run1" / "chk-7"
    assert lifecycle.resolve(kept, str(mine)) == mine.resolve()
