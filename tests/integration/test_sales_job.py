"""Sales end to end on the real stack, with answers worked out by hand: the tills of one
mall stream a sale sent twice, a refund, a transaction half an hour late (inside the
allowed lateness) and one seventy minutes late (outside it), one in another currency and
one of a shop the mall does not have; a file of transactions is imported, one of them
already streamed; a file with a bad row is refused whole. What the job writes to
ClickHouse, Redis and the dead letters is then what the hand says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from footfall import clients
from footfall.outputs import DEAD_LETTER_COUNTS, INGEST_COUNTS, SALES
from footfall.settings import Topics
from simulators.records import Record
from tests.helpers import footfall, read_topic
from tests.integration.endtoend import Run, Runs

pytestmark = pytest.mark.integration


@pytest.fixture
def run(runs: Runs) -> Iterator[Run]:
    yield runs.new("sales")


def message(transaction_id: str, mall_id: str, shop_code: str, at: datetime, amount_minor: int, items: int,
            currency: str = "EUR") -> dict[str, object]:
    return {"transaction_id": transaction_id, "mall_id": mall_id, "shop_code": shop_code,
            "occur_time": int(at.timestamp() * 1000), "amount_minor": amount_minor, "currency": currency,
            "items": items, "till_id": f"{shop_code}-1"}


def records(messages: list[dict[str, object]]) -> list[Record]:
    return [Record(Topics.POS_TRANSACTIONS, str(m["till_id"]).encode(), json.dumps(m).encode(), 0.0, "sale")
            for m in messages]


def wait(condition, what, timeout: float = 180):  # type: ignore[no-untyped-def]
    """`condition`'s value once it is true; `what` names it, or is called to, when it never is."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what() if callable(what) else what}: not within {timeout:.0f} s"
        time.sleep(0.5)
    return value


def test_tills_streamed_and_imported_count_as_worked_out_by_hand(run: Run, metrics_job, tmp_path: Path) -> None:
    mall = run.layout.malls[0]  # Amsterdam: its tills report in euros
    assert mall.currency == "EUR"
    s1, s2 = mall.shops[0].shop_code, mall.shops[1].shop_code
    day = datetime(2025, 6, 3, tzinfo=ZoneInfo(mall.tz))  # gone by: no report is ahead of the clock

    def at(hour: int, minute: int) -> datetime:
        return day + timedelta(hours=hour, minutes=minute)

    m = mall.mall_id
    t1 = message("t1", m, s1, at(10, 5), 1250, 2)
    streamed = [
        t1, message("t2", m, s1, at(10, 20), 3000, 1),
        t1,  # sent again: counts once
        message("r1", m, s1, at(10, 40), -500, 1),  # a refund
        message("t3", m, s2, at(12, 0), 725, 3),  # the newest so far
        message("t4", m, s1, at(11, 30), 2000, 1),  # 30 minutes behind it: inside the hour's lateness
        message("t5", m, s1, at(10, 50), 9900, 1),  # 70 minutes behind: late
        message("t7", m, s1, at(12, 1), 800, 1, currency="USD"),  # not the mall's currency
        message("t8", m, "NOPE", at(12, 2), 800, 1),  # no such shop
    ]
    columns = ("transaction_id", "mall_id", "shop_code", "occur_time", "amount_minor", "currency", "items")
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(columns) + f"\nt9,{m},{s2},{at(12, 5).isoformat()},1500,EUR,2\n"
                   f"t10,{m},{s2},{at(12, 6).isoformat()},12.50,EUR,1\n")
    good = tmp_path / "good.csv"
    good.write_text(",".join(columns) + f"\nt6,{m},{s2},{at(12, 10).isoformat()},1500,EUR,2\n"
                    f"t3,{m},{s2},{int(at(12, 0).timestamp() * 1000)},725,EUR,3\n")  # streamed already

    job = metrics_job(run)
    assert job is not None
    run.publish(records(streamed))
    topic = run.settings.kafka.pos_transactions_topic

    refused = footfall("pos", "import", str(bad), env=run.env)
    assert refused.returncode == 1
    assert f"{bad}: line 3, amount_minor: '12.50' is not a whole number" in refused.stderr
    assert "1 bad row; nothing was imported" in refused.stderr and "Traceback" not in refused.stderr
    assert len(read_topic(run.settings, topic)) == len(streamed)  # nothing of the bad file
    imported = footfall("pos", "import", str(good), env=run.env)
    assert imported.returncode == 0, imported.stderr
    assert f"imported 2 transactions from {good} to {topic} ({m}: 2)" in imported.stdout
    # Its day is long gone by the clock, so it is warned of; the job judges by the partition.
    assert "warning: 2 transactions are more than the allowed lateness (3600 s) old" in imported.stderr

    ch = clients.clickhouse(run.settings.clickhouse)
    redis = clients.redis_client(run.settings.redis)
    # Worked out by hand. S1 at 10:00: t1 (12.50, 2 items) and t2 (30.00, 1 item) sold, 5.00
    # given back (r1), net 37.50; at 11:00 t4, late but inside the lateness. S2 at 12:00: t3
    # (7.25, 3 items) and t6 (15.00, 2 items) from the file, t3's copy in it counting once.
    want = {
        (10, s1): (2, 3, 1, 500, 3750),
        (11, s1): (1, 1, 0, 0, 2000),
        (12, s2): (2, 5, 0, 0, 2225),
    }

    def hours() -> dict[tuple[int, str], tuple[int, ...]]:
        rows = ch.execute("SELECT hour, shop_code, transactions, items, refunds, refunded_minor, sales_minor "
                          "FROM sales_hourly FINAL WHERE mall_id = %(m)s AND day = %(d)s",
                          {"m": m, "d": day.date()})
        return {(int(h), s): tuple(int(v) for v in rest) for h, s, *rest in rows}

    wait(lambda: hours() == want, lambda: f"sales_hourly as worked out by hand (last read {hours()})")
    # Redis is written by a sink of its own, flushed apart from ClickHouse's: wait on it too.
    live_want = {
        "day": day.date().isoformat(), "currency": "EUR",
        s1: {"transactions": 3, "items": 4, "refunds": 1, "refunded_minor": 500, "sales_minor": 5750},
        s2: {"transactions": 2, "items": 5, "refunds": 0, "refunded_minor": 0, "sales_minor": 2225},
    }

    def live() -> dict[str, object]:
        got = redis.hgetall(SALES.format(mall_id=m))
        return {k: json.loads(got[k]) if k in (s1, s2) and k in got else got.get(k) for k in live_want}

    wait(lambda: live() == live_want, lambda: f"the live day in Redis as worked out by hand (last read {live()})")
    rejected = wait(lambda: (c := redis.hgetall(DEAD_LETTER_COUNTS)) and all(
        f"{topic}:{reason}" in c for reason in ("late", "wrong_currency", "unknown_shop")) and c, "the dead letters")
    assert {k.split(":")[-1]: int(v) for k, v in rejected.items() if k.startswith(f"{topic}:")} == {
        "late": 1, "wrong_currency": 1, "unknown_shop": 1}
    letters = [json.loads(x.value) for x in read_topic(run.settings, run.settings.kafka.dead_letters_topic)]
    assert sorted(json.loads(x["raw"])["transaction_id"] for x in letters if x["source_topic"] == topic) == [
        "t5", "t7", "t8"]
    # Every message accounted for: 6 streamed and 2 imported accepted, copies included.
    assert wait(lambda: redis.hget(INGEST_COUNTS, f"{topic}:accepted") == "8", "the accepted count")
