"""The end-to-end harness: a job of the test's own (its REST port, checkpoints, salt,
consumer group and topics), a simulated scenario on malls of the test's own, the
plain-Python reference of what it must produce, and the assertions that every output
(ClickHouse, Redis, the favourite-shop feed, dead letters, positions) equals it.
The fixtures are registered for tests/integration by its conftest."""

from __future__ import annotations

import heapq
import json
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from footfall import clients
from footfall.settings import KafkaSettings, Settings
from footfall.stack.bootstrap import kafka_topics
from footfall.stack.cluster import ClusterMetricsJob
from footfall.stack.job import FlinkJob, MetricsJob
from jobs.metrics.outputs import COLUMNS, DEAD_LETTER_COUNTS, INGEST_COUNTS
from simulators.dimensions import load_layout, remove_malls
from simulators.faults import Faults
from simulators.layout import Layout
from simulators.publish import KafkaSink, publish
from simulators.shoppers import Behaviour
from simulators.source import Record, Simulation, SimulationConfig, probe_record, unused_past_day
from tests.helpers import free_port, own_mall, read_topic
from tests.jobs import reference
from tests.jobs.harness import from_clickhouse, visit_views_from_clickhouse
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


@pytest.fixture
def partitions() -> int:
    """Partitions of the run's input topics; a test parametrized with `partitions` overrides it."""
    return 1


@pytest.fixture
def job_settings(stack: Settings, tmp_path, monkeypatch, unique: str, partitions: int) -> Settings:
    """Settings of a job of the test's own: its REST port, checkpoints, salt and group."""
    for name, value in {
        "FOOTFALL_VAR_DIR": str(tmp_path / "var"),
        "FOOTFALL_SALT": SALT,
        "FOOTFALL_JOB_REST_PORT": str(free_port()),
        "FOOTFALL_JOB_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "FOOTFALL_JOB_SAVEPOINT_DIR": str(tmp_path / "savepoints"),
        "FOOTFALL_JOB_CHECKPOINT_INTERVAL_SECONDS": "2",
        "FOOTFALL_JOB_GROUP_ID": f"footfall-test-{unique}",
        "FOOTFALL_JOB_WATERMARK_DELAY_SECONDS": str(WATERMARK_DELAY_S),
        "FOOTFALL_JOB_POSITION_DELAY_SECONDS": str(POSITION_DELAY_S),
        "FOOTFALL_POSITION_TTL_SECONDS": str(POSITION_TTL_S),
        # Topics of the test's own: the job reads only this run's events. Each record
        # goes to the partition Run.partition names, so that "late" (behind the newest
        # event of its partition, minus the delay) is decided in the order the reference
        # sees; the watermark is the slowest partition's, which only ever keeps more in.
        "FOOTFALL_KAFKA_PARTITIONS": str(partitions),
        **KafkaSettings.topics_environment(unique),
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    kafka_topics(settings.kafka)
    return settings


@pytest.fixture
def metrics_job(job_settings: Settings):
    """Starts the job: embedded, or submitted to a standalone cluster with `flink run -py`."""
    jobs: list[FlinkJob] = []

    def start(resume: bool = False, mode: str = "embedded", taskmanagers: int = 1) -> FlinkJob:
        settings = Settings()  # the test's environment as it is now (a parallelism it set)
        job = ClusterMetricsJob(settings, taskmanagers) if mode == "cluster" else MetricsJob(settings)
        jobs.append(job)  # before it starts: one that fails half-way is stopped all the same
        job.start(resume=resume)
        return job

    yield start
    for job in jobs:
        job.stop()


@pytest.fixture
def scenario(stack: Settings, unique: str):
    """Two malls of the test's own (different time zones), ninety busy minutes on a day no
    other run has used, with every kind of fault; plus one event per mall on the next
    day, so the watermark passes the end of the last visits."""
    index = 60 + int(time.time() // 60) % 180
    layout = Layout((own_mall(index, f"-{unique}"), own_mall(index + 2, f"-{unique}")))
    load_layout(layout, stack.postgres)
    day = unused_past_day()
    start = datetime.combine(day, datetime.min.time().replace(hour=11), ZoneInfo(layout.malls[0].tz)).timestamp()
    config = SimulationConfig(
        start=start, end=start + 5400, seed=int(time.time()) % 100_000,
        behaviour=Behaviour(visitors_per_day=600, staff_per_mall=3), faults=FAULTS,
    )
    records = [*fixed_device(layout, start), *heapq.merge(
        Simulation(layout, config).records(), staff_devices(layout, config.seed, start), key=lambda r: r.time)]
    with clients.postgres(stack.postgres) as conn:
        for table, rows in staff_rows(layout, start).items():
            for row in rows:
                conn.execute(f"INSERT INTO {stack.postgres.schema_name}.{table} VALUES ({', '.join(['%s'] * len(row))})"
                             " ON CONFLICT DO NOTHING", row)
    for mall in layout.malls:
        probe = mall.probes[-1]  # a corridor probe; a randomised MAC counts only as such
        for n in range(8):  # several keys, so that every partition's watermark moves on
            records.append(probe_record(f"closing-{mall.mall_id}-{config.seed}-{n}", probe.ap_mac,
                                        f"06:00:00:00:00:{n:02x}", -50, int((start + 86400) * 1000), start + 86400))
    yield layout, config, records
    remove_malls([m.mall_id for m in layout.malls], stack.postgres)


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


def ours(results: dict[str, dict], mall_ids: set[str]) -> dict[str, dict]:
    return {name: {k: v for k, v in rows.items() if k[0] in mall_ids} for name, rows in results.items()}


def wait_for(expected: dict[str, dict], settings: Settings, mall_ids: set[str], timeout: float) -> dict[str, dict]:
    client = clients.clickhouse(settings.clickhouse)
    deadline = time.monotonic() + timeout
    while True:
        got = ours(from_clickhouse(client), mall_ids)
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


@dataclass
class Run:
    """One scenario on the test's own topics, and what it must produce."""

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

    @classmethod
    def of(cls, settings: Settings, layout: Layout, config: SimulationConfig, records: list[Record]) -> Run:
        expected_input, expected, expected_positions = expect(settings, layout, records, config.start)
        assert all(expected[name] for name in COLUMNS), "the scenario must produce every output"
        # Out-of-order faults (2 % of reports, each heard by several probes) leave some
        # seconds undecided, and smoothing carries an undecided fix's doubt into its device's
        # later seconds until its track starts anew, so a device heard without a break (staff)
        # can leave many undecided: across 30 seeds, 2.4 to 17 decided seconds to one
        # undecided. Most must be decided, and those must come out exactly.
        assert len(expected_positions.certain) > len(expected_positions.uncertain)
        return cls(settings, layout, config, records, expected_input, expected, expected_positions)

    def publish(self, records: list[Record]) -> None:
        partitions = self.settings.kafka.partitions
        publish(records, KafkaSink(self.settings.kafka, partition_of=partial(partition_of, partitions)))


def partition_of(partitions: int, record: Record) -> int:
    """The partition a run sends a record to: by a digest of its key (0 without one), the
    same every time, so the reference knows it."""
    return zlib.crc32(record.key) % partitions if record.key else 0


def expect(settings: Settings, layout: Layout, records: list[Record],
           start: float) -> tuple[Expected, dict[str, dict], Positions]:
    """What the job must make of `records`, published in this order (each to the partition
    `partition_of` names): the split of the input, every output, and the positions."""
    expected_input = from_records(records, layout, SALT, Limits(watermark_delay_ms=WATERMARK_DELAY_S * 1000),
                                  partition_of=partial(partition_of, settings.kafka.partitions))
    expected_input.probes = with_staff(expected_input.probes, staff_map(layout, start))
    probe_xy = {p.ap_mac: (p.x, p.y) for m in layout.malls for p in m.probes}
    # The floor plans from the simulator's layout, not from PostgreSQL as the job reads them.
    plans = {m.mall_id: FloorPlan([(s.shop_code, s.polygon) for s in m.shops], [(p.x, p.y) for p in m.probes])
             for m in layout.malls}
    names = {(m.mall_id, s.shop_code): s.shop_name for m in layout.malls for s in m.shops}
    expected = metrics(expected_input.probes, expected_input.doors, Places(probe_xy, plans.__getitem__, names))
    expected_positions = positions(expected_input.probes, probe_xy, plans.__getitem__, POSITION_DELAY_S * 1000,
                                   expected_input.probe_newest_before)
    return expected_input, expected, expected_positions


@pytest.fixture
def run(job_settings: Settings, scenario) -> Run:
    layout, config, records = scenario
    return Run.of(job_settings, layout, config, records)


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
    accepted = {"wifi-probes": len(run.expected_input.probes), "door-sensors": len(run.expected_input.doors)}
    for contract, used in run.settings.kafka.topics.items():
        if contract not in sent:
            continue
        assert int(counts.get(f"{used}:accepted", 0)) == accepted[contract]
        turned_away = sum(int(n) for key, n in rejected.items() if key.startswith(f"{used}:"))
        assert int(counts.get(f"{used}:accepted", 0)) + turned_away == sent[contract]
    late_for_windows = sum(1 for e in run.expected_input.probes if not e.on_time)
    assert int(counts.get(f"{run.settings.kafka.wifi_probes_topic}:late_for_windows", 0)) == late_for_windows

    assert_positions(run)
