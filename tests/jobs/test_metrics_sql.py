"""The metric SQL (04_presence.sql to 08_staff.sql) on bounded rows, against the plain-Python reference.

Each test's rows are a case (`CASES`); every case of the module runs through one plan
(harness.run_cases), under names of its own, and each test checks its own outputs."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.jobs.conftest import METRIC_MALLS
from tests.jobs.harness import Case, run_cases
from tests.jobs.reference import DEFAULTS, DoorEvent, Places, ProbeEvent, SaleEvent, metrics
from udfs.positioning import FloorPlan, Heard, locate

AMS = "Europe/Amsterdam"
TOKYO = "Asia/Tokyo"
MINUTE = 60_000


def ms(text: str, tz: str = AMS) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def probe(device: str, at: int, shop: str | None = "S1", rssi: int = -60, mall: str = "m1",
          tz: str = AMS, randomized: bool = False, event_id: str | None = None) -> ProbeEvent:
    """A report of the shop's own probe (METRIC_MALLS), or of a corridor probe for no shop."""
    return ProbeEvent(event_id or f"{device}-{at}-{shop}", mall, shop, f"Shop {shop}" if shop else None,
                      tz, rssi, at, device, randomized, f"{mall}-{shop or 'c1'}")


def stay(device: str, start: int, dwell_ms: int, shop: str | None = None, **where: Any) -> list[ProbeEvent]:
    """A device heard from `start` for `dwell_ms`, at most five minutes apart: one visit."""
    times = list(range(start, start + dwell_ms, 5 * MINUTE)) + [start + dwell_ms]
    return [probe(device, at, shop=shop, **where) for at in sorted(set(times))]


PROBE_XY = {ap: xy for _, probes in METRIC_MALLS.values() for ap, xy in probes.items()}
PLACES = Places(
    PROBE_XY,
    {mall_id: FloorPlan(shops, list(probes.values())) for mall_id, (shops, probes) in METRIC_MALLS.items()}.__getitem__,
    {(mall_id, code): f"Shop {code}" for mall_id, (shops, _) in METRIC_MALLS.items() for code, _ in shops},
)


#: Each test's rows, by the test's name (the minimum dwell's with the thresholds it sets).
CASES: dict[str, Case] = {}
SHORT_DWELL = replace(DEFAULTS, mall_min_dwell_ms=2 * MINUTE)
SHORT_DWELL_CASES: dict[str, Case] = {}


def case(probes: list[ProbeEvent], doors: list[DoorEvent] = (),  # type: ignore[assignment]
         cases: dict[str, Case] = CASES, rejects: list[dict] = (),  # type: ignore[assignment]
         sales: list[SaleEvent] = (), history: list[dict] = ()  # type: ignore[assignment]
         ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Registers a test's rows under its name, for its module's plan."""
    def register(test: Callable[..., None]) -> Callable[..., None]:
        cases[test.__name__] = Case(probes, doors, (), rejects, sales, history)
        return test
    return register


@pytest.fixture(scope="module")
def outputs(module_table_env, tmp_path_factory) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Every case's outputs, from one plan per set of thresholds."""
    return {
        **run_cases(module_table_env, tmp_path_factory.mktemp("cases"), CASES, DEFAULTS, PROBE_XY),
        **run_cases(module_table_env, tmp_path_factory.mktemp("short"), SHORT_DWELL_CASES, SHORT_DWELL, PROBE_XY),
    }


def check(outputs: dict[str, dict], request: pytest.FixtureRequest) -> dict[str, dict]:
    """The test's outputs, once they equal the reference's over its rows."""
    name = request.node.originalname
    rows, thresholds = (CASES[name], DEFAULTS) if name in CASES else (SHORT_DWELL_CASES[name], SHORT_DWELL)
    got = outputs[name]
    want = metrics(list(rows.probes), list(rows.doors), PLACES, thresholds, sales=rows.sales)
    for output, expected in want.items():
        assert got[output] == expected, output
    return got


T0 = ms("2026-11-20T10:00:00")
HOUR = 60 * MINUTE


@case([probe("d1", T0), probe("d1", T0 + 2 * MINUTE), probe("d1", T0 + 7 * MINUTE),  # gap 5:00 keeps
       probe("d1", T0 + 12 * MINUTE + 1000)])  # gap 5:01 splits
def test_visits_split_on_gaps_longer_than_five_minutes_and_shop_dwell_is_estimated(outputs, request):
    got = check(outputs, request)
    # A shop visit is a run of the seconds the device was placed in the shop; its dwell the
    # span and one mean gap: three seconds over 420 s are 630 s, one second 0. A mall
    # visit's dwell is last minus first time.
    assert got["favorite_shop_daily"][("m1", "2026-11-20", "d1")] == ("S1", "Shop S1", 2, 630)
    assert got["repeat_shops_daily"][("m1", "2026-11-20", "d1", "S1")] == ("Shop S1", 2)
    # Every visit, to the shop and to the mall, keyed by when it started (epoch seconds).
    second = (T0 + 12 * MINUTE + 1000) // 1000
    day = ("m1", "2026-11-20")
    assert got["visits"] == {
        (*day, "S1", "d1", T0 // 1000): ("Shop S1", 630), (*day, "S1", "d1", second): ("Shop S1", 0),
        (*day, "", "d1", T0 // 1000): ("", 420), (*day, "", "d1", second): ("", 0),
    }


# 23:30 and 00:30 in Amsterdam are two days; the same instants are one day in Tokyo.
LATE_EVENING, AFTER_MIDNIGHT = ms("2026-11-20T23:30:00"), ms("2026-11-21T00:30:00")


@case([*stay("d1", LATE_EVENING, 10 * MINUTE), *stay("d1", AFTER_MIDNIGHT, 10 * MINUTE),
       *stay("d2", LATE_EVENING, 10 * MINUTE, mall="m2", tz=TOKYO),
       *stay("d2", AFTER_MIDNIGHT, 10 * MINUTE, mall="m2", tz=TOKYO)],
      [DoorEvent("m1", AMS, 3, LATE_EVENING), DoorEvent("m1", AMS, 4, AFTER_MIDNIGHT)])
def test_days_and_hours_are_local_to_each_mall(outputs, request):
    got = check(outputs, request)
    # visitors, new, returning, randomised, door entries, devices seen, passers-by, staff
    assert got["mall_daily"][("m1", "2026-11-20")] == (1, 1, 0, 0, 3, 1, 0, 0)
    assert got["mall_daily"][("m1", "2026-11-21")] == (1, 0, 1, 0, 4, 1, 0, 0)  # returning the next day
    assert got["mall_daily"][("m2", "2026-11-21")] == (1, 1, 0, 0, 0, 1, 0, 0)  # 07:30 and 08:30 in Tokyo
    assert got["mall_hourly"][("m1", "2026-11-21", 0)] == (1, 4, 1, 0, 0)


@case([probe("r1", T0, randomized=True), probe("r1", T0 + MINUTE, randomized=True),
       probe("r2", T0, randomized=True), probe("d1", T0)])
def test_randomized_macs_count_only_as_randomized_devices(outputs, request):
    got = check(outputs, request)
    # d1, heard once, was seen and passed by; the randomised MACs count only as such.
    assert got["mall_daily"][("m1", "2026-11-20")] == (0, 0, 0, 2, 0, 1, 1, 0)
    # name, visitors (heard once: none), devices seen, walk-bys
    assert got["shop_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 0, 1, 1)


@case([probe("weak", T0, rssi=-86), probe("mall-only", T0, rssi=-80), probe("both", T0, rssi=-70)])
def test_thresholds_decide_mall_and_shop_qualification(outputs, request):
    got = check(outputs, request)
    assert got["mall_daily"][("m1", "2026-11-20")][5] == 2  # devices seen
    # Seen, and near: "both" is heard at the shop's threshold; "mall-only", heard by the
    # shop's probe alone, is placed in the shop. "weak" is under the mall's threshold.
    assert got["shop_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 0, 2, 2)


def ties() -> list[ProbeEvent]:
    events = []
    for i, shop in enumerate(["S7", "S3", "S5", "S1", "S9", "S2"]):  # one visitor each: a six-way tie
        events += [probe(f"t{i}", T0, shop=shop), probe(f"t{i}", T0 + 2 * MINUTE, shop=shop)]
    # Two hours with one visitor each (and more devices seen at 10): the earlier hour is the peak.
    # d9: two shops with one visit each and equal dwell (each a visitor too): the lower code
    # wins. (Three minutes in the mall: no mall visitor.)
    events += [probe("d9", T0 + 60 * MINUTE, shop="S8"), probe("d9", T0 + 61 * MINUTE, shop="S8"),
               probe("d9", T0 + 62 * MINUTE, shop="S4"), probe("d9", T0 + 63 * MINUTE, shop="S4")]
    return events + stay("early", T0, 10 * MINUTE) + stay("late", T0 + 60 * MINUTE, 10 * MINUTE)


@case(ties())
def test_ties_rank_by_shop_code_hour_and_dwell(outputs, request):
    got = check(outputs, request)
    assert [got["top_shops_daily"][("m1", "2026-11-20", r)][0] for r in range(1, 6)] == ["S1", "S2", "S3", "S4", "S5"]
    assert got["peak_hour_daily"][("m1", "2026-11-20")] == (10, 1)
    assert got["favorite_shop_daily"][("m1", "2026-11-20", "d9")][0] == "S4"


def random_day(seed: int) -> tuple[list[ProbeEvent], list[DoorEvent]]:
    rng = random.Random(seed)
    start = ms("2026-11-20T21:00:00")  # runs across local midnight
    shops = [f"S{i}" for i in range(1, 7)] + [None]
    events = []
    for d in range(40):
        device, randomized = f"dev{d:02d}", d % 9 == 0
        at = start + rng.randrange(0, 200) * MINUTE
        for _ in range(rng.randrange(1, 25)):
            at += rng.choice([10_000, 40_000, 2 * MINUTE, 5 * MINUTE, 6 * MINUTE, 20 * MINUTE])
            events.append(probe(device, at, shop=rng.choice(shops), rssi=rng.randrange(-95, -40),
                                randomized=randomized))
    events += rng.sample(events, len(events) // 10)  # duplicates: the same event_id again
    rng.shuffle(events)  # out of order (within the day the test tables' watermark allows)
    doors = [DoorEvent("m1", AMS, rng.randrange(0, 5), start + i * 5 * MINUTE, f"door-{i % 3}") for i in range(60)]
    rng.shuffle(doors)
    return events, doors


def rejected(ap_mac: str, at: int, reason: str = "unknown_probe", n: int = 0) -> dict:
    body = json.dumps({"event_id": f"x{n}", "ap_mac": ap_mac, "device_mac": "dev-1", "rssi": -60, "occur_time": at})
    return {"source_topic": "wifi-probes", "kafka_partition": 0, "kafka_offset": n, "body": body,
            "macs_replaced": 0, "reason": reason}


#: Reports of two probes not in the layout (one written in capitals with '-'), in no order,
#: and one of a known probe turned away for another reason.
UNKNOWN = [rejected("0E-EE-00-00-00-01", ms("2026-11-20T22:10:00"), n=1),
           rejected("0e:ee:00:00:00:01", ms("2026-11-20T21:05:00"), n=2),
           rejected("0e:ee:00:00:00:02", ms("2026-11-20T23:00:00"), n=3),
           rejected("m1-S1", ms("2026-11-21T01:00:00"), reason="rssi_out_of_range", n=4)]


@case(*random_day(1), rejects=UNKNOWN)
def test_a_random_day_with_duplicates_and_disorder_matches_the_reference(outputs, request):
    check(outputs, request)
    # Each probe's newest report, whatever the order they came in (the silent-probe alert's).
    newest: dict[tuple[str, str], int] = {}
    for event in CASES[request.node.originalname].probes:
        key = (event.mall_id, event.ap_mac)
        newest[key] = max(newest.get(key, 0), event.occur_ms)
    assert outputs[request.node.originalname]["probe_heard"] == newest
    # Each door counter's newest report likewise (door_silent); each probe's reports per
    # hour (probe_degraded) are in the reference's outputs.
    doors: dict[tuple[str, str], int] = {}
    for door in CASES[request.node.originalname].doors:
        doors[(door.mall_id, door.sensor_id)] = max(doors.get((door.mall_id, door.sensor_id), 0), door.occur_ms)
    assert outputs[request.node.originalname]["door_heard"] == doors
    # Reports of probes the layout lacks, per probe (unregistered_probe): newest, how many.
    assert outputs[request.node.originalname]["unknown_probes"] == {
        ("0e:ee:00:00:00:01",): (ms("2026-11-20T22:10:00"), 2), ("0e:ee:00:00:00:02",): (ms("2026-11-20T23:00:00"), 1)}


@case(*random_day(2))
def test_another_random_day_with_duplicates_and_disorder_matches_the_reference(outputs, request):
    check(outputs, request)


DWELLS = {"once": 0, "short": 5 * MINUTE - 1, "five": 5 * MINUTE, "twenty": 20 * MINUTE,
          "almost-hour": HOUR - 1, "hour": HOUR, "six-hours": 6 * HOUR}
NINE = ms("2026-11-20T09:00:00")


@case([e for device, dwell in DWELLS.items() for e in stay(device, NINE, dwell)]
      # Two shop visits of one device, with a gap of over five minutes between them.
      + stay("shopper", NINE, MINUTE, shop="S1") + stay("shopper", NINE + 30 * MINUTE, 20 * MINUTE, shop="S1"))
def test_engagement_buckets_take_each_bound_into_the_bucket_it_opens(outputs, request):
    got = check(outputs, request)
    # The shopper's two shop visits are two mall visits too (09:01 to 09:30 is a gap): nine
    # in all, bounced 0, 299.999 s and 60 s.
    assert got["mall_engagement_daily"][("m1", "2026-11-20")] == (9, 3, 1, 3, 1, 1)
    assert got["shop_engagement_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 2, 1, 0, 1, 0, 0)
    # A visit's dwell in whole seconds: 299.999 s is 299, still short of the 5-minute bucket.
    assert got["visits"][("m1", "2026-11-20", "", "short", NINE // 1000)] == ("", 299)


@case([
    *stay("exactly", T0, 5 * MINUTE),  # a dwell of exactly the minimum: a visitor
    *stay("short", T0, 5 * MINUTE - 1),  # one millisecond short: a passer-by
    # Two runs of 4 and 3 minutes, 5:00.001 apart: the dwell starts again, a passer-by.
    probe("split", T0), probe("split", T0 + 4 * MINUTE),
    probe("split", T0 + 9 * MINUTE + 1), probe("split", T0 + 12 * MINUTE + 1),
    # Heard at 10:56, 10:59 and 11:02: a visitor from 11:02 on, so of hour 11 and not 10.
    probe("late", T0 + 56 * MINUTE), probe("late", T0 + 59 * MINUTE), probe("late", T0 + 62 * MINUTE),
    # A passer-by yesterday, a visitor today: new today, as its first day as a visitor.
    probe("again", T0 - 20 * 60 * MINUTE), *stay("again", T0, 30 * MINUTE),
    # Weak reports (under the mall's threshold) neither make a device seen nor a visit.
    *stay("weak", T0, 30 * MINUTE, rssi=-90),
])
def test_a_device_is_a_visitor_from_the_moment_its_mall_visit_has_lasted_the_minimum_dwell(outputs, request):
    got = check(outputs, request)
    # visitors, new, returning, randomised, door entries, devices seen, passers-by, staff
    assert got["mall_daily"][("m1", "2026-11-20")] == (3, 3, 0, 0, 0, 5, 2, 0)
    assert got["mall_daily"][("m1", "2026-11-19")] == (0, 0, 0, 0, 0, 1, 1, 0)
    # visitors, door entries, devices seen, passers-by, staff
    assert got["mall_hourly"][("m1", "2026-11-20", 10)] == (2, 0, 5, 3, 0)
    assert got["mall_hourly"][("m1", "2026-11-20", 11)] == (1, 0, 1, 0, 0)


@case([*stay("a", T0, 2 * MINUTE), *stay("b", T0, MINUTE)], cases=SHORT_DWELL_CASES)
def test_the_minimum_dwell_is_a_setting(outputs, request):
    got = check(outputs, request)
    assert got["mall_daily"][("m1", "2026-11-20")] == (1, 1, 0, 0, 0, 2, 1, 0)


FRONT = (("S1", "Shop S1"), ("S2", "Shop S2"))  # a corridor probe between two shop fronts


def corridor(device: str, at: int, rssi: int = -65) -> ProbeEvent:
    return replace(probe(device, at, shop=None, rssi=rssi), ap_mac="m1-front", fronts=FRONT)


@case([
    # Two seconds a minute apart: an estimated two minutes (the span and one mean gap), a
    # visitor; 59 s apart, 1:58, a walk-by.
    probe("exactly", T0), probe("exactly", T0 + MINUTE),
    probe("short", T0), probe("short", T0 + MINUTE - 1000),
    # The shop's probe under the shop's threshold, and a corridor probe loud: placed in
    # the corridor, not near.
    probe("outside", T0, rssi=-80), probe("outside", T0, shop=None, rssi=-50),
    corridor("passing", T0), corridor("passing", T0 + MINUTE),  # close past both fronts
    corridor("faint", T0, rssi=-75),  # heard at the front, but not from a few metres: not near
    # In at 10:59, a visitor from 11:01: of hour 11 only, a walk-by of hour 10.
    probe("late", T0 + 59 * MINUTE), probe("late", T0 + 61 * MINUTE),
])
def test_shop_visitors_stay_the_shops_minimum_dwell_and_walk_bys_are_heard_near_its_front(outputs, request):
    got = check(outputs, request)
    # name, visitors, devices seen, walk-bys
    assert got["shop_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 2, 3, 2)
    assert got["shop_daily"][("m1", "2026-11-20", "S2")] == ("Shop S2", 0, 0, 1)
    # name, visitors, walk-bys
    assert got["shop_hourly"][("m1", "2026-11-20", 10, "S1")] == ("Shop S1", 1, 3)
    assert got["shop_hourly"][("m1", "2026-11-20", 11, "S1")] == ("Shop S1", 1, 0)
    assert [got["top_shops_daily"][("m1", "2026-11-20", r)][0] for r in (1, 2)] == ["S1", "S2"]


def heard(device: str, day: int, dwell_ms: int) -> list[ProbeEvent]:
    return stay(device, ms(f"2026-11-{day:02d}T09:00:00"), dwell_ms)


OVER, EXACTLY = 4 * HOUR + 1000, 4 * HOUR  # more than four hours qualifies; four do not


@case(sorted([
    # Days 1, 3 and 7: day 1 is the last day of the seven that end on day 7. Staff from 8.
    *(e for day in (1, 3, 7) for e in heard("edge", day, OVER)),
    # Days 1, 3 and 8: day 1 is out of the seven that end on day 8. Not staff.
    *(e for day in (1, 3, 8) for e in heard("outside", day, OVER)),
    # Exactly four hours on three days in a row: never more than the staff hours.
    *(e for day in (1, 2, 3) for e in heard("four-hours", day, EXACTLY)),
    # Two visits on day 2 that make more than four hours together (the second visit
    # is of the same day), and days 1 and 4: met on day 4.
    *heard("split", 1, OVER), *heard("split", 2, 2 * HOUR),
    *stay("split", ms("2026-11-02T14:00:00"), 2 * HOUR + 1000),
    *heard("split", 4, OVER),
], key=lambda e: e.occur_ms))  # in time order: they span eight days
def test_a_device_heard_over_the_staff_hours_on_three_days_of_seven_is_staff_from_the_next_day(outputs, request):
    got = check(outputs, request)
    assert got["staff_detected"] == {
        ("m1", "edge"): ("2026-11-07", "2026-11-08"),
        ("m1", "split"): ("2026-11-04", "2026-11-05"),
    }


@case([
    # A member of staff in their shop all morning, and passing another shop's front.
    *(replace(e, staff=True) for e in stay("staff", T0, 3 * 60 * MINUTE, shop="S1")),
    replace(probe("staff", T0 + 10, shop=None, rssi=-60), ap_mac="m1-front", fronts=(("S2", "Shop S2"),), staff=True),
    # A shopper, and a device heard once: a visitor and a passer-by.
    *stay("shopper", T0, 30 * MINUTE, shop="S1"),
    probe("once", T0, shop=None),
])
def test_staff_are_counted_on_their_own_and_left_out_of_every_visitor_metric(outputs, request):
    got = check(outputs, request)
    # visitors, new, returning, randomised, door entries, devices seen, passers-by, staff
    assert got["mall_daily"][("m1", "2026-11-20")] == (1, 1, 0, 0, 0, 3, 1, 1)
    assert got["mall_hourly"][("m1", "2026-11-20", 10)] == (1, 0, 3, 1, 1)
    # A shop's devices seen keeps its first meaning (any device heard at it); staff are
    # neither its visitors nor walk-bys, and make no visit.
    assert got["shop_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 1, 2, 0)
    assert ("m1", "2026-11-20", "S2") not in got["shop_daily"]
    assert {key[3] for key in got["visits"]} == {"shopper", "once"}
    assert got["staff_detected"] == {}


def test_a_lone_probe_places_a_device_in_its_own_place():
    # What the metric tests' plan promises (conftest.metric_test_mall): one probe alone
    # places a device in its shop, or the corridor, at any level the mall counts.
    for mall_id, (shops, probes) in METRIC_MALLS.items():
        plan = FloorPlan(shops, list(probes.values()))
        for ap, xy in probes.items():
            place = ap.removeprefix(f"{mall_id}-")
            want = place if place.startswith("S") else "corridor"
            for rssi in range(DEFAULTS.mall_min_rssi + 1, -39):
                assert locate(plan, [Heard(*xy, rssi)], DEFAULTS.mall_min_rssi)[2] == want, (ap, rssi)


@case([*stay("d1", ms("2026-11-25T10:00:00"), 10 * MINUTE), *stay("d2", ms("2026-11-25T11:00:00"), 10 * MINUTE)],
      history=[{"mall_id": "m1", "device_id": "d1", "day": "2026-11-01"},
               {"mall_id": "m2", "device_id": "d2", "day": "2026-11-02"}])
def test_a_visitor_of_an_earlier_day_in_the_history_a_restatement_is_given_is_returning(outputs, request):
    # The history stands in for the live job's state of earlier days (visitor_history,
    # 01_sources.sql): d1 was a visitor of this mall before, d2 only of another.
    # visitors, new, returning, randomised, door entries, devices seen, passers-by, staff
    assert outputs[request.node.originalname]["mall_daily"][("m1", "2026-11-25")] == (2, 1, 1, 0, 0, 2, 0, 0)


# In S2, next to S1: loud at S2's probe, and over S1's threshold at S1's through the wall.
@case([e for minute in range(0, 6, 2)
       for e in (probe("d1", T0 + minute * MINUTE, shop="S2", rssi=-48),
                 probe("d1", T0 + minute * MINUTE + 300, shop="S1", rssi=-68))])
def test_a_shop_visit_is_of_the_seconds_a_device_is_placed_in_the_shop(outputs, request):
    got = check(outputs, request)
    # name, visitors, devices seen, walk-bys: heard at S1's threshold, S1 saw it and it was
    # near; it visited S2.
    assert got["shop_daily"][("m1", "2026-11-20", "S2")] == ("Shop S2", 1, 1, 0)
    assert got["shop_daily"][("m1", "2026-11-20", "S1")] == ("Shop S1", 0, 1, 1)
    assert {key[2] for key in got["visits"]} == {"S2", ""}


def sale(transaction_id: str, at: int, amount_minor: int, items: int, shop: str = "S1", mall: str = "m1",
         tz: str = AMS) -> SaleEvent:
    return SaleEvent(transaction_id, mall, shop, f"Shop {shop}", tz, at, amount_minor, "EUR", items)


@case([], sales=[
    sale("t1", T0 + 5 * MINUTE, 1250, 2), sale("t2", T0 + 20 * MINUTE, 3000, 1),
    sale("t1", T0 + 5 * MINUTE, 1250, 2),  # sent again: counts once
    sale("t3", T0 + 40 * MINUTE, -500, 1),  # a refund
    sale("t4", T0 + HOUR + MINUTE, 725, 3, shop="S2"),
    sale("t5", ms("2026-11-20T23:59:30"), 990, 1),  # the local day's last minute
])
def test_sales_count_each_transaction_once_and_take_refunds_off_the_net(outputs, request):
    got = check(outputs, request)
    day = "2026-11-20"
    # Worked out by hand: S1 at 10:00 sold t1 (12.50, 2 items) and t2 (30.00, 1 item) and
    # gave 5.00 back (t3); net 37.50.
    assert got["sales_hourly"] == {
        ("m1", day, 10, "S1"): ("Shop S1", "EUR", 2, 3, 1, 500, 3750),
        ("m1", day, 11, "S2"): ("Shop S2", "EUR", 1, 3, 0, 0, 725),
        ("m1", day, 23, "S1"): ("Shop S1", "EUR", 1, 1, 0, 0, 990),
    }
    assert got["sales_daily"] == {
        ("m1", day, "S1"): ("Shop S1", "EUR", 3, 4, 1, 500, 4740),
        ("m1", day, "S2"): ("Shop S2", "EUR", 1, 3, 0, 0, 725),
    }
