from pathlib import Path

import pytest

from bench import quiet
from footfall.settings import Settings
from ops.job import MetricsJob


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings over a var folder of the test's own: no pid file, nothing running."""
    monkeypatch.setenv("FOOTFALL_VAR_DIR", str(tmp_path))
    return Settings()


def test_a_quiet_machine_is_measured(fresh: Settings) -> None:
    assert quiet.busy(fresh) == [] and quiet.refusal(fresh) is None


def test_the_stacks_metrics_job_stops_the_bench_with_what_to_do(fresh: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MetricsJob, "pid", lambda self: 4321)
    assert quiet.refusal(fresh) == ("the metrics job (pid 4321) would share the CPU with every run measured: "
                                    "stop it first (`footfall down`, then `footfall up --no-job`)")
