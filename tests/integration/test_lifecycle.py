"""A whole second stack, on other ports and in its own folder, through its life:
demo (first start) -> status -> up again (starts nothing) -> down (nothing left)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from footfall.settings import Settings
from footfall.stack.processes import running
from tests.helpers import footfall, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def second_stack(settings: Settings, unique: str):
    # Inside the project's var folder: PostgreSQL's own user must be able to reach it,
    # which pytest's private tmp folders do not allow.
    home = settings.stack.var_dir / "tests" / unique
    env = {
        "FOOTFALL_VAR_DIR": str(home),
        "FOOTFALL_KAFKA_PORT": str(free_port()),
        "FOOTFALL_CLICKHOUSE_PORT": str(free_port()),
        "FOOTFALL_CLICKHOUSE_HTTP_PORT": str(free_port()),
        "FOOTFALL_REDIS_PORT": str(free_port()),
        "FOOTFALL_POSTGRES_PORT": str(free_port()),
        "FOOTFALL_JOB_REST_PORT": str(free_port()),
        "FOOTFALL_JOB_CHECKPOINT_DIR": str(home / "checkpoints"),
    }
    yield home, env
    footfall("down", env=env)
    shutil.rmtree(home, ignore_errors=True)


def _pids(home: Path) -> dict[str, int]:
    return {name: int((home / name / f"{name}.pid").read_text()) for name in ("kafka", "clickhouse", "redis", "postgres")}


def test_up_twice_starts_nothing_new_and_down_leaves_no_process(second_stack) -> None:
    home, env = second_stack

    demo = footfall("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    assert "demo mall loaded" in demo.stdout
    assert "metrics job running" in demo.stdout and "streaming shoppers" in demo.stdout
    started = _pids(home)
    started["metrics job"] = int((home / "job" / "metrics.pid").read_text())
    started["simulator"] = int((home / "simulator" / "simulator.pid").read_text())

    status = footfall("status", env=env)
    assert status.returncode == 0, status.stdout
    for name, port_var in (("kafka", "FOOTFALL_KAFKA_PORT"), ("redis", "FOOTFALL_REDIS_PORT")):
        line = next(line for line in status.stdout.splitlines() if line.startswith(name))
        assert "running" in line and env[port_var] in line

    again = footfall("up", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already running") == 5  # four services and the job
    assert {**_pids(home), "metrics job": started["metrics job"], "simulator": started["simulator"]} == started
    assert int((home / "job" / "metrics.pid").read_text()) == started["metrics job"]

    down = footfall("down", env=env)
    assert down.returncode == 0
    for name, pid in started.items():
        assert not running(pid), f"{name} (pid {pid}) still runs"
    assert footfall("status", env=env).returncode == 1  # everything reported stopped

