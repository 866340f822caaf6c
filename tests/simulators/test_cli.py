import json
import subprocess
import sys

import pytest

from simulators.layout import Layout


def simulators(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulators", *args], capture_output=True, text=True, timeout=120)


def test_help_describes_every_mode() -> None:
    result = simulators("--help")
    assert result.returncode == 0
    for mode in ("run", "load", "layout"):
        assert mode in result.stdout
    assert "--speedup" in simulators("run", "--help").stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--rate", "fast"], "--rate"),
        (["run", "--duration", "soon"], "--duration"),
        (["run", "--late-rate", "1.5"], "--late-rate"),
        (["run", "--probe-interval", "120-20"], "--probe-interval"),
        (["run", "--start", "yesterday-ish"], "--start"),
        (["load", "--processes", "0"], "--processes"),
        (["run", "--layout", "/no/such/layout.json"], "/no/such/layout.json"),
        (["teleport"], "teleport"),
    ],
)
def test_a_bad_argument_is_one_line_naming_it(args, named) -> None:
    result = simulators(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert named in result.stderr


def test_a_dry_run_is_reproducible_from_the_command_line(tmp_path) -> None:
    common = ["run", "--start", "2026-11-20T12:00", "--duration", "10m", "--as-fast-as-possible", "--seed", "5",
              "--duplicate-rate", "0.02", "--malformed-rate", "0.02"]  # fmt: skip
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert simulators(*common, "--output", str(first)).returncode == 0
    assert simulators(*common, "--output", str(second)).returncode == 0
    assert first.read_text() == second.read_text()
    lines = [json.loads(line) for line in first.read_text().splitlines()]
    assert {"wifi-probes", "door-sensors"} <= {line["topic"] for line in lines}
    assert len(lines) > 1000


def test_max_events_bounds_a_run(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    result = simulators(
        "run", "--start", "2026-11-20T12:00", "--as-fast-as-possible", "--max-events", "500", "--output", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 500


def test_layout_export_writes_a_file_that_loads_back(tmp_path) -> None:
    path = tmp_path / "malls.json"
    result = simulators("layout", "export", str(path), "--malls", "2")
    assert result.returncode == 0
    assert len(Layout.load(path).malls) == 2
