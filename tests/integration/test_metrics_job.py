"""The metrics job end to end on the shared run (tests/integration/endtoend.py): simulator
-> Kafka -> the running job -> ClickHouse, Redis, PostgreSQL and the favourite-shop feed,
every output compared with the plain-Python reference over the same events, through malls
onboarded as their first reports arrive, a crash of ClickHouse and a killed job on the
way; and what the scenario's reports from the future and a probe's late backlog do to the
numbers."""

from __future__ import annotations

import json
import re

from footfall import clients
from tests.helpers import read_topic
from tests.integration.endtoend import (
    OUTAGE_S,
    Scenario,
    SharedRun,
    assert_every_output,
    assert_same,
    expect,
)


def test_every_output_matches_the_reference_end_to_end(shared_run: SharedRun) -> None:
    assert_every_output(shared_run.run, shared_run.got)


def test_a_clickhouse_crash_mid_stream_is_reported_and_loses_nothing(shared_run: SharedRun) -> None:
    down = shared_run.outage
    assert down.states == {"RUNNING"}, f"the job left RUNNING while ClickHouse was down for {OUTAGE_S} s"
    assert down.degraded is not None and "clickhouse" in down.degraded.failing, "the outage was not reported"
    assert down.hours_after >= down.hours_before  # crashed, not stopped: what it held is still there
    assert shared_run.after_outage == (shared_run.started[0], 0)  # the same job, never restarted
    assert_same(shared_run.got, shared_run.run.expected)  # what arrived meanwhile was written once back


def test_the_supervisor_restarts_a_killed_job_from_its_checkpoint(shared_run: SharedRun) -> None:
    supervisor, job = shared_run.supervisor, shared_run.job
    assert supervisor is not None and supervisor.restarts == 1, supervisor
    assert supervisor.history[0].restored_from and "/chk-" in supervisor.history[0].restored_from
    assert job.job_pid() not in (None, shared_run.killed) and job.state() == "RUNNING"
    assert "1 restart by the supervisor" in shared_run.status


def test_an_alert_open_before_the_kill_is_posted_once_whatever_the_replay(shared_run: SharedRun) -> None:
    """The first mall's occupancy alert (capacity one person) opened before the job's JVM
    was killed; evaluated again once the restarted job had replayed from its checkpoint and
    caught up, it raises nothing new: the receiver has one `opened` event for it, and no
    event twice (a resolution is the only other thing it may have had: the mall emptied)."""
    before, after = shared_run.alert_posts
    opened = [e for e in before if e["kind"] == "opened"]
    assert len(opened) == 1 and opened[0]["rule"] == "occupancy", before
    assert [e for e in after if e["kind"] == "opened"] == opened
    assert len({e["event_id"] for e in after}) == len(after)
    assert {e["kind"] for e in after} <= {"opened", "escalated", "resolved"}


def test_reports_from_the_future_are_turned_away_and_move_nothing(shared_run: SharedRun, scenario: Scenario) -> None:
    expected_input, expected, _ = scenario.reference()
    assert expected_input.rejects[("wifi-probes", "future")] == len(scenario.future)
    unstamped = [r for r in scenario.records if r not in scenario.future]
    assert expect(scenario.layout, unstamped, scenario.start, 1)[1] == expected  # the traffic counted in full

    run = shared_run.run
    future_letters = [json.loads(m.value) for m in read_topic(run.settings, run.settings.kafka.dead_letters_topic)
                      if json.loads(m.value)["reason"] == "future"]
    assert len(future_letters) == len(scenario.future)
    redis = clients.redis_client(run.settings.redis)
    for mall_id in run.mall_ids:  # "today" is the traffic's newest day, not next year's
        newest = max(k[1] for k in run.expected["mall_daily"] if k[0] == mall_id)
        assert redis.hget(f"ff:{mall_id}:today", "day") == newest


def test_a_probes_ten_minute_backlog_counts_for_visitors_hours_and_shops(shared_run: SharedRun,
                                                                        scenario: Scenario) -> None:
    held_back = scenario.held_back
    assert len(held_back) > 20
    uploaded_input, uploaded, _ = scenario.reference()
    late = [e for e in uploaded_input.probes if not e.on_time]
    assert len(late) >= len(held_back) // 2, "the backlog must arrive behind the watermark"
    in_order = expect(scenario.layout, [*scenario.future, *scenario.plain], scenario.start, 1)[0]
    assert uploaded_input.rejects.get(("wifi-probes", "late"), 0) == \
        in_order.rejects.get(("wifi-probes", "late"), 0)  # none of the backlog turned away
    lost = expect(scenario.layout, [r for r in scenario.records if r not in held_back], scenario.start, 1)[1]
    outputs = ("mall_daily", "mall_hourly", "shop_daily")
    for output in outputs:  # so the comparison below checks the backlog
        assert uploaded[output] != lost[output], output

    got, want = shared_run.got, shared_run.run.expected
    assert {o: got[o] for o in outputs} == {o: want[o] for o in outputs}


def test_malls_onboarded_as_their_reports_arrive_count_every_report(shared_run: SharedRun) -> None:
    # The shared run's malls went into PostgreSQL only after its job was running, and
    # their first reports straight after: none of their probes' reports, and none of their
    # door reports, may be turned away as unknown (the scenario's reports of probes no mall
    # has are, as the reference expects).
    run = shared_run.run
    probes = {p.ap_mac for m in run.layout.malls for p in m.probes}
    letters = [json.loads(m.value) for m in read_topic(run.settings, run.settings.kafka.dead_letters_topic)]
    unknown = [letter for letter in letters if letter["reason"] in ("unknown_probe", "unknown_mall")]
    ours = [letter for letter in unknown
            if letter["reason"] == "unknown_mall" or json.loads(letter["raw"]).get("ap_mac") in probes]
    assert ours == [], f"{len(ours)} reports of the new malls turned away, e.g. {ours[:2]}"
    assert len(unknown) == run.expected_input.rejects.get(("wifi-probes", "unknown_probe"), 0)
    assert_same(shared_run.got, run.expected)


#: Anything shaped like a MAC, separated or bare.
MAC_SHAPED = re.compile(r"(?<![0-9a-f])[0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5}(?![0-9a-f])")


def phone_macs(records) -> set[str]:  # type: ignore[no-untyped-def]
    """The phones' MACs of the run's input, as 12 hex digits: the keys of its wifi-probes
    messages and their device_mac fields, whatever their form (hostile ones included)."""
    found = set()
    for record in records:
        if record.topic != "wifi-probes":
            continue
        texts = [record.key.decode(errors="replace")] if record.key else []
        try:
            message = json.loads(record.value)
        except ValueError:
            message = None
        if isinstance(message, dict) and isinstance(message.get("device_mac"), str):
            texts.append(message["device_mac"])
        for text in texts:
            if MAC_SHAPED.fullmatch(text.lower()):
                found.add(re.sub(r"[:-]", "", text.lower()))
    return found


def test_no_raw_mac_of_the_input_is_in_a_dead_letter_or_a_log_line(shared_run: SharedRun) -> None:
    run = shared_run.run
    phones = phone_macs(run.records)
    assert len(phones) > 100
    letters = read_topic(run.settings, run.settings.kafka.dead_letters_topic)
    assert letters, "the scenario's bad input made dead letters"
    texts = [m.value.decode(errors="replace") for m in letters] + [m.key.decode() for m in letters if m.key]
    texts += shared_run.job.log.read_text(errors="replace").splitlines()
    leaked = {re.sub(r"[:-]", "", m) for text in texts for m in MAC_SHAPED.findall(text.lower())} & phones
    assert not leaked, f"raw MACs kept: {sorted(leaked)[:5]}"
    # ... and a dead letter says when it replaced one: the scenario's rejects of valid MACs.
    replaced = [json.loads(m.value) for m in letters if json.loads(m.value)["macs_replaced"]]
    assert replaced and all(len(json.loads(letter["raw"])["device_mac"]) == 16
                            for letter in replaced if letter["reason"] == "unknown_probe")
