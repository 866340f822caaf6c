"""The end-to-end harness: one simulated scenario and its plain-Python reference, built
once per pytest run, and runs of it, each under names of its own (malls, probe MACs,
topics, consumer group, REST port, checkpoints), so that several jobs can share the
stores and every run's outputs are its own. Assertions that every output (ClickHouse,
Redis, the favourite-shop feed, dead letters, positions) equals the reference.

The scenario is deterministic: a fixed seed, a fixed day and fixed malls; a failure
comes back with the same events. The fixtures are registered for every test by
tests/conftest.py."""

from __future__ import annotations

import heapq
import hmac
import json
import os
import signal
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from footfall import alerts, clients, webhooks
from footfall.flink import JobHealth
from footfall.outputs import COLUMNS, DEAD_LETTER_COUNTS, INGEST_COUNTS
from footfall.schema import postgres_schema
from footfall.settings import KafkaSettings, Settings
from footfall.supervision import SupervisorState
from ops import manager
from ops.bootstrap import kafka_topics
from ops.cluster import ClusterMetricsJob
from ops.job import FlinkJob, MetricsJob
from ops.services import all_services
from simulators.dimensions import load_layout, remove_malls
from simulators.faults import Faults
from simulators.layout import Layout, Mall, standalone_mall
from simulators.publish import KafkaSink, publish
from simulators.records import Record, probe_record
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig
from tests.helpers import footfall, free_port, read_topic
from tests.jobs import reference
from tests.jobs.harness import from_clickhouse, renamed, visit_views_from_clickhouse
from tests.jobs.reference import (
    Expected,
    Limits,
    Places,
    Positions,
    from_records,
    metrics,
    positions,
    visit_views,
    with_staff,
)
from udfs.positioning import FloorPlan

SALT = "end-to-end-test-salt"
WATERMARK_DELAY_S = 120
POSITION_DELAY_S = 2
POSITION_TTL_S = 300
FAULTS = Faults(duplicate_rate=0.02, out_of_order_rate=0.02, late_rate=0.005, malformed_rate=0.01)

#: The scenario's seed and day: fixed, so that a failure fails again. The day is in the
#: past (the job turns away reports stamped ahead of its clock) and far from a change of
#: clocks in either mall's zone.
SEED = 4242
DAY = date(2023, 3, 15)
#: The built-in malls whose plans the scenario uses: Amsterdam and Tokyo, so that the
#: malls' local days differ.
BASE_MALLS = (60, 62)
#: Runs take probe MACs of their own from this index on (two per run; at most 255).
FIRST_RUN_INDEX = 100


def base_mall(n: int) -> Mall:
    return standalone_mall(BASE_MALLS[n], f"e2e-{n}-scenario")


# Staff and fixed devices of the first mall (docs/design.md §4 item 14), on MACs the
# simulator does not hand out: one the job must detect (heard 4.5 hours a day on the three
# days that end three days before the scenario's), and three heard in a shop through the
# scenario: one PostgreSQL holds as detected staff from the scenario's day, one detected
# but overridden as a visitor, and one an operator made staff for every day.
FIXED_MAC = "a4:5e:60:00:00:0f"
DETECTED_MAC, KEPT_MAC, OVERRIDDEN_MAC = "a4:5e:60:00:00:01", "a4:5e:60:00:00:02", "a4:5e:60:00:00:03"


def fixed_device(layout: Layout, start: float) -> list[Record]:
    probe = layout.malls[0].probes[-1]
    return [
        probe_record(f"fixed-{layout.malls[0].mall_id}-{days}-{m}", probe.ap_mac, FIXED_MAC, -60,
                     int((at := start - days * 86400 - 3600 + m * 60) * 1000), at)
        for days in (5, 4, 3) for m in range(271)
    ]


def staff_devices(layout: Layout, seed: int, start: float) -> list[Record]:
    mall = layout.malls[0]
    probe = next(p for p in mall.probes if p.shop_code)
    return sorted((
        probe_record(f"staff-{mall.mall_id}-{seed}-{mac}-{m}", probe.ap_mac, mac, -55,
                     int((start + 60 * m) * 1000), start + 60 * m)
        for mac in (DETECTED_MAC, KEPT_MAC, OVERRIDDEN_MAC) for m in range(90)
    ), key=lambda r: r.time)


def staff_rows(layout: Layout, start: float) -> dict[str, list[tuple]]:
    mall_id, day, now = layout.malls[0].mall_id, scenario_day(layout, start), datetime.now()
    before = day - timedelta(days=1)
    device = partial(reference.device_id, SALT)
    return {
        "staff_detected": [(mall_id, device(mac), before, day) for mac in (DETECTED_MAC, KEPT_MAC)],
        "staff_overrides": [(mall_id, device(KEPT_MAC), False, None, "a shopper", now),
                            (mall_id, device(OVERRIDDEN_MAC), True, None, "a kiosk", now)],
    }


def scenario_day(layout: Layout, start: float) -> date:
    return datetime.fromtimestamp(start, ZoneInfo(layout.malls[0].tz)).date()


def staff_map(layout: Layout, start: float) -> dict[tuple[str, str], str | None]:
    """What the ingestion makes of staff_rows: (mall, device) -> staff from (None: always)."""
    rows = staff_rows(layout, start)
    staff: dict[tuple[str, str], str | None] = {
        (mall, device): since.isoformat() for mall, device, _, since in rows["staff_detected"]}
    for mall, device, is_staff, since, *_ in rows["staff_overrides"]:
        if is_staff:
            staff[(mall, device)] = since
        else:
            staff.pop((mall, device), None)
    return staff


def occur(record: Record) -> int | None:
    """A probe report's event time, if it has a readable one."""
    try:
        value = json.loads(record.value)["occur_time"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) else None


def future_reports(layout: Layout, seed: int, now: float, years: int = 1) -> list[Record]:
    """One report a year ahead per partition (several keys, so every partition gets one),
    from a real probe of the first mall, as a probe with a broken clock would send."""
    probe = layout.malls[0].probes[0]
    ahead = int((now + years * 365 * 86400) * 1000)
    return [probe_record(f"future-{seed}-{n}", probe.ap_mac, f"00:16:3e:00:00:{n:02x}", -50, ahead, 0)
            for n in range(8)]


def backlog(records: list[Record], layout: Layout, seed: int, minutes: int = 10, at: float = 0.5,
            probe: str | None = None) -> tuple[list[Record], list[Record]]:
    """`records` with one shop probe (`probe`, or the busiest of that time) offline for
    `minutes` from the `at` fraction of their reports on: its reports of that time held
    back and uploaded after the others of that time, as it reconnects. Returns (records in
    publishing order, the backlog)."""
    times = sorted(t for r in records if r.topic == "wifi-probes" and (t := occur(r)) is not None)
    start = times[int(len(times) * at)]
    end = start + minutes * 60_000
    # The busiest shop probe of that time, so that the backlog is big whatever the seed.
    shop_probes = {p.ap_mac for m in layout.malls for p in m.probes if p.shop_code}
    heard = Counter(mac for r in records if r.topic == "wifi-probes" and start <= (occur(r) or -1) < end
                    and (mac := json.loads(r.value).get("ap_mac")) in shop_probes)
    shop_probe = probe or heard.most_common(1)[0][0]

    def held(record: Record) -> bool:
        at = occur(record)
        return (record.topic == "wifi-probes" and at is not None and start <= at < end
                and json.loads(record.value).get("ap_mac") == shop_probe)

    # A shopper only that probe heard in that time, so the backlog alone decides whether
    # they count (for the mall, its hours and the shop).
    alone = [probe_record(f"backlog-{seed}-{minutes}-{n}", shop_probe, f"00:16:3e:aa:{minutes % 256:02x}:01", -55,
                          start + n * 60_000, (start + n * 60_000) / 1000) for n in range(minutes)]
    held_back = [r for r in records if held(r)] + alone
    rest = [r for r in records if not held(r)]
    back_online = next(i for i, r in enumerate(rest) if r.topic == "wifi-probes" and (occur(r) or 0) >= end)
    return rest[:back_online] + held_back + rest[back_online:], held_back


def partition_of(partitions: int, record: Record) -> int:
    """The partition a run sends a record to: by a digest of its key (0 without one), the
    same every time, so the reference knows it."""
    return zlib.crc32(record.key) % partitions if record.key else 0


def expect(layout: Layout, records: list[Record], start: float, partitions: int,
           limits: Limits | None = None) -> tuple[Expected, dict[str, dict], Positions]:
    """What the job must make of `records`, published in this order (each to the partition
    `partition_of` names), under the time rules `limits` (the live job's by default): the
    split of the input, every output, and the positions."""
    limits = limits or Limits(watermark_delay_ms=WATERMARK_DELAY_S * 1000)
    expected_input = from_records(records, layout, SALT, limits, partition_of=partial(partition_of, partitions))
    expected_input.probes = with_staff(expected_input.probes, staff_map(layout, start))
    probe_xy = {p.ap_mac: (p.x, p.y) for m in layout.malls for p in m.probes}
    # The floor plans from the simulator's layout, not from PostgreSQL as the job reads them.
    plans = {m.mall_id: FloorPlan([(s.shop_code, s.polygon) for s in m.shops], [(p.x, p.y) for p in m.probes])
             for m in layout.malls}
    names = {(m.mall_id, s.shop_code): s.shop_name for m in layout.malls for s in m.shops}
    expected = metrics(expected_input.probes, expected_input.doors, Places(probe_xy, plans.__getitem__, names),
                       sales=expected_input.sales)
    expected_positions = positions(expected_input.probes, probe_xy, plans.__getitem__, POSITION_DELAY_S * 1000,
                                   expected_input.probe_newest_before)
    return expected_input, expected, expected_positions


@dataclass
class Scenario:
    """Ninety busy minutes of two malls in different zones on DAY, with every kind of
    fault, staff and a fixed device (`plain`); as published (`records`): a shop probe's
    ten-minute backlog uploaded after the others of its time, and reports stamped a year
    ahead in front. Events on the next day of the second mall take the watermark past the
    end of the last visits, and leave the first mall's live day the scenario's. Under the
    scenario's own names: a run renames it (`Runs.new`)."""

    layout: Layout
    config: SimulationConfig
    plain: list[Record]
    records: list[Record]
    future: list[Record]
    held_back: list[Record]
    _references: dict[int, tuple[Expected, dict[str, dict], Positions]] = field(default_factory=dict)

    @property
    def start(self) -> float:
        return self.config.start

    def reference(self, partitions: int = 1) -> tuple[Expected, dict[str, dict], Positions]:
        """What the job must make of the records as published on `partitions` partitions;
        computed once."""
        if partitions not in self._references:
            self._references[partitions] = expect(self.layout, self.records, self.start, partitions)
        return self._references[partitions]


def build_scenario() -> Scenario:
    layout = Layout((base_mall(0), base_mall(1)))
    start = datetime.combine(DAY, datetime.min.time().replace(hour=11), ZoneInfo(layout.malls[0].tz)).timestamp()
    config = SimulationConfig(
        start=start, end=start + 5400, seed=SEED,
        behaviour=Behaviour(visitors_per_day=600, staff_per_mall=3), faults=FAULTS,
    )
    plain = [*fixed_device(layout, start), *heapq.merge(
        Simulation(layout, config).records(), staff_devices(layout, config.seed, start), key=lambda r: r.time)]
    closing = layout.malls[1]
    probe = closing.probes[-1]  # a corridor probe; a randomised MAC counts only as such
    for n in range(8):  # several keys, so that every partition's watermark moves on
        plain.append(probe_record(f"closing-{closing.mall_id}-{config.seed}-{n}", probe.ap_mac,
                                  f"06:00:00:00:00:{n:02x}", -50, int((start + 86400) * 1000), start + 86400))
    uploaded, held_back = backlog(plain, layout, config.seed)
    future = future_reports(layout, config.seed, time.time())
    return Scenario(layout, config, plain, [*future, *uploaded], future, held_back)


def own_mall(mall: Mall, mall_id: str, index: int) -> Mall:
    """`mall` under another id, with probe MACs of `index` and entrance sensors of its own."""
    probes = tuple(replace(p, ap_mac=f"{p.ap_mac[:6]}{index:02x}{p.ap_mac[8:]}") for p in mall.probes)
    entrances = tuple(replace(e, sensor_id=e.sensor_id.replace(mall.mall_id, mall_id)) for e in mall.entrances)
    return replace(mall, mall_id=mall_id, probes=probes, entrances=entrances)


@dataclass
class Run:
    """The scenario under names of its own (malls, probe MACs, topics, group, REST port,
    checkpoints), and what it must produce."""

    env: dict[str, str]
    settings: Settings
    layout: Layout
    config: SimulationConfig
    records: list[Record]
    expected_input: Expected
    expected: dict[str, dict]
    expected_positions: Positions

    @property
    def mall_ids(self) -> set[str]:
        return {m.mall_id for m in self.layout.malls}

    @contextmanager
    def environment(self) -> Iterator[None]:
        """This run's settings in our environment, for what we start (the job, its
        supervisor, the dashboards), which reads its settings from there."""
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def load_layout(self) -> None:
        """The run's malls, probes and staff into PostgreSQL, as an operator onboards a mall."""
        load_layout(self.layout, self.settings.postgres)
        with clients.postgres(self.settings.postgres) as conn:
            for table, rows in staff_rows(self.layout, self.config.start).items():
                for row in rows:
                    conn.execute(f"INSERT INTO {self.settings.postgres.schema_name}.{table} VALUES "
                                 f"({', '.join(['%s'] * len(row))}) ON CONFLICT DO NOTHING", row)

    def publish(self, records: list[Record]) -> None:
        partitions = self.settings.kafka.partitions
        publish(records, KafkaSink(self.settings.kafka, partition_of=partial(partition_of, partitions)))


class Runs:
    """Makes runs of the scenario, each under names of its own, on the session's stack;
    takes their malls out of PostgreSQL at the end."""

    def __init__(self, stack: Settings, scenario: Scenario, home: Path) -> None:
        self.stack, self.scenario, self.home = stack, scenario, home
        self.made: list[str] = []
        self.count = 0

    def new(self, label: str, partitions: int = 1, load: bool = True, records: list[Record] | None = None,
            **environment: str) -> Run:
        """A run of the scenario, or of `records` (made from the scenario's, under its
        names) in its place; with `load` False, its malls go into PostgreSQL only when
        the returned run's `load_layout` is called (a mall onboarded while the job runs)."""
        index = FIRST_RUN_INDEX + 2 * self.count
        self.count += 1
        assert index + 1 <= 0xFF, "too many runs for the probe MACs of their own"
        tag = f"{label}-{os.urandom(3).hex()}"  # unique to this pytest run too: the stores outlive it
        folder = self.home / tag
        env = {
            "FOOTFALL_VAR_DIR": str(folder / "var"),
            "FOOTFALL_SALT": SALT,
            "FOOTFALL_JOB_REST_PORT": str(free_port()),
            "FOOTFALL_DASHBOARD_PORT": str(free_port()),
            "FOOTFALL_JOB_CHECKPOINT_DIR": str(folder / "checkpoints"),
            "FOOTFALL_JOB_SAVEPOINT_DIR": str(folder / "savepoints"),
            "FOOTFALL_JOB_CHECKPOINT_INTERVAL_SECONDS": "2",
            "FOOTFALL_JOB_GROUP_ID": f"footfall-test-{tag}",
            "FOOTFALL_JOB_WATERMARK_DELAY_SECONDS": str(WATERMARK_DELAY_S),
            "FOOTFALL_JOB_POSITION_DELAY_SECONDS": str(POSITION_DELAY_S),
            # A store back after an outage is tried again within two seconds.
            "FOOTFALL_JOB_SINK_MAX_BACKOFF_SECONDS": "2",
            "FOOTFALL_POSITION_TTL_SECONDS": str(POSITION_TTL_S),
            # Topics of the run's own: its job reads only its events. Each record goes to the
            # partition `partition_of` names, so that "late" (behind the newest event of its
            # partition, minus the delay) is decided in the order the reference sees; the
            # watermark is the slowest partition's, which only ever keeps more in.
            "FOOTFALL_KAFKA_PARTITIONS": str(partitions),
            **KafkaSettings.topics_environment(tag),
            **environment,
        }
        settings = Settings.of(env)
        kafka_topics(settings.kafka)
        scenario = self.scenario
        malls = tuple(own_mall(mall, f"e2e-{n}-{tag}", index + n) for n, mall in enumerate(scenario.layout.malls))
        names = {old.mall_id: new.mall_id for old, new in zip(scenario.layout.malls, malls)}
        swaps = [(old.mall_id.encode(), new.mall_id.encode()) for old, new in zip(scenario.layout.malls, malls)]
        swaps += [(f'"ap_mac":"{old.probes[0].ap_mac[:9]}'.encode(), f'"ap_mac":"{new.probes[0].ap_mac[:9]}'.encode())
                  for old, new in zip(scenario.layout.malls, malls)]

        def rename_record(record: Record) -> Record:
            value = record.value
            for old, new in swaps:
                value = value.replace(old, new)
            return replace(record, value=value)  # its key (the partition) stays

        layout = Layout(malls)
        self.remove_leftovers(layout)
        self.made += list(names.values())
        if records is None:
            records, (expected_input, expected, expected_positions) = scenario.records, scenario.reference(partitions)
        else:
            expected_input, expected, expected_positions = expect(scenario.layout, records, scenario.start, partitions)
        # The outputs keyed by probe (probe_hourly) under the run's probes' names too.
        probe_names = {probe.ap_mac: new.probes[0].ap_mac[:9] + probe.ap_mac[9:]
                       for old, new in zip(scenario.layout.malls, malls) for probe in old.probes}
        run = Run(env, settings, layout, scenario.config, [rename_record(r) for r in records],
                  expected_input, renamed(expected, {**names, **probe_names}),
                  Positions(renamed(expected_positions.certain, names), renamed(expected_positions.uncertain, names)))
        if load:
            run.load_layout()
        return run

    def remove_leftovers(self, layout: Layout) -> None:
        """Take out the malls an earlier session left behind with these probe MACs (one
        stopped half-way never removed its malls): their shop fronts would keep the
        probes this run takes over, and no mall of theirs could be removed."""
        macs = [p.ap_mac for m in layout.malls for p in m.probes]
        schema = postgres_schema(self.stack.postgres)
        with clients.postgres(self.stack.postgres) as conn:
            stale = {mall for (mall,) in conn.execute(
                f"SELECT mall_id FROM {schema}.probes WHERE ap_mac = ANY(%s) UNION "
                f"SELECT mall_id FROM {schema}.shop_fronts WHERE ap_mac = ANY(%s)", (macs, macs))}
        if stale:
            remove_malls(sorted(stale), self.stack.postgres)

    def close(self) -> None:
        if self.made:
            remove_malls(self.made, self.stack.postgres)


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """The scenario and (on first use) its reference, once per pytest run."""
    return build_scenario()


@pytest.fixture(scope="session")
def runs(stack: Settings, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    made = Runs(stack, scenario, tmp_path_factory.mktemp("runs"))
    yield made
    made.close()


@pytest.fixture
def metrics_job() -> Iterator[Callable[..., FlinkJob]]:
    """Starts a run's job (`Run.start_job`'s arguments); stops every job it started at the end."""
    jobs: list[FlinkJob] = []

    def start(run: Run, mode: str = "embedded", resume: bool = False, taskmanagers: int = 1) -> FlinkJob:
        job = ClusterMetricsJob(run.settings, taskmanagers) if mode == "cluster" else MetricsJob(run.settings)
        jobs.append(job)  # before it starts: one that fails half-way is stopped all the same
        with run.environment():
            job.start(resume=resume)
        return job

    yield start
    for job in jobs:
        job.stop()


def wait_for(expected: dict[str, dict], settings: Settings, mall_ids: set[str], timeout: float) -> dict[str, dict]:
    """The outputs of `mall_ids` in ClickHouse once they equal `expected`, or as they are
    after `timeout` seconds."""
    client = clients.clickhouse(settings.clickhouse)
    deadline = time.monotonic() + timeout
    while True:
        got = from_clickhouse(client, mall_ids)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(2)


def assert_same(got: dict[str, dict], expected: dict[str, dict]) -> None:
    differences = []
    for output in COLUMNS:
        wrong = {k: (v, got[output].get(k)) for k, v in expected[output].items() if got[output].get(k) != v}
        extra = {k: v for k, v in got[output].items() if k not in expected[output]}
        if wrong or extra:
            differences.append(
                f"{output}: {len(wrong)} of {len(expected[output])} wrong or missing (expected, got) "
                f"{list(wrong.items())[:3]}; {len(extra)} extra {list(extra.items())[:3]}"
            )
    assert not differences, "\n".join(differences)


def read_positions(run: Run, timeout: float = 60) -> dict[tuple, set]:
    """The positions history of our malls: (mall_id, second, device_id) -> {(x, y, zone)}
    (a set: a replay after a restart writes a second again), once it holds every second
    the reference places for certain."""
    client = clients.clickhouse(run.settings.clickhouse)
    deadline = time.monotonic() + timeout
    while True:
        history: dict[tuple, set] = {}
        for mall_id, ts, device_id, x, y, zone in client.execute(
            "SELECT mall_id, toUnixTimestamp(ts), device_id, x, y, zone FROM positions WHERE mall_id IN %(m)s",
            {"m": tuple(run.mall_ids)},
        ):
            history.setdefault((mall_id, ts, device_id), set()).add((x, y, zone))
        if run.expected_positions.certain.keys() <= history.keys() or time.monotonic() > deadline:
            return history


def assert_positions(run: Run) -> None:
    """Every second the reference places for certain is in the history once, at the same
    point (ClickHouse keeps Float32) and zone, and nothing else is; the live positions in
    Redis are each device's newest, for the devices heard within the TTL of their mall's
    newest position; occupancy and zone counts agree with them."""
    history = read_positions(run)
    want = run.expected_positions
    wrong = []
    for key, (x, y, zone) in want.certain.items():
        got = history.get(key, set())
        if len(got) != 1 or not any(abs(gx - x) < 0.01 and abs(gy - y) < 0.01 and gz == zone for gx, gy, gz in got):
            wrong.append((key, (x, y, zone), got))
    extra = [key for key in history if key not in want.certain and key not in want.uncertain]
    assert not wrong and not extra, (
        f"{len(wrong)} of {len(want.certain)} positions wrong or missing {wrong[:3]}; {len(extra)} extra {extra[:3]}")

    redis = clients.redis_client(run.settings.redis)
    for mall_id in run.mall_ids:
        newest_by_device: dict[str, int] = {}
        for mall, ts, device in history:
            if mall == mall_id:
                newest_by_device[device] = max(ts, newest_by_device.get(device, ts))
        # (A mall in a time zone where the scenario's hours are at night may have nobody.)
        mall_newest = max(newest_by_device.values(), default=0)
        live = {d: json.loads(v) for d, v in redis.hgetall(f"ff:{mall_id}:positions").items()}
        assert set(live) == {d for d, ts in newest_by_device.items() if ts >= mall_newest - POSITION_TTL_S}
        if not live:
            continue
        for device, entry in live.items():
            assert entry["ts"] == newest_by_device[device]
            assert any(abs(entry["x"] - x) < 0.01 and entry["zone"] == z
                       for x, _, z in history[(mall_id, entry["ts"], device)])
        zones = Counter(entry["zone"] for entry in live.values())
        assert {z: int(n) for z, n in redis.hgetall(f"ff:{mall_id}:zones").items()} == zones
        assert int(redis.hget(f"ff:{mall_id}:today", "occupancy")) == len(live)


def assert_every_output(run: Run, got: dict[str, dict]) -> None:
    """ClickHouse (`got`, read by `wait_for`), Redis, the favourite-shop feed, dead
    letters and the positions all equal the reference."""
    assert_same(got, run.expected)
    # What ClickHouse derives from the visits: medians, journeys, shoppers.
    clickhouse = clients.clickhouse(run.settings.clickhouse)
    try:
        assert visit_views_from_clickhouse(clickhouse, run.mall_ids) == visit_views(run.expected["visits"])
    finally:
        clickhouse.disconnect()

    # Redis: today's hash per mall is the newest day; favourites readable per device.
    redis = clients.redis_client(run.settings.redis)
    for mall_id in run.mall_ids:
        newest = max(k for k in run.expected["mall_daily"] if k[0] == mall_id)
        today = redis.hgetall(f"ff:{mall_id}:today")
        assert today["day"] == newest[1]
        fields = COLUMNS["mall_daily"][2:]  # after the key, in the reference's order
        assert [int(today[f]) for f in fields] == list(run.expected["mall_daily"][newest])
        visitors, passers_by = int(today["visitors"]), int(today["passers_by"])
        heard = visitors + passers_by
        assert today["draw_rate"] == (f"{visitors / heard:.4f}" if heard else "")
    for (mall_id, day, device_id), (shop_code, _, visits, dwell) in run.expected["favorite_shop_daily"].items():
        entry = redis.hgetall(f"ff:{mall_id}:favorite:{device_id}")
        assert (entry["day"], entry["shop_code"], int(entry["visits"]), int(entry["dwell_seconds"])) == (
            day,
            shop_code,
            visits,
            dwell,
        )

    # The feed: the newest message per device is the current answer.
    feed: dict[str, dict] = {}
    for message in read_topic(run.settings, run.settings.kafka.favorite_shops_topic):
        value = json.loads(message.value)
        assert message.key.decode() == value["device_id"]
        feed[value["device_id"]] = value
    assert {
        (v["mall_id"], v["day"], d): (v["shop_code"], v["shop_name"], v["visits"], v["dwell_seconds"])
        for d, v in feed.items()
    } == run.expected["favorite_shop_daily"]

    # PostgreSQL: the staff the job detected, where its ingestion reads them back, beside
    # the rows the scenario put there.
    with clients.postgres(run.settings.postgres) as conn:
        detected = conn.execute(
            f"SELECT mall_id, device_id, qualified_day::text, since_day::text FROM {run.settings.postgres.schema_name}"
            ".staff_detected WHERE mall_id = ANY(%s)", (list(run.mall_ids),)).fetchall()
    preset = {(mall, device) for mall, device, *_ in staff_rows(run.layout, run.config.start)["staff_detected"]}
    assert {(m, d): (q, s) for m, d, q, s in detected if (m, d) not in preset} == run.expected["staff_detected"]

    # Dead letters: every rejected message of ours, for the reason it was rejected for. The
    # key names the rejected message, so a copy sent again after a restart is the same one.
    contract_name = {used: contract for contract, used in run.settings.kafka.topics.items()}
    letters: dict[bytes, tuple[str, str]] = {}
    for message in read_topic(run.settings, run.settings.kafka.dead_letters_topic):
        value = json.loads(message.value)
        letter = (contract_name[value["source_topic"]], value["reason"])
        assert letters.setdefault(message.key, letter) == letter
    assert dict(Counter(letters.values())) == run.expected_input.rejects

    # Every message accounted for: accepted + rejected = sent, per topic.
    counts = redis.hgetall(INGEST_COUNTS)
    rejected = redis.hgetall(DEAD_LETTER_COUNTS)
    sent = Counter(record.topic for record in run.records)
    accepted = {"wifi-probes": len(run.expected_input.probes), "door-sensors": len(run.expected_input.doors),
                "pos-transactions": len(run.expected_input.sales)}
    for contract, used in run.settings.kafka.topics.items():
        if contract not in sent:
            continue
        assert int(counts.get(f"{used}:accepted", 0)) == accepted[contract]
        turned_away = sum(int(n) for key, n in rejected.items() if key.startswith(f"{used}:"))
        assert int(counts.get(f"{used}:accepted", 0)) + turned_away == sent[contract]
    late_for_windows = sum(1 for e in run.expected_input.probes if not e.on_time)
    assert int(counts.get(f"{run.settings.kafka.wifi_probes_topic}:late_for_windows", 0)) == late_for_windows

    assert_positions(run)


# --- Faults on the way: the stores and the job's own process ------------------------------

#: How long a store stays down: long enough for the sinks to report it and buffer, short
#: enough for a test; the sinks' backoff (FOOTFALL_JOB_SINK_MAX_BACKOFF_SECONDS, 2 s in a run)
#: is what decides how soon they write again, the same after 15 s as after an hour.
OUTAGE_S = 15


def wait_until_written(run: Run, job: FlinkJob, checkpoints: int = 1, timeout: float = 300) -> None:
    """Until the job has written results of the run and completed `checkpoints` checkpoints."""
    clickhouse = clients.clickhouse(run.settings.clickhouse)
    query = "SELECT count() FROM mall_hourly WHERE mall_id IN %(malls)s"
    deadline = time.monotonic() + timeout
    while not (job.completed_checkpoints() >= checkpoints
               and clickhouse.execute(query, {"malls": tuple(run.mall_ids)})[0][0]):
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
    # A server this test process started (the session's stack) is its child: reap it now,
    # or its zombie keeps the pid, and PostgreSQL started again takes its stale lock file
    # for a postmaster still running and refuses to start (it did, one run in two).
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # not ours: its own parent reaps it


@dataclass
class Outage:
    """What the job showed while a store was down and after it came back."""

    service: str
    #: The job's states while the store was down (it must stay RUNNING).
    states: set[str | None]
    #: The last degraded health the job reported while the store was down, if any.
    degraded: JobHealth | None
    #: The run's mall hours in ClickHouse before the outage and after it.
    hours_before: int
    hours_after: int


def outage(stack: Settings, run: Run, job: FlinkJob, service: str, sig: signal.Signals,
           meanwhile: list[Record]) -> Outage:
    """Take `service` down (SIGKILL: a crash; SIGTERM: a stop) for OUTAGE_S while
    `meanwhile` is published, watching the job; then start it again as `make up` does, and
    wait until the job no longer reports itself degraded."""
    before = hours_stored(stack, run)
    kill(stack, service, sig)
    down_at = time.monotonic()
    run.publish(meanwhile)  # events keep arriving
    states: set[str | None] = set()
    degraded = None
    while time.monotonic() - down_at < OUTAGE_S:
        states.add(job.state())
        health = job.health()
        if health is not None and health.degraded:
            degraded = health
        time.sleep(1)
    manager.up(stack, report=lambda line: None)  # `make up`: starts what is not running
    after = hours_stored(stack, run)
    deadline = time.monotonic() + 120  # the layout tries PostgreSQL again every 5 s
    while (health := job.health()) is None or health.degraded:
        assert time.monotonic() < deadline, f"still degraded after {service} came back: {health}"
        time.sleep(1)
    return Outage(service, states, degraded, before, after)


def jvm_of(pid: int) -> int:
    """The Flink JVM the job's process runs (its child)."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"java"):
            return int(child)
    raise AssertionError(f"process {pid} runs no JVM")


# --- Alerts across the crash: a webhook receiver on 127.0.0.1 -------------------------------

HOOK_SECRET = "secret-of-the-shared-run's-receiver"


class AlertHook(BaseHTTPRequestHandler):
    """Takes the alert events POSTed to it whose signature is right (401 otherwise)."""

    got: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signed = webhooks.signature(HOOK_SECRET, body)
        if hmac.compare_digest(self.headers[webhooks.SIGNATURE_HEADER], signed):
            AlertHook.got.append(json.loads(body))
            self.send_response(204)
        else:
            self.send_response(401)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


class AlertWatch:
    """One mall of a run over a capacity of one person (its occupancy rule's hold off), so
    its occupancy alert opens as soon as anyone is inside, with a webhook for that rule.
    `evaluate` runs the product's evaluation and delivery once, and returns every event
    the receiver has taken so far."""

    def __init__(self, run: Run) -> None:
        self.run, self.mall_id = run, sorted(run.mall_ids)[0]
        AlertHook.got = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), AlertHook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/shared-run"
        schema = run.settings.postgres.schema_name
        with clients.postgres(run.settings.postgres, autocommit=True) as conn:
            conn.execute(f'UPDATE "{schema}".malls SET capacity = 1 WHERE mall_id = %s', (self.mall_id,))
            conn.execute(f'UPDATE "{schema}".alert_rules SET hold_seconds = 0 WHERE mall_id = %s '
                         "AND rule = 'occupancy'", (self.mall_id,))
            conn.execute(f'INSERT INTO "{schema}".webhooks (url, secret, rules) VALUES (%s, %s, %s)',
                         (self.url, HOOK_SECRET, ["occupancy"]))

    def evaluate(self) -> list[dict[str, Any]]:
        alerts.evaluate(self.run.settings, mall_id=self.mall_id)
        webhooks.deliver(self.run.settings)
        return list(AlertHook.got)

    def close(self) -> None:
        self.server.shutdown()
        schema = self.run.settings.postgres.schema_name
        with clients.postgres(self.run.settings.postgres, autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{schema}".webhooks WHERE url = %s', (self.url,))


# --- The shared run: one job, every output, one outage and one crash of the job ------------

@dataclass
class SharedRun:
    """The scenario through one embedded job, as the field would put it: its malls are
    onboarded (loaded into PostgreSQL) as their first reports arrive, ClickHouse crashes
    for OUTAGE_S in the second quarter of the stream, and the job's JVM is killed in the
    third (its supervisor starts it again from its checkpoint). Tests read what it wrote
    and what it showed on the way."""

    run: Run
    job: MetricsJob
    #: Every output of the run's malls in ClickHouse once the stream was through.
    got: dict[str, dict]
    #: The job (id, restarts) when it started, and after the outage.
    started: tuple[str, int]
    after_outage: tuple[str, int]
    outage: Outage
    #: The job's process the JVM of which was killed, and its supervisor's state afterwards.
    killed: int
    supervisor: SupervisorState | None
    #: `footfall status` once the stream was through.
    status: str
    #: The alert events a webhook had taken before the kill, and after the job, restarted,
    #: had replayed and caught up (each time after the product evaluated its rules).
    alert_posts: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])


def ride(stack: Settings, run: Run, job: MetricsJob) -> SharedRun:
    def identity() -> tuple[str, int]:
        overview, health = job.overview(), job.health()
        assert overview is not None and health is not None, "the job does not answer"
        return overview["jid"], health.restarts

    records, quarter = run.records, len(run.records) // 4
    started = identity()
    # The malls are onboarded as their first reports arrive: the job, started without
    # them, must count every report all the same.
    run.load_layout()
    run.publish(records[:quarter])
    wait_until_written(run, job)
    down = outage(stack, run, job, "clickhouse", signal.SIGKILL, records[quarter:2 * quarter])
    after_outage = identity()

    done = job.completed_checkpoints()
    run.publish(records[2 * quarter:3 * quarter])
    wait_until_written(run, job, checkpoints=done + 2)  # a checkpoint of the third quarter's work
    watch = AlertWatch(run)
    posted_before = watch.evaluate()
    killed = job.job_pid()
    assert killed is not None
    os.kill(jvm_of(killed), signal.SIGKILL)  # what the out-of-memory killer picks: the biggest process
    run.publish(records[3 * quarter:])

    # Well inside the test's own timeout, which counts this fixture: a run that never
    # converges then fails with what differs and the job's own account of it.
    got = wait_for(run.expected, run.settings, run.mall_ids, timeout=240)
    try:
        posted_after = watch.evaluate()
    finally:
        watch.close()
    status = footfall("status", env=run.env).stdout
    if got != run.expected:
        print(f"--- footfall status ---\n{status}\n--- tail of {job.log} ---")
        print("\n".join(job.log.read_text(errors="replace").splitlines()[-150:]))
    return SharedRun(run, job, got, started, after_outage, down, killed, job.supervisor(), status,
                     (posted_before, posted_after))


@pytest.fixture(scope="session")
def shared_run(stack: Settings, runs: Runs) -> Iterator[SharedRun]:
    """The shared run (`SharedRun`), once per pytest run; its job stays up until the end."""
    run = runs.new("shared", load=False)
    job = MetricsJob(run.settings)
    try:
        with run.environment():
            job.start()
        yield ride(stack, run, job)
    finally:
        job.stop()
