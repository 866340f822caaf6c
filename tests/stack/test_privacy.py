"""Privacy requests on the real stores (docs/privacy.md): a device with visits, a
favourite, repeat shops, positions (history and live), staff rows and a feed message,
written through the job's own sink, is exported and then erased with `footfall privacy`;
afterwards every ClickHouse table, every Redis key, every PostgreSQL table and the latest
message per key of the feed are scanned for its device id. The retention removes what is
older than its class allows, on a ClickHouse database of the test's own."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest

from footfall import clients, consent, retention
from footfall.schema import postgres_schema
from footfall.settings import ClickHouseSettings, KafkaSettings, Settings
from footfall.staff import Override, set_override
from jobs.metrics.sinks import SinkConfig, Writers
from ops import bootstrap
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.dashboards.conftest import publish_feed
from tests.helpers import footfall, own_mall, read_topic

pytestmark = pytest.mark.integration

DAY = date(2031, 4, 2)


@pytest.fixture
def held(stack: Settings, unique: str, monkeypatch):  # type: ignore[no-untyped-def]
    """Two devices of a mall of the test's own with rows in every store: `gone` is to be
    erased, `kept` is not; and the mall's day of counts."""
    env = KafkaSettings.topics_environment(unique)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    bootstrap.kafka_topics(settings.kafka)
    mall = own_mall(246, f"-{unique}")
    load_layout(Layout((mall,)), settings.postgres)
    gone, kept = (f"{n}{unique}".ljust(16, "0")[:16] for n in "ab")
    shop = mall.shops[0]
    m, d = mall.mall_id, DAY.isoformat()
    writers = Writers(SinkConfig(clickhouse=settings.clickhouse, redis=settings.redis, postgres=settings.postgres))
    writers.write("mall_daily", [{"mall_id": m, "day": d, "visitors": 2, "new_visitors": 2, "returning_visitors": 0,
                                  "randomized_devices": 0, "door_entries": 5, "devices_seen": 2, "passers_by": 0,
                                  "staff_devices": 1}], [])
    noon = int(time.mktime(DAY.timetuple())) + 12 * 3600
    favourite = {"mall_id": m, "day": d, "shop_code": shop.shop_code, "shop_name": shop.shop_name, "visits": 2,
                 "dwell_seconds": 900, "updated_at": "2031-04-02T18:00:00.000Z"}
    for device in (gone, kept):
        writers.write("visits", [{"mall_id": m, "day": d, "shop_code": code, "device_id": device,
                                  "started_at": noon, "shop_name": name, "dwell_seconds": 600}
                                 for code, name in (("", ""), (shop.shop_code, shop.shop_name))], [])
        writers.write("favorite_shop_daily", [{**favourite, "device_id": device}], [])
        writers.write("repeat_shops_daily", [{"mall_id": m, "day": d, "device_id": device, "shop_code": shop.shop_code,
                                              "shop_name": shop.shop_name, "visits": 2}], [])
        writers.write("positions", [{"mall_id": m, "ts": int(time.time()) - 5, "device_id": device, "x": 10.0,
                                     "y": 5.0, "zone": shop.shop_code}], [])
        writers.write("staff_detected", [{"mall_id": m, "device_id": device, "qualified_day": d, "since_day": d}], [])
        set_override(settings.postgres, Override(m, device, True, None, "test"))
        publish_feed(settings, [{**favourite, "device_id": device}])
    writers.close()
    yield settings, mall, gone, kept
    remove_malls([m], settings.postgres)
    redis = clients.redis_client(settings.redis)
    if keys := redis.keys(f"ff:{m}:*"):
        redis.delete(*keys)


def mentions(settings: Settings, device: str) -> dict[str, int]:
    """Where the device id appears: ClickHouse tables (any String column), Redis keys (in
    the name, a hash's fields or values, a sorted set's members), PostgreSQL tables (any
    text column), and the latest message of its key on the feed."""
    found: dict[str, int] = {}
    ch = clients.clickhouse(settings.clickhouse)
    columns: dict[str, list[str]] = {}
    for table, column in ch.execute("SELECT table, name FROM system.columns WHERE database = %(db)s AND "
                                    "type = 'String'", {"db": settings.clickhouse.database}):
        columns.setdefault(table, []).append(column)
    engines = dict(ch.execute("SELECT name, engine FROM system.tables WHERE database = %(db)s",
                              {"db": settings.clickhouse.database}))
    for table, names in columns.items():
        if engines.get(table) == "View":
            continue  # views read the tables scanned here
        where = " OR ".join(f"{c} = %(d)s" for c in names)
        if count := ch.execute(f"SELECT count() FROM {table} WHERE {where}", {"d": device})[0][0]:
            found[f"clickhouse.{table}"] = count
    redis = clients.redis_client(settings.redis)
    for key in redis.scan_iter(match="ff:*", count=1000):
        kind = redis.type(key)
        if device in key:
            found[f"redis.{key}"] = 1
        elif kind == "hash" and any(device in f or device in v for f, v in redis.hgetall(key).items()):
            found[f"redis.{key}"] = 1
        elif kind == "zset" and redis.zscore(key, device) is not None:
            found[f"redis.{key}"] = 1
    schema = postgres_schema(settings.postgres)
    with clients.postgres(settings.postgres) as conn:
        text_columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                    "WHERE table_schema = %s AND data_type = 'text'", (schema,)).fetchall()
        for table, column in text_columns:
            if table == "privacy_requests":
                continue  # the log of requests answered: by device id, kept to show it was done
            if count := conn.execute(f"SELECT count(*) FROM {schema}.{table} WHERE {column} = %s",
                                     (device,)).fetchone()[0]:
                found[f"postgres.{table}"] = count
    latest = {m.key.decode(): m.value for m in read_topic(settings, settings.kafka.favorite_shops_topic)}
    if latest.get(device) is not None:
        found["kafka.favorite-shops"] = 1
    return found


def test_an_erased_device_is_nowhere_and_the_counts_stay(held, tmp_path) -> None:
    settings, mall, gone, kept = held
    before = mentions(settings, gone)
    assert {"clickhouse.visits", "clickhouse.favorite_shop_daily", "clickhouse.repeat_shops_daily",
            "clickhouse.positions", "clickhouse.staff_detected", "postgres.staff_detected",
            "postgres.staff_overrides", "kafka.favorite-shops", f"redis.ff:{mall.mall_id}:favorite:{gone}",
            f"redis.ff:{mall.mall_id}:positions"} <= set(before), before
    counts = clients.clickhouse(settings.clickhouse).execute(
        "SELECT * FROM mall_daily FINAL WHERE mall_id = %(m)s", {"m": mall.mall_id})

    exported = footfall("privacy", "export", "--device-id", gone, "--out", str(tmp_path / "held.json"))
    assert exported.returncode == 0, exported.stderr
    document = json.loads((tmp_path / "held.json").read_text())
    assert document["device_id"] == gone
    assert {"clickhouse.visits", "clickhouse.positions", "postgres.staff_overrides",
            f"redis.ff:{mall.mall_id}:favorite:{gone}"} <= set(document["held"])
    assert len(document["held"]["clickhouse.visits"]) == 2

    erased = footfall("privacy", "erase", "--device-id", gone)
    assert erased.returncode == 0, erased.stderr
    assert mentions(settings, gone) == {}
    # The other device keeps everything.
    assert set(mentions(settings, kept)) == {where.replace(gone, kept) for where in before}
    redis = clients.redis_client(settings.redis)
    assert redis.hlen(f"ff:{mall.mall_id}:positions") == 1 and redis.hget(f"ff:{mall.mall_id}:today",
                                                                            "occupancy") == "1"
    assert clients.clickhouse(settings.clickhouse).execute(
        "SELECT * FROM mall_daily FINAL WHERE mall_id = %(m)s", {"m": mall.mall_id}) == counts

    logged = [(kind, device, rows) for _, kind, device, rows in consent.requests(settings.postgres, gone)]
    assert [kind for kind, *_ in logged] == ["export", "erase"]
    assert logged[1][2]["clickhouse.visits"] == 2 and logged[1][2]["postgres.staff_overrides"] == 1


def test_a_mac_is_hashed_as_the_job_does_and_a_bad_one_is_one_line(held) -> None:
    settings, *_ = held
    from udfs.identity import device_id

    mac = "00:16:3E:AA:BB:0C"
    done = footfall("privacy", "opt-out", "--mac", mac)
    assert done.returncode == 0, done.stderr
    device = device_id(settings.metrics.salt_value(settings.stack.var_dir), mac.lower())
    assert f"{device} opted out" in done.stdout and mac.lower() not in done.stdout.lower()
    with clients.postgres(settings.postgres) as conn:
        schema = postgres_schema(settings.postgres)
        assert conn.execute(f"SELECT count(*) FROM {schema}.privacy_opt_outs WHERE device_id = %s",
                            (device,)).fetchone()[0] == 1
        texts = conn.execute(f"SELECT rows::text, device_id FROM {schema}.privacy_requests").fetchall()
    assert not any(mac.lower() in " ".join(t).lower() for t in texts)
    assert footfall("privacy", "opt-in", "--mac", mac).returncode == 0
    bad = footfall("privacy", "erase", "--mac", "not-a-mac")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "privacy erase" in bad.stderr
    missing = footfall("privacy", "export")
    assert missing.returncode == 1 and "give --mac or --device-id" in missing.stderr


@pytest.fixture
def scratch(stack: Settings, unique: str, monkeypatch):  # type: ignore[no-untyped-def]
    """The stack with a ClickHouse database of the test's own: enforcing the retention
    there touches no other test's rows."""
    monkeypatch.setenv(ClickHouseSettings.env_name("database"), f"retention_{unique}")
    settings = Settings()
    bootstrap.clickhouse_tables(settings.clickhouse, settings.metrics)
    yield settings
    clients.clickhouse(settings.clickhouse, database="").execute(f"DROP DATABASE IF EXISTS retention_{unique}")


def test_the_retention_removes_only_what_is_older_than_its_class_allows(scratch) -> None:
    settings, today = scratch, date.today()
    writers = Writers(SinkConfig(clickhouse=settings.clickhouse, redis=settings.redis, postgres=settings.postgres))
    old, recent = today - timedelta(days=181), today - timedelta(days=179)
    for day in (old, recent):
        writers.write("visits", [{"mall_id": "m", "day": day.isoformat(), "shop_code": "", "device_id": "d",
                                  "started_at": int(time.mktime(day.timetuple())), "shop_name": "",
                                  "dwell_seconds": 60}], [])
        writers.write("mall_daily", [{"mall_id": "m", "day": day.isoformat(), "visitors": 1, "new_visitors": 1,
                                      "returning_visitors": 0, "randomized_devices": 0, "door_entries": 0,
                                      "devices_seen": 1, "passers_by": 0, "staff_devices": 0}], [])
    ch = clients.clickhouse(settings.clickhouse)
    for back in (8, 6):
        at = int(time.time()) - back * 86400
        ch.execute("INSERT INTO positions (mall_id, ts, device_id, x, y, zone) VALUES",
                   [("m", at, "d", 1.0, 1.0, "corridor")])
    writers.close()
    assert [(c.name, o) for c, (n, days, o) in zip(retention.CLASSES, retention.oldest_days(settings), strict=True)] \
        == [(retention.DEVICE.name, old), (retention.POSITIONS.name, today - timedelta(days=8))]

    done = footfall("privacy", "enforce", env={ClickHouseSettings.env_name("database"): settings.clickhouse.database})
    assert done.returncode == 0, done.stderr
    assert "visits 1 rows" in done.stdout and "positions 1 rows" in done.stdout
    assert ch.execute("SELECT day FROM visits") == [(recent,)]
    assert ch.execute("SELECT toDate(ts) FROM positions") == [(today - timedelta(days=6),)]
    assert len(ch.execute("SELECT day FROM mall_daily")) == 2  # counts hold no person: kept
    assert retention.enforce(settings) == {}  # nothing more is due


@pytest.fixture
def page(stack: Settings, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """`footfall privacy serve` on a port of its own, as a shopper's browser reaches it."""
    import subprocess
    import sys
    import urllib.request

    from tests.helpers import ROOT, free_port

    port = free_port()
    monkeypatch.setenv("FOOTFALL_PRIVACY_PORT", str(port))
    log = tmp_path / "privacy.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ops", "privacy", "serve"], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    yield url, log
    process.terminate()
    process.wait(10)


def test_a_shopper_opts_out_on_the_public_page_and_a_portal_gives_consent_over_http(page, stack) -> None:
    import urllib.error
    import urllib.parse
    import urllib.request

    from udfs.identity import device_id

    url, log = page
    mac = "00:16:3E:AA:BB:0D"
    # The salt the page's process reads: from the environment as it is now (a fixture of the
    # session may have set FOOTFALL_SALT since the stack's settings were read), or var/salt.
    now = Settings()
    device = device_id(now.metrics.salt_value(now.stack.var_dir), mac.lower())
    shown = urllib.request.urlopen(url).read().decode()
    assert "Stop counting my phone" in shown and "random address" in shown

    form = urllib.parse.urlencode({"mac": mac, "action": "opt-out"}).encode()
    said = urllib.request.urlopen(url, data=form).read().decode()
    assert "no longer counted" in said and mac.lower() not in said.lower()
    request = urllib.request.Request(f"{url}/api/consent", data=json.dumps({"mac": mac}).encode(),
                                     headers={"Content-Type": "application/json"})
    assert json.loads(urllib.request.urlopen(request).read())["device_id"] == device
    with clients.postgres(stack.postgres) as conn:
        schema = postgres_schema(stack.postgres)
        assert [conn.execute(f"SELECT count(*) FROM {schema}.{t} WHERE device_id = %s", (device,)).fetchone()[0]
                for t in ("privacy_opt_outs", "privacy_consents")] == [1, 1]
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.urlopen(url, data=urllib.parse.urlencode({"mac": "my phone", "action": "opt-out"}).encode())
    assert bad.value.code == 400 and "not a WiFi address" in bad.value.read().decode()
    for action in ("opt-in", "withdraw"):
        urllib.request.urlopen(url, data=urllib.parse.urlencode({"mac": mac, "action": action}).encode())
    assert consent.requests(stack.postgres, device)[-1][1] == "withdraw"
    assert mac.lower() not in log.read_text().lower()  # the server's log names no MAC
