"""Fault tests: the running job through outages, a crash, broken clocks and delayed
uploads, mid-stream on the real stack, every output compared with the reference of the
same events (tests/integration/endtoend.py). Marked `faults`; `make faults` runs only them."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from footfall import clients
from footfall.settings import Settings
from footfall.stack import manager
from footfall.stack.job import MetricsJob
from footfall.stack.services import all_services
from simulators.source import Record, probe_record
from tests.helpers import footfall, read_topic
from tests.integration.endtoend import Run, assert_every_output, ours, wait_for
from tests.jobs.harness import from_clickhouse

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OUTAGE_S = 60


def wait_until_written(run: Run, job: MetricsJob, checkpoints: int = 1, timeout: float = 300) -> None:
    """Until the job has written results of ours and completed `checkpoints` checkpoints."""
    clickhouse = clients.clickhouse(run.settings.clickhouse)
    deadline = time.monotonic() + timeout
    while not (job.completed_checkpoints() >= checkpoints
               and ours(from_clickhouse(clickhouse), run.mall_ids)["mall_hourly"]):
        assert time.monotonic() < deadline, f"the job wrote nothing in {timeout:.0f} s"
        time.sleep(0.5)


def hours_stored(stack: Settings, run: Run) -> int:
    """The run's distinct mall hours in ClickHouse. FINAL, because a background merge of the
    ReplacingMergeTree folds the versions of an hour and may shrink a plain count()."""
    query = "SELECT count() FROM mall_hourly FINAL WHERE mall_id IN %(malls)s"
    return clients.clickhouse(stack.clickhouse).execute(query, {"malls": tuple(run.mall_ids)})[0][0]


def kill(stack: Settings, name: str, sig: signal.Signals) -> None:
    """Stop one of the stack's services as a crash or an operator would."""
    service = next(s for s in all_services(stack) if s.name == name)
    pid = service.pidfile.read()
    assert pid is not None, f"{name} is not one of ours"
    os.killpg(pid, sig)  # the server and whatever it started
    deadline = time.monotonic() + 30
    while service.pidfile.read() is not None:
        assert time.monotonic() < deadline, f"{name} did not stop"
        time.sleep(0.1)


@pytest.mark.parametrize(("service", "sig"), [
    ("clickhouse", signal.SIGKILL),  # a crash: its data must survive it
    ("redis", signal.SIGTERM),
    ("postgres", signal.SIGKILL),
], ids=["clickhouse-crash", "redis-stop", "postgres-crash"])
def test_a_store_down_for_a_minute_mid_stream_loses_nothing(stack: Settings, run: Run, metrics_job, service: str,
                                                            sig: signal.Signals) -> None:
    job = metrics_job()
    jid = job.overview()["jid"]
    third = len(run.records) // 3
    run.publish(run.records[:third])
    wait_until_written(run, job)
    clickhouse_rows = hours_stored(stack, run)

    kill(stack, service, sig)
    down_at = time.monotonic()
    run.publish(run.records[third:2 * third])  # events keep arriving
    degraded = None
    while time.monotonic() - down_at < OUTAGE_S:
        health = job.health()
        if health is not None and health.degraded:
            degraded = health
        time.sleep(2)
    assert job.state() == "RUNNING"
    manager.up(stack, report=lambda line: None)  # `make up`: starts what is not running
    if service == "clickhouse":  # crashed, not stopped: what it held is still there
        assert hours_stored(stack, run) >= clickhouse_rows
    run.publish(run.records[2 * third:])

    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))
    overview = job.overview()
    assert (overview["jid"], overview["state"]) == (jid, "RUNNING")  # the same job, never ended
    deadline = time.monotonic() + 60  # the layout retries PostgreSQL every 5 s
    while (health := job.health()) is None or health.degraded:
        assert time.monotonic() < deadline, f"still degraded: {health}"
        time.sleep(2)
    assert health.restarts == 0
    if service != "postgres":  # the layout in memory serves while PostgreSQL is down
        assert degraded is not None and service in degraded.failing, "the outage was not reported"
    else:
        assert degraded is not None and "postgres" in degraded.failing


def jvm_of(pid: int) -> int:
    """The Flink JVM the job's process runs (its child)."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"java"):
            return int(child)
    raise AssertionError(f"process {pid} runs no JVM")


def test_the_supervisor_restarts_a_killed_job_from_its_checkpoint(run: Run, metrics_job) -> None:
    job = metrics_job()
    half = len(run.records) // 2
    run.publish(run.records[:half])
    wait_until_written(run, job, checkpoints=2)
    killed = job.job_pid()
    assert killed is not None
    os.kill(jvm_of(killed), signal.SIGKILL)  # what the out-of-memory killer picks: the biggest process
    run.publish(run.records[half:])

    assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))
    supervisor = job.supervisor()
    assert supervisor is not None and supervisor.restarts == 1, supervisor
    assert supervisor.history[0].restored_from and "/chk-" in supervisor.history[0].restored_from
    assert job.job_pid() not in (None, killed) and job.state() == "RUNNING"
    assert "1 restart by the supervisor" in footfall("status").stdout


def test_the_job_killed_with_its_supervisor_resumes_from_its_checkpoint(run: Run, metrics_job) -> None:
    job = metrics_job()
    half = len(run.records) // 2
    run.publish(run.records[:half])
    wait_until_written(run, job, checkpoints=2)
    supervisor, launcher = job.pid(), job.job_pid()
    assert supervisor is not None and launcher is not None
    for group in (supervisor, launcher):  # everything: the supervisor, the job, its JVM and workers
        os.killpg(group, signal.SIGKILL)
    while job.pid() is not None:
        time.sleep(0.1)
    run.publish(run.records[half:])

    # What an operator runs: resumes from the checkpoint. The services are the session's
    # (this job's folder is the test's own), so `up` is told to only check they answer.
    up = footfall("up", env={"FOOTFALL_LOCAL_SERVICES": ""}, timeout=300)
    try:
        assert up.returncode == 0, up.stderr
        assert "metrics job" in up.stdout and "running" in up.stdout
        assert_every_output(run, wait_for(run.expected, run.settings, run.mall_ids, timeout=600))
    finally:
        MetricsJob(run.settings).stop()


def future_reports(run: Run, years: int = 1) -> list[Record]:
    """One report a year ahead per partition (several keys, so every partition gets one),
    from a real probe of ours, as a probe with a broken clock would send."""
    probe = run.layout.malls[0].probes[0]
    ahead = int((time.time() + years * 365 * 86400) * 1000)
    return [probe_record(f"future-{run.config.seed}-{n}", probe.ap_mac, f"00:16:3e:00:00:{n:02x}", -50, ahead, 0)
            for n in range(8)]


def test_reports_from_the_future_are_turned_away_and_move_nothing(run: Run, metrics_job) -> None:
    bad = future_reports(run)
    records = [*bad, *run.records]
    stamped = Run.of(run.settings, run.layout, run.config, records)
    assert stamped.expected_input.rejects[("wifi-probes", "future")] == len(bad)
    assert stamped.expected == run.expected  # the ordinary traffic, counted in full

    metrics_job()
    stamped.publish(records)
    assert_every_output(stamped, wait_for(stamped.expected, stamped.settings, stamped.mall_ids, timeout=600))
    future_letters = [json.loads(m.value) for m in read_topic(run.settings, run.settings.kafka.dead_letters_topic)
                      if json.loads(m.value)["reason"] == "future"]
    assert len(future_letters) == len(bad)
    redis = clients.redis_client(run.settings.redis)
    for mall_id in run.mall_ids:  # "today" is the traffic's newest day, not next year's
        newest = max(k[1] for k in run.expected["mall_daily"] if k[0] == mall_id)
        assert redis.hget(f"ff:{mall_id}:today", "day") == newest


def backlog(run: Run, minutes: int = 10) -> tuple[list[Record], list[Record]]:
    """The scenario with one shop probe offline for `minutes` in the middle of it: its
    reports of that time held back and uploaded after the others of that time, as it
    reconnects. Returns (records in publishing order, the backlog)."""
    def occur(record: Record) -> int | None:
        try:
            value = json.loads(record.value)["occur_time"]
        except (ValueError, KeyError, TypeError):
            return None
        return value if isinstance(value, int) else None

    times = sorted(t for r in run.records if r.topic == "wifi-probes" and (t := occur(r)) is not None)
    start = times[len(times) // 2]
    end = start + minutes * 60_000
    # The busiest shop probe of that time, so that the backlog is big whatever the seed
    # (the first shop's probe held back only 16 reports in one seed of twelve).
    shop_probes = {p.ap_mac for m in run.layout.malls for p in m.probes if p.shop_code}
    heard = Counter(mac for r in run.records if r.topic == "wifi-probes" and start <= (occur(r) or -1) < end
                    and (mac := json.loads(r.value).get("ap_mac")) in shop_probes)
    shop_probe = heard.most_common(1)[0][0]

    def held(record: Record) -> bool:
        at = occur(record)
        return (record.topic == "wifi-probes" and at is not None and start <= at < end
                and json.loads(record.value).get("ap_mac") == shop_probe)

    # A shopper only that probe heard in that time, so the backlog alone decides whether
    # they count (for the mall, its hours and the shop).
    alone = [probe_record(f"backlog-{run.config.seed}-{n}", shop_probe, "00:16:3e:aa:bb:01", -55,
                          start + n * 60_000, (start + n * 60_000) / 1000) for n in range(minutes)]
    held_back = [r for r in run.records if held(r)] + alone
    rest = [r for r in run.records if not held(r)]
    back_online = next(i for i, r in enumerate(rest) if r.topic == "wifi-probes" and (occur(r) or 0) >= end)
    return rest[:back_online] + held_back + rest[back_online:], held_back


def test_a_probes_ten_minute_backlog_counts_for_visitors_hours_and_shops(run: Run, metrics_job) -> None:
    records, held_back = backlog(run)
    assert len(held_back) > 20
    uploaded = Run.of(run.settings, run.layout, run.config, records)
    lost = Run.of(run.settings, run.layout, run.config, [r for r in records if r not in held_back])
    late = [e for e in uploaded.expected_input.probes if not e.on_time]
    assert len(late) >= len(held_back) // 2, "the backlog must arrive behind the watermark"
    assert uploaded.expected_input.rejects.get(("wifi-probes", "late"), 0) == \
        run.expected_input.rejects.get(("wifi-probes", "late"), 0)  # none of the backlog turned away
    for output in ("mall_daily", "mall_hourly", "shop_daily"):  # so the comparison below checks the backlog
        assert uploaded.expected[output] != lost.expected[output], output

    metrics_job()
    uploaded.publish(records)
    assert_every_output(uploaded, wait_for(uploaded.expected, uploaded.settings, uploaded.mall_ids, timeout=600))
