"""The simulator against the real stack: the layout in PostgreSQL, records through Kafka."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime

import pytest
from kafka import TopicPartition

from footfall import clients
from footfall.settings import Settings, Topics
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from simulators.load import LoadPlan, run_load
from simulators.publish import KafkaSink, publish
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig
from tests.helpers import own_mall

pytestmark = pytest.mark.integration


@pytest.fixture
def test_mall(stack: Settings, unique: str):
    """A mall of its own (own id, own probe MACs), removed again afterwards."""
    mall = own_mall(242, f"-{unique}")
    yield Layout((mall,))
    remove_malls([mall.mall_id], stack.postgres)


def _count(conn, table: str, mall_id: str) -> int:
    return conn.execute(f"SELECT count(*) FROM footfall.{table} WHERE mall_id = %s", (mall_id,)).fetchone()[0]


def test_the_layout_loads_into_postgres_idempotently_and_updates_in_place(stack: Settings, test_mall: Layout) -> None:
    mall = test_mall.malls[0]
    fronts = sum(len(p.fronts) for p in mall.probes)
    assert fronts >= 44  # every shop has a corridor probe facing its front
    assert load_layout(test_mall, stack.postgres) == {
        "malls": 1, "shops": 44, "probes": 84, "shop_fronts": fronts, "entrances": 2}
    load_layout(test_mall, stack.postgres)  # again: nothing new
    # A shop renamed, and a corridor probe that no longer faces any front.
    facing = next(i for i, p in enumerate(mall.probes) if p.fronts)
    probes = list(mall.probes)
    probes[facing] = dataclasses.replace(probes[facing], fronts=())
    renamed = dataclasses.replace(
        mall, shops=(dataclasses.replace(mall.shops[0], shop_name="Renamed"), *mall.shops[1:]), probes=tuple(probes)
    )
    load_layout(Layout((renamed,)), stack.postgres)
    with clients.postgres(stack.postgres) as conn:
        assert [_count(conn, t, mall.mall_id) for t in ("shops", "probes", "entrances")] == [44, 84, 2]
        assert _count(conn, "shop_fronts", mall.mall_id) == fronts - len(mall.probes[facing].fronts)
        name, polygon = conn.execute(
            "SELECT shop_name, polygon FROM footfall.shops WHERE mall_id = %s AND shop_code = %s",
            (mall.mall_id, mall.shops[0].shop_code),
        ).fetchone()
        corridor = (
            _count(conn, "probes", mall.mall_id)
            - conn.execute(
                "SELECT count(shop_code) FROM footfall.probes WHERE mall_id = %s", (mall.mall_id,)
            ).fetchone()[0]
        )
    assert name == "Renamed"
    assert [tuple(p) for p in json.loads(polygon)] == list(mall.shops[0].polygon)
    assert corridor == 40


def _end_offsets(stack: Settings) -> dict[TopicPartition, int]:
    consumer = clients.kafka_consumer(stack.kafka)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in Topics.INPUTS
            for p in consumer.partitions_for_topic(topic)
        ]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def _read_back(
    stack: Settings, since: dict[TopicPartition, int], mine, expected: int, timeout: float = 90
) -> list[tuple[str, bytes]]:
    """Every record after `since` for which `mine(topic, value)` holds, until `expected` came."""
    consumer = clients.kafka_consumer(stack.kafka, consumer_timeout_ms=1000, max_partition_fetch_bytes=4 * 1024 * 1024)
    consumer.assign(list(since))
    for partition, offset in since.items():
        consumer.seek(partition, offset)
    found: list[tuple[str, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for message in consumer:
                if mine(message.topic, message.value):
                    found.append((message.topic, message.value))
    finally:
        consumer.close()
    return found


def _config(mall: Layout, seed: int, minutes: float | None) -> SimulationConfig:
    start = datetime(2026, 11, 20, 12, 0, tzinfo=mall.malls[0].zone).timestamp()
    return SimulationConfig(
        start=start,
        end=start + minutes * 60 if minutes else None,
        seed=seed,
        behaviour=Behaviour(visitors_per_day=3000),
    )


def _ours(seed: int, mall_id: str):
    prefix = f'"event_id":"{seed:x}-'.encode()
    return lambda topic, value: (prefix in value) if topic == Topics.WIFI_PROBES else (mall_id.encode() in value)


def test_a_simulated_run_reaches_kafka_record_for_record(stack: Settings, test_mall: Layout) -> None:
    seed = 4_242_001  # its records are told from others read since by their event ids' prefix
    config = _config(test_mall, seed, minutes=10)
    expected = sorted((r.topic, r.value) for r in Simulation(test_mall, config).records())
    since = _end_offsets(stack)
    outcome = publish(Simulation(test_mall, config).records(), KafkaSink(stack.kafka))
    assert outcome.events == len(expected) > 1000
    got = _read_back(stack, since, _ours(seed, test_mall.malls[0].mall_id), len(expected))
    assert sorted(got) == expected


def test_load_mode_splits_the_work_between_processes_and_loses_nothing(stack: Settings, test_mall: Layout) -> None:
    seed = 4_242_002
    since = _end_offsets(stack)
    outcome = run_load(
        test_mall, _config(test_mall, seed, minutes=None), stack.kafka, LoadPlan(events=30_000, processes=2)
    )
    assert outcome.events == 30_000
    got = _read_back(stack, since, _ours(seed, test_mall.malls[0].mall_id), 30_000)
    assert len(got) == 30_000
    event_ids = [json.loads(v)["event_id"] for t, v in got if t == Topics.WIFI_PROBES]
    assert len(set(event_ids)) == len(event_ids)  # no clash between the processes
    assert {eid.split("-")[1] for eid in event_ids} == {"0", "1"}  # both processes produced
