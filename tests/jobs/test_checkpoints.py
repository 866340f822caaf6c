"""Which checkpoint `--from-checkpoint latest` picks."""

from __future__ import annotations

import os

from jobs.metrics.plan import checkpoint_home, latest_checkpoint


def _checkpoint(folder, mtime: float):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    (folder / "_metadata").write_bytes(b"")
    os.utime(folder, (mtime, mtime))
    return folder


def test_the_newest_complete_checkpoint_of_this_job_version(tmp_path) -> None:
    home = checkpoint_home(tmp_path)
    _checkpoint(home / "run-a" / "chk-7", 100)
    newest = _checkpoint(home / "run-b" / "chk-3", 200)
    (home / "run-b" / "chk-4").mkdir()  # being written: no _metadata yet
    assert latest_checkpoint(tmp_path) == newest


def test_checkpoints_of_another_version_of_the_sql_are_not_restored(tmp_path) -> None:
    # Flink cannot map their state onto a changed plan: an upgraded job starts afresh.
    _checkpoint(tmp_path / "plan-000000000000" / "run-a" / "chk-9", 300)
    _checkpoint(tmp_path / "run-old" / "chk-2", 300)  # written before versions were kept
    assert latest_checkpoint(tmp_path) is None
