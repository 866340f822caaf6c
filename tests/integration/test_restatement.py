"""Restatement on the real stack (footfall/restatement.py, jobs/metrics/restate.py): a
day whose live numbers were provisional (a probe's backlogs of 10 and 50 minutes counted
in its devices but in no visit; a probe registered in the wrong shop) becomes, once
restated with `footfall restate`, exactly what the plain-Python reference makes of all
of the day's reports with the corrected layout; restating it again changes no row; a day
the topics no longer hold, or one not yet closed, is refused whole."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import pytest

from footfall import clients
from footfall.restatement import FINAL, RESTATED, states
from footfall.settings import Settings
from jobs.metrics.restate import HOLD_S
from simulators.dimensions import load_layout
from simulators.layout import Layout
from tests.helpers import footfall
from tests.integration.endtoend import DAY, SEED, Runs, Scenario, assert_same, backlog, expect, occur, wait_for
from tests.jobs.harness import from_clickhouse
from tests.jobs.reference import Limits

#: The topics (and the device-level history) keep the scenario's day, in 2023, in these
#: tests; the defaults (7 and 180 days) do not.
HELD = {"FOOTFALL_RETENTION_TOPICS_DAYS": "3650", "FOOTFALL_RETENTION_DEVICE_DAYS": "3650"}


def two_backlogs(scenario: Scenario) -> tuple[list, str]:
    """The scenario's day as one shop probe sends it with a 50-minute and a 10-minute gap in
    its uplink, each backlog uploaded when it is back; and that probe."""
    early, held = backlog(scenario.plain, scenario.layout, SEED, minutes=50, at=0.1)
    probe = json.loads(held[0].value)["ap_mac"]
    records, _ = backlog(early, scenario.layout, SEED, minutes=10, at=0.8, probe=probe)
    return records, probe


def moved(layout: Layout, ap_mac: str) -> Layout:
    """`layout` with the shop probe `ap_mac` in another shop of its mall: beside that
    shop's own probe, registered as that shop's."""
    malls = []
    for mall in layout.malls:
        probe = next((p for p in mall.probes if p.ap_mac == ap_mac), None)
        if probe is not None:
            other = next(p for p in mall.probes if p.shop_code and p.shop_code != probe.shop_code)
            relocated = replace(probe, shop_code=other.shop_code, x=other.x + 1.0, y=other.y)
            mall = replace(mall, probes=tuple(relocated if p is probe else p for p in mall.probes))
        malls.append(mall)
    return Layout(tuple(malls))


def of_days(outputs: dict[str, dict], days: set[tuple[str, str]], restated: bool) -> dict[str, dict]:
    """The rows of the outputs a restatement writes, of `days` (mall_id, ISO day) or, not
    `restated`, of every other day (staff found over many days is the live job's)."""
    return {o: {k: v for k, v in rows.items() if ((k[0], k[1]) in days) == restated} if o in RESTATED else {}
            for o, rows in outputs.items()}


@pytest.mark.timeout(1200)  # a live job, then four restatements, each a bounded job of its own
def test_a_restated_day_is_the_reference_of_all_its_reports_with_the_corrected_layout(
        runs: Runs, scenario: Scenario, metrics_job) -> None:  # type: ignore[no-untyped-def]
    records, probe = two_backlogs(scenario)
    run = runs.new("restate", records=records, **HELD)
    run.publish(run.records)
    job = metrics_job(run)
    live = wait_for(run.expected, run.settings, run.mall_ids, timeout=600)
    assert_same(live, run.expected)  # provisional: the live job's rules

    # A shop probe other than the one with the backlogs (runs rename MACs in their 4th byte).
    wrong = next(p.ap_mac for p in run.layout.malls[0].probes
                 if p.shop_code and (p.ap_mac[:9] + p.ap_mac[12:]) != (probe[:9] + probe[12:]))
    corrected = moved(run.layout, wrong)
    load_layout(corrected, run.settings.postgres)  # after the day: the probe was in the wrong shop
    _, final, _ = expect(corrected, run.records, run.config.start, 1, Limits(watermark_delay_ms=HOLD_S * 1000))
    for output in ("mall_daily", "mall_hourly", "shop_daily", "visits"):  # so the restatement has work to do
        assert final[output] != run.expected[output], output
    assert sum(1 for r in run.records if occur(r) is not None) > 1000

    # The scenario's day in both malls (the days before it hold only the staff's phones).
    day = DAY.isoformat()
    days = {(mall_id, day) for mall_id in run.mall_ids}
    client = clients.clickhouse(run.settings.clickhouse)

    def restate_all() -> list[str]:
        said = []
        for mall_id in sorted(run.mall_ids):
            done = footfall("restate", "--mall", mall_id, "--from", day, env=run.env, timeout=900)
            assert done.returncode == 0, done.stderr
            said += done.stdout.splitlines()
        return said

    said = restate_all()
    print("\n".join(said))  # each day's steps and times, shown if the test fails
    for mall_id in sorted(run.mall_ids):
        assert any(line.startswith(f"{mall_id} {day}: final: ") for line in said), said
    assert said[-1].endswith("] 1/1 days"), said
    assert {k: v for k, v in states(client, DAY).items() if k[0] in run.mall_ids} == {
        (m, DAY): FINAL for m in run.mall_ids}

    got = from_clickhouse(client, run.mall_ids)
    assert_same(of_days(got, days, True), of_days(final, days, True))
    assert_same(of_days(got, days, False), of_days(run.expected, days, False))  # the other days as they were
    assert job.state() == "RUNNING"  # the live job ran on beside it

    restate_all()  # again: the same rows
    assert from_clickhouse(client, run.mall_ids) == got


@pytest.mark.parametrize("case", ["beyond the topics' retention", "not closed yet"])
def test_a_day_that_cannot_be_restated_whole_is_refused(runs: Runs, stack: Settings, case: str) -> None:
    run = runs.new(f"refuse-{case.split()[0]}")  # its malls in PostgreSQL; nothing published
    mall_id = sorted(run.mall_ids)[0]
    day = "2023-03-15" if case.startswith("beyond") else datetime.now().date().isoformat()
    client = clients.clickhouse(run.settings.clickhouse)
    done = footfall("restate", "--mall", mall_id, "--from", day, env=run.env)
    assert done.returncode == 1 and done.stdout == ""
    why = ("the input topics keep 7 days (FOOTFALL_RETENTION_TOPICS_DAYS)" if case.startswith("beyond")
           else "not closed until")
    assert why in done.stderr and "nothing was restated" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not [k for k in states(client, date(2023, 1, 1)) if k[0] == mall_id]
