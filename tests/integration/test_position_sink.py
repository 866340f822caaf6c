"""The positions sink against the real Redis and ClickHouse: last positions carried
forward and expired after the TTL, occupancy and per-zone counts, and the history."""

from __future__ import annotations

import json

import pytest

from footfall import clients
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers

pytestmark = pytest.mark.integration

TTL = 300
T0 = 1_900_000_000  # epoch seconds


@pytest.fixture
def writers(stack: Settings):  # type: ignore[no-untyped-def]
    config = SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres,
                        position_ttl_seconds=TTL)
    made = Writers(config)
    yield made
    made.close()


@pytest.fixture
def mall(stack: Settings, unique: str):  # type: ignore[no-untyped-def]
    mall_id = f"mall-sink-{unique}"
    yield mall_id
    redis = clients.redis_client(stack.redis)
    redis.delete(*(f"ff:{mall_id}:{k}" for k in ("positions", "positions:seen", "zones", "today")))
    clients.clickhouse(stack.clickhouse).execute("ALTER TABLE positions DELETE WHERE mall_id = %(m)s", {"m": mall_id})


def position(mall: str, device: str, ts: int, x: float, zone: str) -> dict:
    return {"mall_id": mall, "ts": ts, "device_id": device, "x": x, "y": 1.5, "zone": zone}


def live(stack: Settings, mall: str) -> tuple[dict, dict, dict]:
    redis = clients.redis_client(stack.redis)
    devices = {d: json.loads(v) for d, v in redis.hgetall(f"ff:{mall}:positions").items()}
    return devices, redis.hgetall(f"ff:{mall}:zones"), redis.hgetall(f"ff:{mall}:today")


def test_a_last_position_is_kept_for_the_ttl_after_its_report_then_dropped(stack, writers, mall):
    writers.write("positions", [position(mall, "a", T0, 1.0, "S1"), position(mall, "b", T0, 2.0, "S1")], [])
    writers.write("positions", [position(mall, "b", T0 + 100, 3.0, "corridor")], [])
    devices, zones, today = live(stack, mall)
    assert devices["a"] == {"x": 1.0, "y": 1.5, "zone": "S1", "ts": T0}  # carried forward
    assert devices["b"]["x"] == 3.0 and zones == {"S1": "1", "corridor": "1"} and today["occupancy"] == "2"

    # Exactly the TTL after its last report, `a` is still there; a second later it is gone.
    writers.write("positions", [position(mall, "c", T0 + TTL, 4.0, "S2")], [])
    assert set(live(stack, mall)[0]) == {"a", "b", "c"}
    writers.write("positions", [position(mall, "c", T0 + TTL + 1, 4.0, "S2")], [])
    devices, zones, today = live(stack, mall)
    assert set(devices) == {"b", "c"}
    assert zones == {"corridor": "1", "S2": "1"} and today["occupancy"] == "2"
    assert 0 < clients.redis_client(stack.redis).ttl(f"ff:{mall}:positions") <= TTL


def test_an_older_position_arriving_late_does_not_replace_a_newer_one(stack, writers, mall):
    writers.write("positions", [position(mall, "a", T0 + 10, 1.0, "S1")], [])
    writers.write("positions", [position(mall, "a", T0 + 5, 9.0, "S9")], [])
    devices, zones, _ = live(stack, mall)
    assert devices["a"]["x"] == 1.0 and zones == {"S1": "1"}


def test_every_position_is_kept_in_the_clickhouse_history(stack, writers, mall):
    rows = [position(mall, "a", T0 + s, float(s), "S1") for s in range(3)]
    writers.write("positions", rows, [])
    history = clients.clickhouse(stack.clickhouse).execute(
        "SELECT toUnixTimestamp(ts), device_id, x, y, zone FROM positions WHERE mall_id = %(m)s ORDER BY ts",
        {"m": mall})
    assert history == [(T0 + s, "a", float(s), 1.5, "S1") for s in range(3)]
