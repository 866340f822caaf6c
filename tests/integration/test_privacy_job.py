"""The running job honours the privacy registries (docs/privacy.md), with the feed
requiring consent (FOOTFALL_FEED_CONSENT=required): a device opted out while the job runs
has nothing of its own anywhere from the layout reload on, its reports counted only as
opted out; only the device that consented appears on the favourite-shop feed, while
every device still counts."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from footfall import clients
from footfall.flink import subtask_metrics, vertices
from footfall.outputs import INGEST_COUNTS
from simulators.records import Record, probe_record
from tests.helpers import footfall, read_topic
from tests.integration.endtoend import SALT, Run, Runs
from tests.jobs import reference

pytestmark = pytest.mark.integration

#: Phones of the test: A consents to the feed, B does not, C opts out mid-stream, D is a
#: witness that the second day was counted. The registries and the stores outlive a
#: pytest run, so each run has phones of its own (universally administered MACs: not
#: randomised), and looks only at its own malls.
RUN = os.urandom(2).hex()
MACS = {name: f"00:16:3e:{RUN[:2]}:{RUN[2:]}:0{n}" for n, name in enumerate("ABCD", start=1)}
IDS = {name: reference.device_id(SALT, mac) for name, mac in MACS.items()}
#: The first day's reports start here; the second day's a day later.
T0 = datetime(2025, 5, 6, 9, 0, tzinfo=UTC)  # gone by: a report ahead of the clock is turned away


def shopping(devices: str, ap_mac: str, start: datetime, minutes: int = 15) -> list[Record]:
    """Each device heard every 20 s for `minutes` by one probe of a shop, then the witness
    D heard 40 minutes later, which moves the watermark past their visits' end."""
    records = []
    for second in range(0, minutes * 60, 20):
        at = start + timedelta(seconds=second)
        for name in devices:
            records.append(probe_record(f"{name}-{at:%Y%m%d%H%M%S}", ap_mac, MACS[name], -45,
                                        int(at.timestamp() * 1000), at.timestamp()))
    closing = start + timedelta(minutes=minutes + 40)
    records.append(probe_record(f"D-close-{closing:%Y%m%d%H%M}", ap_mac, MACS["D"], -45,
                                int(closing.timestamp() * 1000), closing.timestamp()))
    return records


def wait(condition, what: str, timeout: float = 180, show=lambda: None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s: {show()}"
        time.sleep(0.5)
    return value


def opted_out_in_the_job(rest: str) -> int:
    """The job's own count of opted-out devices (the layout's gauge)."""
    from footfall.flink import newest_job

    job = newest_job(rest)
    if job is None:
        return 0
    for vertex in vertices(rest, job["jid"]):
        names = [m["id"] for m in subtask_metrics(rest, job["jid"], vertex) if m["id"].endswith("optedOut")]
        if names:
            return max(int(m.get("max", 0)) for m in subtask_metrics(rest, job["jid"], vertex, names))
    return 0


@pytest.fixture
def run(runs: Runs) -> Iterator[Run]:
    """The test's run; the registries as they were at the end (they outlive the stack's users)."""
    run = runs.new("privacy", FOOTFALL_FEED_CONSENT="required", FOOTFALL_JOB_LOOKUP_CACHE_SECONDS="1")
    yield run
    for choice, name in (("opt-in", "C"), ("withdraw", "A")):
        done = footfall("privacy", choice, "--mac", MACS[name], env=run.env)
        assert done.returncode == 0, done.stderr


def test_an_opt_out_mid_stream_and_a_feed_that_needs_consent(run: Run, metrics_job) -> None:
    mall = run.layout.malls[0]
    probe = next(p for p in mall.probes if p.shop_code)
    first_day, second_day = (T0.astimezone(ZoneInfo(mall.tz)).date() + timedelta(days=n) for n in (0, 1))
    consented = footfall("privacy", "consent", "--mac", MACS["A"], env=run.env)
    assert consented.returncode == 0, consented.stderr
    job = metrics_job(run)
    ch = clients.clickhouse(run.settings.clickhouse)
    redis = clients.redis_client(run.settings.redis)

    def rows(device: str, day: object) -> dict[str, int]:
        found = {}
        for table in ("visits", "favorite_shop_daily", "repeat_shops_daily"):
            count = ch.execute(f"SELECT count() FROM {table} WHERE mall_id = %(m)s AND device_id = %(d)s "
                               "AND day = %(day)s", {"m": mall.mall_id, "d": IDS[device], "day": day})[0][0]
            if count:
                found[table] = count
        return found

    # The first day: A, B and C shop, and count.
    run.publish(shopping("ABC", probe.ap_mac, T0))
    wait(lambda: all(rows(name, first_day).get("favorite_shop_daily") for name in "ABC"), "the first day's favourites")

    # C opts out while the job runs; the job reads it at its next layout reload.
    # (The registry outlives a pytest run: once the job's count of opt-outs reaches the
    # registry's, its layout holds C's.)
    opted = footfall("privacy", "opt-out", "--mac", MACS["C"], env=run.env)
    assert opted.returncode == 0, opted.stderr
    with clients.postgres(run.settings.postgres) as conn:
        registered = conn.execute(f"SELECT count(*) FROM {run.settings.postgres.schema_name}.privacy_opt_outs")
        opt_outs = registered.fetchone()[0]
    wait(lambda: opted_out_in_the_job(job.rest) >= opt_outs, "the opt-out in the job's layout")

    second = shopping("CD", probe.ap_mac, T0 + timedelta(days=1))
    run.publish(second)
    c_reports = sum(1 for r in second if r.key == MACS["C"].encode())
    topic = run.settings.kafka.wifi_probes_topic
    wait(lambda: rows("D", second_day).get("visits"), "the second day's visits")
    counts = wait(lambda: (c := redis.hgetall(INGEST_COUNTS)).get(f"{topic}:opted_out")
                  == str(c_reports) and c, "the opted-out reports counted",
                  show=lambda: {k: v for k, v in redis.hgetall(INGEST_COUNTS).items() if k.startswith(topic)})

    # C: counted the first day (before it opted out), nothing of its own the second.
    assert rows("C", first_day) and rows("C", second_day) == {}
    since = int((T0 + timedelta(days=1)).timestamp())
    assert ch.execute("SELECT count() FROM positions WHERE mall_id = %(m)s AND device_id = %(d)s "
                      "AND ts >= toDateTime(%(t)s)", {"m": mall.mall_id, "d": IDS["C"], "t": since})[0][0] == 0
    assert redis.hget(f"ff:{mall.mall_id}:favorite:{IDS['C']}", "day") != second_day.isoformat()
    assert not redis.hexists(f"ff:{mall.mall_id}:positions", IDS["C"])
    letters = [json.loads(m.value) for m in read_topic(run.settings, run.settings.kafka.dead_letters_topic)]
    assert not any(IDS["C"] in letter["raw"] or letter["reason"] == "opted_out" for letter in letters)
    dead = sum(1 for letter in letters if letter["source_topic"] == topic)
    assert int(counts[f"{topic}:accepted"]) + int(counts[f"{topic}:opted_out"]) + dead == \
        len(shopping("ABC", probe.ap_mac, T0)) + len(second)

    # The feed: only A, who consented; B counts all the same.
    feed = {m.key.decode(): m.value for m in read_topic(run.settings, run.settings.kafka.favorite_shops_topic)}
    assert set(feed) == {IDS["A"]}
    assert rows("B", first_day).get("favorite_shop_daily") == 1

