"""A clone in a private folder (root's 0700 home, a `mktemp -d` folder) starts as any
other: `footfall up` from there puts PostgreSQL's data where its own user can reach it,
answers, and `footfall clean` leaves nothing behind, outside the folder included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from footfall import clients
from footfall.settings import PostgresSettings
from ops.services import reachable_by
from tests.helpers import footfall, second_stack_environment

pytestmark = pytest.mark.integration


@pytest.fixture
def private(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "home"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)  # whatever the umask
    env = second_stack_environment(folder / "var")
    yield folder, env
    footfall("clean", env=env, cwd=folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root's PostgreSQL runs as another user")
def test_up_from_a_0700_folder_keeps_postgres_data_where_its_user_reaches_and_clean_removes_it(private) -> None:
    folder, env = private
    assert not reachable_by(folder / "var" / "postgres", "postgres")

    up = footfall("up", "--no-job", env=env, cwd=folder, timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    link = folder / "var" / "postgres" / "data"
    assert link.is_symlink(), "the data folder is a link to where PostgreSQL's user can reach it"
    outside = link.resolve().parent
    assert outside.name.startswith("footfall-postgres-") and reachable_by(outside, "postgres")
    assert (link / "PG_VERSION").exists()

    status = footfall("status", env=env, cwd=folder).stdout
    assert any(line.split()[:2] == ["postgres", "running"] and env["FOOTFALL_POSTGRES_PORT"] in line
               for line in status.splitlines()), status
    theirs = PostgresSettings(port=int(env["FOOTFALL_POSTGRES_PORT"]))
    with clients.postgres(theirs) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (theirs.schema_name,))}
    assert "malls" in tables, "the schema was created in the PostgreSQL started from the private folder"

    again = footfall("up", "--no-job", env=env, cwd=folder, timeout=300)
    assert again.returncode == 0 and "postgres    already running" in again.stdout, again.stdout + again.stderr
    # The same place is found again: no second data folder.
    assert sorted(p.name for p in outside.parent.glob(f"{outside.name}*")) == [outside.name]

    clean = footfall("clean", env=env, cwd=folder)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert not outside.exists() and not (folder / "var").exists()
