"""Hostile input, property-based: whatever arrives on the input topics (arbitrary bytes,
broken JSON, extreme numbers, huge and deeply nested bodies, wrong types, Unicode MACs),
the running job never fails, and every message is accounted for: accepted + rejected
equals what was sent, per topic. A few batches in `make test`; the full set is slow
(`make test-all`)."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from confluent_kafka import Producer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall import clients
from footfall.outputs import DEAD_LETTER_COUNTS, INGEST_COUNTS
from footfall.settings import Settings
from ops.job import MetricsJob
from tests.integration.endtoend import Runs

pytestmark = pytest.mark.integration

NOW_MS = int(time.time() * 1000)
TOPICS = ("wifi-probes", "door-sensors")

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                           max_size=3), max_leaves=8)
macs = st.one_of(
    st.from_regex(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", fullmatch=True),
    st.text(max_size=20),  # Unicode, empty, anything
    st.text(alphabet="0123456789abcdefABCDEF:-\u0660\u0661\uff10\u212a", min_size=17, max_size=17),
)
times = st.one_of(st.integers(NOW_MS - 7_200_000, NOW_MS + 7_200_000), st.integers(-(2**70), 2**70),
                  st.just(NOW_MS + 365 * 86_400_000), st.text(max_size=16))


def messages(layout_macs: list[str], mall_ids: list[str]):  # type: ignore[no-untyped-def]
    """(contract topic, body bytes) pairs, valid and not, in every shape."""
    probe = st.fixed_dictionaries({
        "event_id": st.text(max_size=12) | values,
        "ap_mac": st.sampled_from(layout_macs) | macs | values,
        "device_mac": macs | values,
        "rssi": st.integers(-130, 10) | st.integers(-(2**70), 2**70) | values,
        "occur_time": times | values,
    })
    door = st.fixed_dictionaries({
        "sensor_id": st.text(max_size=8) | values,
        "mall_id": st.sampled_from(mall_ids) | st.text(max_size=8) | values,
        "entrance": st.text(max_size=8) | values,
        "occur_time": times | values,
        "in_count": st.integers(-5, 50) | st.integers(-(2**70), 2**70) | values,
        "out_count": st.integers(-5, 50) | values,
    })

    def without(fields: dict, drop: set[str]) -> dict:
        return {k: v for k, v in fields.items() if k not in drop}

    def body(payload: st.SearchStrategy[dict], names: tuple[str, ...]) -> st.SearchStrategy[bytes]:
        whole = st.builds(without, payload, st.sets(st.sampled_from(names), max_size=2))
        text = whole.map(lambda m: json.dumps(m, ensure_ascii=False))
        return st.one_of(
            text.map(str.encode),
            st.tuples(text, st.integers(0, 200)).map(lambda t: t[0][: t[1]].encode()),  # cut short
            st.binary(max_size=120),  # arbitrary bytes, invalid UTF-8 included
            values.map(lambda v: json.dumps(v).encode()),  # JSON, not an object
            st.integers(1, 20_000).map(lambda n: ("[" * n + "]" * n).encode()),  # deeply nested
            st.integers(1, 5_000).map(lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
        )

    return st.lists(st.one_of(
        st.tuples(st.just("wifi-probes"), body(probe, ("event_id", "ap_mac", "device_mac", "rssi", "occur_time"))),
        st.tuples(st.just("door-sensors"), body(door, ("sensor_id", "mall_id", "entrance", "occur_time"))),
    ), min_size=20, max_size=80)


def accounted(settings: Settings) -> Counter:
    """Per contract topic: accepted + rejected, as the job counts them."""
    redis = clients.redis_client(settings.redis)
    counts, rejected = redis.hgetall(INGEST_COUNTS), redis.hgetall(DEAD_LETTER_COUNTS)
    total: Counter = Counter()
    for contract, used in settings.kafka.topics.items():
        total[contract] = int(counts.get(f"{used}:accepted", 0)) + sum(
            int(n) for key, n in rejected.items() if key.rpartition(":")[0] == used)
    return total


def send(settings: Settings, batch: list[tuple[str, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.servers, "message.max.bytes": 16 * 1024 * 1024})
    for contract, value in batch:
        producer.produce(settings.kafka.topics[contract], value=value)
    assert producer.flush(60) == 0


def settle(settings: Settings, job: MetricsJob, want: Counter, timeout: float = 120) -> Counter:
    deadline = time.monotonic() + timeout
    while (got := accounted(settings)) != want and time.monotonic() < deadline:
        assert job.state() == "RUNNING"
        time.sleep(1)
    return got


@pytest.mark.parametrize("batches", [3, pytest.param(12, marks=pytest.mark.slow)])
def test_any_input_is_accepted_or_rejected_and_never_stops_the_job(runs: Runs, metrics_job, batches: int) -> None:
    run = runs.new(f"hostile-{batches}")  # its malls and probes; none of its scenario is sent
    job = metrics_job(run)
    jid = job.overview()["jid"]
    layout_macs = [p.ap_mac for m in run.layout.malls for p in m.probes]
    mall_ids = [m.mall_id for m in run.layout.malls]
    sent: Counter = Counter()

    # A 10 MB body on each topic first: turned away unparsed, and nothing waits behind it.
    huge = [(topic, b'{"event_id":"' + b"x" * (10 * 1024 * 1024) + b'"}') for topic in TOPICS]
    send(run.settings, huge)
    sent.update(topic for topic, _ in huge)
    assert settle(run.settings, job, sent) == sent

    @settings(max_examples=batches, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(batch=messages(layout_macs, mall_ids))
    def every_message_is_accounted_for(batch: list[tuple[str, bytes]]) -> None:
        send(run.settings, batch)
        sent.update(topic for topic, _ in batch)
        assert settle(run.settings, job, sent) == sent

    every_message_is_accounted_for()
    overview = job.overview()
    assert (overview["jid"], overview["state"]) == (jid, "RUNNING")
    health = job.health()
    assert health is not None and health.restarts == 0
