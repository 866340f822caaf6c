"""The metrics job end to end: simulator -> Kafka -> the running job -> ClickHouse, Redis
and the favourite-shop feed, every output compared with the plain-Python reference over
the same events; and a restart from a checkpoint that changes no output."""

from __future__ import annotations

import time

import pytest

from footfall import clients
from tests.integration.endtoend import Run, assert_every_output, ours, wait_for
from tests.jobs.harness import from_clickhouse

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", ["embedded", "cluster"])
def test_every_output_matches_the_reference_end_to_end(run: Run, metrics_job, mode: str) -> None:
    metrics_job(mode=mode)
    began = time.monotonic()
    run.publish(run.records)
    got = wait_for(run.expected, run.settings, run.mall_ids, timeout=600)
    elapsed = time.monotonic() - began
    print(
        f"\n{len(run.records):,} records through the job in {elapsed:.1f} s: {len(run.records) / elapsed:,.0f} events/s"
    )
    assert_every_output(run, got)


def test_a_restart_from_the_latest_checkpoint_changes_no_output(run: Run, metrics_job) -> None:
    """Cancel the job while it is working through the first half, publish the rest, resume
    from the newest checkpoint: the outputs are those of an uninterrupted run (which the
    test above shows equal the reference), with nothing lost and nothing counted twice."""
    half = len(run.records) // 2
    job = metrics_job()
    run.publish(run.records[:half])
    clickhouse = clients.clickhouse(run.settings.clickhouse)
    deadline = time.monotonic() + 300
    # Mid-stream: some results written and a checkpoint taken, but not everything read.
    while not (job.completed_checkpoints() >= 2 and ours(from_clickhouse(clickhouse), run.mall_ids)["mall_hourly"]):
        assert time.monotonic() < deadline, "the job wrote nothing in 300 s"
        time.sleep(0.5)
    assert job.stop()
    run.publish(run.records[half:])
    metrics_job(resume=True)
    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))
