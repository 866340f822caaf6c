"""`footfall job` mid-stream, on a standalone Flink cluster: upgrade with an unchanged plan
(from its savepoint), a changed plan refused with the reason and then replayed from the
topics when asked, stop with a savepoint and start from it; the same stop and start with
the embedded job under its supervisor; the job spread over two task managers; a cluster
that lost a task manager, then its job manager, brought back by `footfall up`. Each time
the stream is finished afterwards and every output must equal the reference over the
same events. Slow (`make test-all`) but for the refused parallelism, which starts nothing."""

from __future__ import annotations

import os
import signal

import pytest

from footfall.settings import ConfigError
from jobs.metrics.plan import plan_version
from ops import lifecycle
from ops.cluster import ClusterMetricsJob
from ops.job import MetricsJob
from ops.services import StackError
from tests.helpers import footfall
from tests.integration.endtoend import Run, Runs, assert_every_output, wait_for, wait_until_written

pytestmark = pytest.mark.integration


def halfway(run: Run, job) -> None:  # type: ignore[no-untyped-def]
    """Publish the first half of the events; return once the job has written some results
    and checkpointed, without having read everything."""
    run.publish(run.records[: len(run.records) // 2])
    wait_until_written(run, job)


def finish(run: Run) -> None:
    run.publish(run.records[len(run.records) // 2:])
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))


def stop_with_a_savepoint_and_start_from_it(run: Run, job) -> None:  # type: ignore[no-untyped-def]
    stopped = footfall("job", "stop", "--savepoint", env=run.env)
    assert stopped.returncode == 0, stopped.stderr
    location = [s for s in lifecycle.snapshots(run.settings) if s.kind == "savepoint"][-1]
    assert location.plan == plan_version()
    assert str(location.path) in stopped.stdout
    if isinstance(job, ClusterMetricsJob):
        assert job.state() == "FINISHED"
    else:  # the job's process ended, and its supervisor took that as final
        assert job.pid() is None
        supervisor = job.supervisor()
        assert supervisor is not None and (supervisor.state, supervisor.restarts) == ("stopped", 0)

    started = footfall("job", "start", "--from", str(location.path), env=run.env)
    assert started.returncode == 0, started.stderr
    assert f"restored from {location.path}" in started.stdout


@pytest.mark.slow
def test_a_cluster_job_upgraded_replayed_then_stopped_with_a_savepoint_and_started_from_it(
        runs: Runs, metrics_job, monkeypatch) -> None:
    run = runs.new("cluster")
    job = metrics_job(run, mode="cluster")
    halfway(run, job)
    status = lifecycle.status(run.settings)
    assert status is not None and status.state == "RUNNING" and status.plan == plan_version()

    with run.environment():
        same = lifecycle.upgrade(run.settings)
        assert (same.old_plan, same.new_plan, same.replayed) == (plan_version(), plan_version(), False)
        assert (same.savepoint / "_metadata").is_file() and job.state() == "RUNNING"

        real_plan = plan_version()
        monkeypatch.setattr(lifecycle, "plan_version", lambda: "feedfacefeed")  # as if the SQL had changed
        with pytest.raises(StackError, match=f"plan {real_plan} -> feedfacefeed.*--replay"):
            lifecycle.upgrade(run.settings)
        assert job.state() == "RUNNING"  # refused: nothing was stopped
        changed = lifecycle.upgrade(run.settings, replay=True)
        assert changed.replayed and job.state() == "RUNNING"
        monkeypatch.undo()

    stop_with_a_savepoint_and_start_from_it(run, job)
    finish(run)


@pytest.mark.slow
def test_the_embedded_job_stopped_with_a_savepoint_mid_stream_starts_from_it(runs: Runs, metrics_job) -> None:
    run = runs.new("embedded-savepoint")
    job = metrics_job(run)
    assert isinstance(job, MetricsJob)
    halfway(run, job)
    status = lifecycle.status(run.settings)
    assert status is not None and status.state == "RUNNING" and status.plan == plan_version()
    stop_with_a_savepoint_and_start_from_it(run, job)
    finish(run)


@pytest.mark.slow
def test_the_job_spread_over_two_task_managers_matches_the_reference(runs: Runs, metrics_job) -> None:
    """`footfall cluster start --taskmanagers 2 --parallelism 2` as a rehearsal of two
    machines: every operator runs twice, its subtasks on both task managers, each source
    reader with a partition of its own, and the outputs, live positions included, are
    still exactly the reference's."""
    from footfall.flink import rest_get, vertices

    run = runs.new("two-taskmanagers", partitions=2, FOOTFALL_JOB_PARALLELISM="2")
    job = metrics_job(run, mode="cluster", taskmanagers=2)
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


@pytest.mark.slow
def test_up_brings_back_a_cluster_that_lost_a_task_manager_then_its_job_manager(runs: Runs, metrics_job) -> None:
    """A standalone cluster's task manager killed mid-stream, then its job manager: each
    time `footfall up` brings the cluster and the job back (the job from its newest
    checkpoint once the job manager, which held it, is gone), and nothing is lost or
    counted twice."""
    run = runs.new("cluster-crashes")
    job = metrics_job(run, mode="cluster")
    assert isinstance(job, ClusterMetricsJob)
    third = len(run.records) // 3
    up_again = {**run.env, "FOOTFALL_LOCAL_SERVICES": ""}  # the session's services: only checked

    run.publish(run.records[:third])
    wait_until_written(run, job, checkpoints=2)
    manager = job.cluster.daemons()["taskexecutor"][0]
    os.kill(manager, signal.SIGKILL)
    run.publish(run.records[third:2 * third])
    up = footfall("up", env=up_again, timeout=300)
    assert up.returncode == 0, up.stderr
    assert f"1 of 1 task manager(s) were down (pid {manager})" in up.stdout
    assert job.state() == "RUNNING"

    wait_until_written(run, job, checkpoints=job.completed_checkpoints() + 2)
    os.kill(job.cluster.daemons()["standalonesession"][0], signal.SIGKILL)
    run.publish(run.records[2 * third:])
    up = footfall("up", env=up_again, timeout=300)
    assert up.returncode == 0, up.stderr
    assert "the job manager was down" in up.stdout and "resubmitted from" in up.stdout and "/chk-" in up.stdout
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=360))


def test_a_parallelism_above_the_topics_partitions_is_refused_with_the_setting_named(runs: Runs) -> None:
    run = runs.new("refused", FOOTFALL_JOB_PARALLELISM="2")  # the run's topics have one partition
    job = ClusterMetricsJob(run.settings, taskmanagers=1)
    with pytest.raises(ConfigError, match="FOOTFALL_JOB_PARALLELISM=2 needs at least 2 partitions"):
        job.start()
    assert not job.cluster.running()  # refused before anything was started
