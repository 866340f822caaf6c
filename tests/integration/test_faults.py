"""Fault tests beyond the shared run's (tests/integration/test_metrics_job.py): the running
job through an outage of each store in turn, each in its own fifth of the stream, then its
supervisor killed (the job must end with it, not run on unsupervised) and the job resumed
by `footfall up`; every output compared with the reference of the same events. Slow:
`make test-all`."""

from __future__ import annotations

import os
import signal
import time

import pytest

from footfall.settings import Settings
from ops.job import MetricsJob
from ops.processes import group_alive
from tests.helpers import footfall
from tests.integration.endtoend import Runs, assert_every_output, outage, wait_for, wait_until_written

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_each_store_down_in_turn_mid_stream_then_its_supervisor_killed_loses_nothing(
        stack: Settings, runs: Runs, metrics_job) -> None:
    # The layout reads PostgreSQL every 2 s (60 by default), so that its outage is met, and
    # reported, within the 15 s it lasts.
    run = runs.new("outages", FOOTFALL_JOB_LOOKUP_CACHE_SECONDS="2")
    job = metrics_job(run)
    jid = job.overview()["jid"]
    fifth = len(run.records) // 5
    part = [run.records[n * fifth:(n + 1) * fifth] for n in range(4)] + [run.records[4 * fifth:]]
    run.publish(part[0])
    wait_until_written(run, job)

    outages = [
        outage(stack, run, job, "clickhouse", signal.SIGKILL, part[1]),  # a crash
        outage(stack, run, job, "redis", signal.SIGTERM, part[2]),  # a stop
        outage(stack, run, job, "postgres", signal.SIGKILL, part[3]),  # a crash; the layout in memory serves
    ]
    for down in outages:
        assert down.states == {"RUNNING"}, down
        assert down.degraded is not None and down.service in down.degraded.failing, f"{down.service}: not reported"
    assert outages[0].hours_after >= outages[0].hours_before  # crashed, not stopped: what it held is still there
    overview, health = job.overview(), job.health()
    assert (overview["jid"], overview["state"], health.restarts) == (jid, "RUNNING", 0)  # the same job, never ended

    # Then the supervisor is killed (the out-of-memory killer, an administrator): the job,
    # its JVM and its workers must not run on unsupervised; they end with it.
    done = job.completed_checkpoints()
    wait_until_written(run, job, checkpoints=done + 1)
    assert isinstance(job, MetricsJob)
    supervisor, launcher = job.pid(), job.job_pid()
    assert supervisor is not None and launcher is not None
    os.killpg(supervisor, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while job.pid() is not None or group_alive(launcher):
        assert time.monotonic() < deadline, "the job's processes outlived their supervisor"
        time.sleep(0.2)
    run.publish(part[4])

    # What an operator runs: resumes from the checkpoint. The services are the session's
    # (this job's folder is the run's own), so `up` is told to only check they answer.
    up = footfall("up", env={**run.env, "FOOTFALL_LOCAL_SERVICES": ""}, timeout=300)
    assert up.returncode == 0, up.stderr
    assert "metrics job" in up.stdout and "running" in up.stdout
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))
