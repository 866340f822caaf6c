"""The event source against the input contracts of docs/design.md §3, with faults on and off."""

from __future__ import annotations

import collections
import json
import math
import re
from datetime import datetime

import pytest

from simulators.faults import Faults
from simulators.layout import default_layout
from simulators.shoppers import Behaviour
from simulators.truth import TruthFile

MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
PROBES = {p.ap_mac for m in default_layout(2).malls for p in m.probes}


def probe_problem(raw: bytes) -> str | None:
    """Why a wifi-probes message breaks the contract, or None. Written from §3, not the code."""
    try:
        event = json.loads(raw)
    except ValueError:
        return "not_json"
    fields = {"event_id": str, "ap_mac": str, "device_mac": str, "rssi": int, "occur_time": int}
    for name, kind in fields.items():
        if name not in event:
            return "missing_field"
        if not isinstance(event[name], kind) or isinstance(event[name], bool):
            return "wrong_type"
    if not -120 <= event["rssi"] <= 0:
        return "rssi_out_of_range"
    if event["ap_mac"] not in PROBES:
        return "unknown_probe"
    if not MAC.match(event["device_mac"]):
        return "bad_mac"
    return None


def door_problem(raw: bytes) -> str | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return "not_json"
    fields = {"sensor_id": str, "mall_id": str, "entrance": str, "occur_time": int, "in_count": int, "out_count": int}
    for name, kind in fields.items():
        if name not in event:
            return "missing_field"
        if not isinstance(event[name], kind):
            return "wrong_type"
    if event["in_count"] < 0 or event["out_count"] < 0:
        return "negative_count"
    return None


def pos_problem(raw: bytes) -> str | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return "not_json"
    fields = {"transaction_id": str, "mall_id": str, "shop_code": str, "occur_time": int, "amount_minor": int,
              "currency": str, "items": int}
    for name, kind in fields.items():
        if name not in event:
            return "missing_field"
        if not isinstance(event[name], kind):
            return "wrong_type"
    if event["amount_minor"] == 0 or event["items"] < 0 or not re.fullmatch("[A-Z]{3}", event["currency"]):
        return "out_of_range"
    return None


CHECKS = {"wifi-probes": probe_problem, "door-sensors": door_problem, "pos-transactions": pos_problem}


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not(simulate) -> None:
    faults = Faults(duplicate_rate=0.05, late_rate=0.02, malformed_rate=0.02, skewed_probe_share=0.2)
    first, again, other = (
        simulate(seed=11, faults=faults),
        simulate(seed=11, faults=faults),
        simulate(seed=12, faults=faults),
    )
    assert len(first) > 10_000
    assert first == again
    assert [r.value for r in first[:2000]] != [r.value for r in other[:2000]]


def test_without_faults_every_record_matches_the_input_contract(simulate) -> None:
    records = simulate(malls=2)
    topics = collections.Counter(r.topic for r in records)
    assert topics["wifi-probes"] > 10_000 and topics["door-sensors"] > 50 and topics["pos-transactions"] > 30
    for record in records:
        assert CHECKS[record.topic](record.value) is None, record.value
        if record.topic == "wifi-probes":
            event = json.loads(record.value)
            assert record.key == event["device_mac"].encode()  # key = device MAC
    ids = [json.loads(r.value)["event_id"] for r in records if r.topic == "wifi-probes"]
    assert len(ids) == len(set(ids))
    sales = [json.loads(r.value)["transaction_id"] for r in records if r.topic == "pos-transactions"]
    assert len(sales) == len(set(sales))


def test_faulty_records_break_the_contract_exactly_when_meant_to(simulate) -> None:
    records = simulate(faults=Faults(malformed_rate=0.05, duplicate_rate=0.05, out_of_order_rate=0.05, late_rate=0.05))
    for record in records:
        problem = CHECKS[record.topic](record.value)
        if record.kind.startswith("malformed:"):
            assert problem == record.kind.split(":")[1], (record.kind, record.value)
        else:
            assert problem is None, (record.kind, record.value)


@pytest.mark.parametrize("fault", ["duplicate", "out_of_order", "late", "malformed"])
def test_each_fault_rate_matches_its_setting(simulate, fault) -> None:
    rate = 0.04
    records = simulate(faults=Faults(**{f"{fault}_rate": rate}))
    originals = sum(1 for r in records if r.kind != "duplicate" and r.topic == "wifi-probes")
    faulted = sum(1 for r in records if r.kind.split(":")[0] == fault and r.topic == "wifi-probes")
    assert originals > 20_000
    # Binomial: 5 standard deviations either side.
    sigma = (originals * rate * (1 - rate)) ** 0.5
    assert abs(faulted - originals * rate) < 5 * sigma, (faulted, originals * rate)


def test_late_and_out_of_order_records_arrive_after_later_events(simulate) -> None:
    records = simulate(faults=Faults(out_of_order_rate=0.05, late_rate=0.02))
    times = [r.time for r in records]
    assert times == sorted(times)  # delivery order
    occur = [json.loads(r.value)["occur_time"] for r in records if r.topic == "wifi-probes"]
    inversions = sum(1 for a, b in zip(occur, occur[1:]) if b < a - 60_000)
    assert inversions > 50  # some arrive more than a minute behind what came before
    for record in records:
        if record.kind == "late":
            assert record.time * 1000 - json.loads(record.value)["occur_time"] >= 5 * 60 * 1000 - 1


def test_duplicates_repeat_an_earlier_event_id(simulate) -> None:
    records = simulate(faults=Faults(duplicate_rate=0.05))
    seen = set()
    for record in records:
        if record.topic != "wifi-probes":
            continue
        event_id = json.loads(record.value)["event_id"]
        assert (event_id in seen) == (record.kind == "duplicate")
        seen.add(event_id)


def test_skewed_probe_clocks_shift_their_event_times(simulate) -> None:
    records = simulate(faults=Faults(skewed_probe_share=0.5, max_skew_seconds=30))
    offsets = collections.defaultdict(set)
    for record in records:
        if record.topic == "wifi-probes":
            event = json.loads(record.value)
            offsets[event["ap_mac"]].add(event["occur_time"] / 1000 - record.time)
    assert all(max(o) - min(o) < 0.002 for o in offsets.values())  # one fixed offset per probe (ms precision)
    per_probe = {mac: min(o) for mac, o in offsets.items()}
    skewed = [mac for mac, offset in per_probe.items() if abs(offset) > 0.01]
    assert 0.3 < len(skewed) / len(per_probe) < 0.7
    assert max(abs(per_probe[m]) for m in skewed) <= 30


def test_randomised_macs_are_locally_administered_and_rotate(simulate) -> None:
    records = simulate(hours=1.0, behaviour=Behaviour(visitors_per_day=3000, randomized_share=0.5))
    macs = {json.loads(r.value)["device_mac"].lower().replace("-", ":") for r in records if r.topic == "wifi-probes"}
    randomised = {m for m in macs if int(m[:2], 16) & 0x02}
    assert 0.3 < len(randomised) / len(macs) < 0.9  # rotation adds MACs on top of the 50 %
    assert all(not int(m[:2], 16) & 0x01 for m in macs)  # all unicast


def test_visitors_come_back_on_later_days(simulate) -> None:
    behaviour = Behaviour(
        visitors_per_day=400, return_share=0.4, randomized_share=0.0, phoneless_share=0.0, staff_per_mall=0,
        street_passers_per_visitor=0.0,  # new people every day: they would dilute the returning share
    )
    records = simulate(hours=48, start="2026-11-19T00:00", behaviour=behaviour)
    zone = default_layout().malls[0].zone
    by_day = collections.defaultdict(set)
    for record in records:
        if record.topic == "wifi-probes":
            event = json.loads(record.value)
            day = datetime.fromtimestamp(event["occur_time"] / 1000, zone).date()
            by_day[day].add(event["device_mac"])
    first, second = sorted(by_day)
    returning = len(by_day[first] & by_day[second]) / len(by_day[second])
    assert 0.3 < returning < 0.5


def test_door_counters_count_everyone_including_phoneless_visitors(simulate) -> None:
    behaviour = Behaviour(visitors_per_day=800, phoneless_share=0.3, staff_per_mall=0, door_error=0.0)
    records = simulate(hours=24, start="2026-11-20T00:00", behaviour=behaviour)
    doors = [json.loads(r.value) for r in records if r.topic == "door-sensors"]
    entries = sum(d["in_count"] for d in doors)
    exits = sum(d["out_count"] for d in doors)
    assert entries == exits  # everybody who came in went out by midnight (counters without error)
    phones = {json.loads(r.value)["device_mac"] for r in records if r.topic == "wifi-probes"}
    assert entries > len(phones) * 0.6  # phoneless visitors only show at the doors
    hours = collections.Counter(
        datetime.fromtimestamp(d["occur_time"] / 1000, default_layout().malls[0].zone).hour
        for d in doors
        if d["in_count"]
    )
    assert hours[12] + hours[18] > hours[9] + hours[10]  # lunch and evening peaks beat the morning



def test_street_passers_by_are_heard_only_near_an_entrance_and_never_come_in(simulate, tmp_path) -> None:
    mall = default_layout().malls[0]
    path = tmp_path / "truth.jsonl"
    behaviour = Behaviour(visitors_per_day=3000, street_passers_per_visitor=1.0, randomized_share=0.0)
    records = simulate(hours=0.5, behaviour=behaviour, truth=TruthFile(path, 900))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    passers = [r for r in rows if r["type"] == "passer"]
    people = {r["person"] for r in rows if r["type"] == "trip"}
    assert len(passers) > 50 and not people & {p["person"] for p in passers}
    (summary,) = [r for r in rows if r["type"] == "summary"]
    assert summary["street_passers"] == sum(1 for p in passers if not p["phoneless"])
    passer_macs = {mac for p in passers for mac in p["macs"]}
    probes = {p.ap_mac: p for p in mall.probes}
    heard = [json.loads(r.value) for r in records if r.topic == "wifi-probes"]
    # Heard loud enough to qualify for the mall mostly by probes near an entrance (they walk
    # 6 m outside one, 40 m either side of it).
    loud = [probes[e["ap_mac"]] for e in heard if e["device_mac"] in passer_macs and e["rssi"] >= -85]
    close = [p for p in loud if min(math.hypot(p.x - e.x, p.y - e.y) for e in mall.entrances) < 50]
    assert loud and len(close) >= 0.85 * len(loud)
    # Walk-bys of the truth: stable phones that passed a shop's door and did not go in.
    assert summary["shop_walk_bys"] and set(summary["shop_walk_bys"]) <= {s.shop_code for s in mall.shops}
