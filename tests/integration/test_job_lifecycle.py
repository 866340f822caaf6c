"""`footfall job` on a standalone Flink cluster, mid-stream: stop with a savepoint and
start from it (and the same with the embedded job under its supervisor); upgrade with an
unchanged plan (from its savepoint); a changed plan refused with the reason, then
replayed from the topics when asked. Each time the stream is finished afterwards and
every output must equal the reference over the same events."""

from __future__ import annotations

import time

import pytest

from footfall import clients
from footfall.settings import ConfigError, Settings
from footfall.stack import lifecycle
from footfall.stack.cluster import ClusterMetricsJob
from footfall.stack.job import MetricsJob
from footfall.stack.services import StackError
from jobs.metrics.plan import plan_version
from tests.helpers import footfall
from tests.integration.endtoend import Run, assert_every_output, ours, wait_for
from tests.jobs.harness import from_clickhouse

pytestmark = pytest.mark.integration


def halfway(run: Run, job) -> None:  # type: ignore[no-untyped-def]
    """Publish the first half of the events; return once the job has written some results
    and checkpointed, without having read everything."""
    run.publish(run.records[: len(run.records) // 2])
    clickhouse = clients.clickhouse(run.settings.clickhouse)
    deadline = time.monotonic() + 300
    while not (job.completed_checkpoints() >= 1 and ours(from_clickhouse(clickhouse), run.mall_ids)["mall_hourly"]):
        assert time.monotonic() < deadline, "the job wrote nothing in 300 s"
        time.sleep(0.5)


def finish(run: Run) -> None:
    run.publish(run.records[len(run.records) // 2:])
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))


@pytest.mark.parametrize("mode", ["cluster", "embedded"])
def test_stop_with_a_savepoint_mid_stream_and_start_from_it(run: Run, metrics_job, mode: str) -> None:
    job = metrics_job(mode=mode)
    halfway(run, job)
    status = lifecycle.status(run.settings)
    assert status is not None and status.state == "RUNNING" and status.plan == plan_version()

    stopped = footfall("job", "stop", "--savepoint")
    assert stopped.returncode == 0, stopped.stderr
    location = [s for s in lifecycle.snapshots(run.settings) if s.kind == "savepoint"][-1]
    assert location.plan == plan_version()
    assert str(location.path) in stopped.stdout
    if mode == "cluster":
        assert job.state() == "FINISHED"
    else:  # the job's process ended, and its supervisor took that as final
        assert isinstance(job, MetricsJob) and job.pid() is None
        supervisor = job.supervisor()
        assert supervisor is not None and (supervisor.state, supervisor.restarts) == ("stopped", 0)

    started = footfall("job", "start", "--from", str(location.path))
    assert started.returncode == 0, started.stderr
    assert f"restored from {location.path}" in started.stdout
    finish(run)


def test_upgrade_keeps_the_state_of_an_unchanged_plan_and_replays_a_changed_one_only_when_asked(
        run: Run, metrics_job, monkeypatch) -> None:
    job = metrics_job(mode="cluster")
    halfway(run, job)
    same = lifecycle.upgrade(run.settings)
    assert (same.old_plan, same.new_plan, same.replayed) == (plan_version(), plan_version(), False)
    assert (same.savepoint / "_metadata").is_file() and job.state() == "RUNNING"

    monkeypatch.setattr(lifecycle, "plan_version", lambda: "feedfacefeed")  # as if the SQL had changed
    with pytest.raises(StackError, match=f"plan {plan_version()} -> feedfacefeed.*--replay"):
        lifecycle.upgrade(run.settings)
    assert job.state() == "RUNNING"  # refused: nothing was stopped

    changed = lifecycle.upgrade(run.settings, replay=True)
    assert changed.replayed and job.state() == "RUNNING"
    finish(run)


@pytest.mark.parametrize("partitions", [2])
def test_the_job_spread_over_two_task_managers_matches_the_reference(run: Run, metrics_job, monkeypatch,
                                                                     partitions: int) -> None:
    """`footfall cluster start --taskmanagers 2 --parallelism 2` as a rehearsal of two
    machines: every operator runs twice, its subtasks on both task managers, each source
    reader with a partition of its own, and the outputs, live positions included, are
    still exactly the reference's."""
    from footfall.flink import rest_get, vertices

    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    job = metrics_job(mode="cluster", taskmanagers=2)
    assert len(rest_get(job.rest, "/taskmanagers")["taskmanagers"]) == 2
    jid = job.overview()["jid"]
    graph = vertices(job.rest, jid)
    assert {v["parallelism"] for v in graph} == {2}
    sinks = next(v for v in graph if v["name"] == "sinks")
    placed = rest_get(job.rest, f"/jobs/{jid}/vertices/{sinks['id']}/taskmanagers")["taskmanagers"]
    assert len(placed) == 2  # the sinks' keys (output and mall) spread over both machines
    run.publish(run.records)
    # Within the test's time limit, so that a difference is reported rather than timed out.
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=360))


def test_a_parallelism_above_the_topics_partitions_is_refused_with_the_setting_named(
        job_settings, monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")  # the run's topics have one partition
    job = ClusterMetricsJob(Settings(), taskmanagers=1)
    with pytest.raises(ConfigError, match="FOOTFALL_JOB_PARALLELISM=2 needs at least 2 partitions"):
        job.start()
    assert not job.cluster.running()  # refused before anything was started
