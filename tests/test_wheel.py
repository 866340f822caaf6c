"""The project installs as a regular wheel: built from this tree, installed into a
scratch folder, its command and the metrics job's SQL loader work from there, with the
SQL, schema and page files it reads at run time inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.helpers import ROOT

#: Run with no site processing (so the editable install's path hook stays out) and the
#: scratch folder first; the dependencies come from this environment's site-packages.
LAUNCH = "import sys; sys.path[:0] = [{scratch!r}, {deps!r}]; {code}"


def run_installed(scratch: Path, code: str) -> subprocess.CompletedProcess[str]:
    source = LAUNCH.format(scratch=str(scratch), deps=sysconfig.get_paths()["purelib"], code=code)
    return subprocess.run([sys.executable, "-S", "-c", source], cwd=scratch.parent, capture_output=True, text=True,
                          timeout=300)


def test_the_wheel_carries_its_data_and_runs_from_a_scratch_install(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("footfall-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "jobs/metrics/01_sources.sql",
        "ops/schema/clickhouse.sql",
        "dashboards/views/portfolio.py",
        "bench/variants/ceiling.sql",
        "footfall/flink.py",
    ):
        assert needed in names, f"{needed} is not in the wheel"
    scratch = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(scratch), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr

    helped = run_installed(scratch, "import ops.cli as c; print(c.__file__); c.main(['--help'])")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith(str(scratch)) and "reset" in helped.stdout and "demo" in helped.stdout

    loaded = run_installed(
        scratch,
        (
            "from footfall.settings import Settings; from jobs import sql; "
            "from jobs.metrics.job import FOLDER, sql_values; "
            "print(FOLDER); print(len(sql.load(FOLDER, sql_values(Settings()))))"
        ),
    )
    assert loaded.returncode == 0, loaded.stderr
    folder, statements = loaded.stdout.split()
    assert folder.startswith(str(scratch)) and int(statements) > 10
