"""Alerts on the real stores (footfall/alerts.py, footfall/webhooks.py): a mall's occupancy
goes over its capacity and back, as the job's live state says it; answers worked out by
hand: one alert opens (after its hold), turns critical, resolves once below the clear
level and never flaps in between. Its three events reach a real HTTP receiver on
127.0.0.1, signed with the webhook's secret (the receiver checks), once each, the first
after the receiver refused it once; the `alerts` topic, the ClickHouse history and the
open alerts in Redis agree. The same readings evaluated again (a restart, a replay of the
job) send nothing more."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from footfall import alerts, clients, webhooks
from footfall.outputs import PROBES, TODAY
from footfall.settings import KafkaSettings, Settings
from ops import bootstrap
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.helpers import footfall, own_mall, read_topic

pytestmark = pytest.mark.integration

SECRET = "test-secret-of-the-receiver"
T0 = datetime(2031, 5, 6, 12, 0, tzinfo=UTC)
#: (seconds after T0, devices with a live position) with a capacity of 100, warning 80 %,
#: critical 95 %, clear below 70 %, hold 60 s; and what each reading raises.
READINGS = [
    (0, 85, None),            # over the warning: pending
    (30, 90, None),           # held 30 s
    (61, 84, "opened"),       # held 61 s: opens, warning
    (90, 79, None),           # under the warning, over the clear level: stays open
    (120, 96, "escalated"),   # critical
    (150, 75, None),          # still over the clear level
    (180, 69, "resolved"),    # under it
    (200, 81, None),          # over the warning again: pending only
    (210, 60, None),          # gone before its hold: nothing
]


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver: refuses the first POST (503), takes the others, checking each
    signature against the secret."""

    got: list[dict[str, Any]] = []
    refused = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(self.headers[webhooks.SIGNATURE_HEADER], expected):
            self.send_response(401)
        elif not Receiver.refused:
            Receiver.refused += 1
            self.send_response(503)
        else:
            event = json.loads(body)
            assert self.headers[webhooks.EVENT_HEADER] == event["event_id"]
            Receiver.got.append(event)
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.got, Receiver.refused = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture
def mall(stack: Settings, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, str, dict]]:
    """A mall of the test's own, loaded (so with its default rules), capacity 100, and an
    alerts topic of the test's own; deliveries retried at once."""
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FOOTFALL_ALERTS_WEBHOOK_BACKOFF_SECONDS", "0")
    settings = Settings()
    bootstrap.kafka_topics(settings.kafka)
    layout_mall = own_mall(247, f"-{unique}")
    load_layout(Layout((layout_mall,)), settings.postgres)
    env = {name: value for name, value in KafkaSettings.topics_environment(unique).items()}
    yield settings, layout_mall.mall_id, env
    schema = settings.postgres.schema_name
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        conn.execute(f'DELETE FROM "{schema}".alert_deliveries WHERE event->>%s = %s', ("mall_id", layout_mall.mall_id))
        conn.execute(f'DELETE FROM "{schema}".webhooks WHERE url LIKE %s', ("http://127.0.0.1:%/hook",))
    remove_malls([layout_mall.mall_id], settings.postgres)
    redis = clients.redis_client(settings.redis)
    redis.delete(TODAY.format(mall_id=layout_mall.mall_id))
    redis.hdel(alerts.OPEN_ALERTS, f"occupancy/{layout_mall.mall_id}/")


def live(settings: Settings, mall_id: str, devices: int, at: datetime) -> None:
    """The job's live state of the mall, as its Redis sink writes it."""
    clients.redis_client(settings.redis).hset(TODAY.format(mall_id=mall_id), mapping={
        "day": at.date().isoformat(), "occupancy": devices,
        "occupancy_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")})


def test_occupancy_opens_once_escalates_resolves_once_and_a_replay_sends_nothing_more(mall, receiver) -> None:
    settings, mall_id, env = mall
    for args in (["capacity", "--mall", mall_id, "--people", "100"],
                 ["webhook", "--url", receiver, "--secret", SECRET]):
        done = footfall("alerts", *args, env=env)
        assert done.returncode == 0, done.stderr
    # The defaults a mall gets when it is loaded, with a hold made shorter for the test.
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        conn.execute(f'UPDATE "{settings.postgres.schema_name}".alert_rules SET hold_seconds = 60 '
                     "WHERE mall_id = %s AND rule = 'occupancy'", (mall_id,))
    raised = []
    for _ in range(2):  # the second pass: the same readings again, as after a replay
        for seconds, devices, _kind in READINGS:
            live(settings, mall_id, devices, T0 + timedelta(seconds=seconds))
            raised += [e["kind"] for e in alerts.evaluate(settings, now=T0, mall_id=mall_id)
                       if e["rule"] == "occupancy"]
            webhooks.deliver(settings)
    wanted = [kind for _, _, kind in READINGS if kind]
    assert raised == wanted * 2  # evaluated again, the same events: their ids are the same
    webhooks.deliver(settings)

    # The receiver: each event once, in order, signed; the first was refused once and tried
    # again. (A webhook hears every mall: only this one's are the test's.)
    got = [e for e in Receiver.got if e["mall_id"] == mall_id]
    assert Receiver.refused == 1
    assert [(e["kind"], e["severity"]) for e in got] == [
        ("opened", "warning"), ("escalated", "critical"), ("resolved", "critical")]
    opened, escalated, resolved = got
    assert opened["alert_id"] == f"occupancy/{mall_id}/" and opened["value"] == 84 and opened["threshold"] == 80
    assert opened["opened_at"] == opened["at"] == (T0 + timedelta(seconds=61)).isoformat()
    assert escalated["threshold"] == 95 and resolved["value"] == 69
    assert len({e["event_id"] for e in got}) == 3
    schema = settings.postgres.schema_name
    with clients.postgres(settings.postgres) as conn:
        tries = conn.execute(f'SELECT attempts, status, delivered_at IS NOT NULL FROM "{schema}".alert_deliveries '
                             "WHERE event_id = %s AND target LIKE 'webhook:%%'", (opened["event_id"],)).fetchall()
        assert tries == [(2, "204", True)]
        state = conn.execute(f'SELECT status, resolved_at FROM "{schema}".alerts WHERE alert_id = %s',
                             (opened["alert_id"],)).fetchone()
    assert state == ("ok", T0 + timedelta(seconds=180))

    # The topic, the history and the open alerts agree.
    topic = [json.loads(m.value) for m in read_topic(settings, settings.kafka.alerts_topic)]
    assert [e["event_id"] for e in topic if e["mall_id"] == mall_id] == [e["event_id"] for e in got]
    history = clients.clickhouse(settings.clickhouse).execute(
        "SELECT kind, severity, value FROM alerts FINAL WHERE mall_id = %(m)s ORDER BY at", {"m": mall_id})
    assert history == [("opened", "warning", 84.0), ("escalated", "critical", 96.0), ("resolved", "critical", 69.0)]
    assert not clients.redis_client(settings.redis).hexists(alerts.OPEN_ALERTS, opened["alert_id"])


def test_the_open_alert_is_listed_and_acknowledged(mall) -> None:
    settings, mall_id, env = mall
    assert footfall("alerts", "capacity", "--mall", mall_id, "--people", "10", env=env).returncode == 0
    live(settings, mall_id, 12, T0)
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        conn.execute(f'UPDATE "{settings.postgres.schema_name}".alert_rules SET hold_seconds = 0 '
                     "WHERE mall_id = %s", (mall_id,))
    assert [e["kind"] for e in alerts.evaluate(settings, now=T0, mall_id=mall_id)] == ["opened"]
    webhooks.deliver(settings)
    alert_id = f"occupancy/{mall_id}/"
    assert json.loads(clients.redis_client(settings.redis).hget(alerts.OPEN_ALERTS, alert_id))["severity"] == "critical"
    listed = footfall("alerts", "list", "--mall", mall_id, env=env)
    assert alert_id in listed.stdout and "critical" in listed.stdout
    acked = footfall("alerts", "ack", "--id", alert_id, "--by", "ops", env=env)
    assert acked.returncode == 0 and "acknowledged" in acked.stdout
    again = footfall("alerts", "ack", "--id", "occupancy/no-such-mall/", env=env)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "no open alert" in again.stderr


def test_a_probe_silent_past_its_limit_while_its_neighbours_hear_and_a_mall_gone_dark(mall) -> None:
    """The job's newest report per probe (`ff:{mall}:probes`): 15 minutes is the limit. One
    probe 20 minutes behind its neighbours is silent; heard again, it is not. Then every
    probe stops: against one another none is silent, but the mall usually has visitors at
    this hour (its expected footfall), so against the clock all are."""
    settings, mall_id, _env = mall
    schema = settings.postgres.schema_name
    with clients.postgres(settings.postgres) as conn:
        probes = [ap for (ap,) in conn.execute(f'SELECT ap_mac FROM "{schema}".probes WHERE mall_id = %s '
                                                "ORDER BY ap_mac", (mall_id,))]
        (tz,) = conn.execute(f'SELECT tz FROM "{schema}".malls WHERE mall_id = %s', (mall_id,)).fetchone()
    quiet, others = probes[0], probes[1:]
    redis = clients.redis_client(settings.redis)
    key = PROBES.format(mall_id=mall_id)
    heard = int(T0.timestamp() * 1000)

    def evaluate(now: datetime) -> list[tuple[str, str]]:
        return [(e["kind"], e["subject"]) for e in alerts.evaluate(settings, now=now, mall_id=mall_id)
                if e["rule"] == "probe_silent"]

    try:
        redis.hset(key, mapping={**{ap: heard for ap in others}, quiet: heard - 20 * 60_000})
        assert evaluate(T0) == [("opened", quiet)]
        assert evaluate(T0) == []  # evaluated again: nothing new
        redis.hset(key, quiet, heard)
        assert evaluate(T0) == [("resolved", quiet)]
        # The whole mall quiet for 30 minutes: not judged while its hour usually brings nobody...
        later = T0 + timedelta(minutes=30)
        local = later.astimezone(ZoneInfo(tz))
        assert evaluate(later) == []
        # ...judged against the clock when it usually has visitors then.
        # (40 an hour, this hour and the one before: 10 over any 15 minutes.)
        clients.clickhouse(settings.clickhouse).execute(
            "INSERT INTO expected_hourly (mall_id, day, shop_code, hour, baseline, low, high, expected, weeks, "
            "computed_at) VALUES", [(mall_id, local.date(), "", hour, 40.0, 30.0, 50.0, 40.0, 4,
                                     later.replace(tzinfo=None)) for hour in {max(local.hour - 1, 0), local.hour}])
        assert sorted(evaluate(later)) == sorted(("opened", ap) for ap in probes)
    finally:
        redis.delete(key)
        for ap in probes:
            redis.hdel(alerts.OPEN_ALERTS, f"probe_silent/{mall_id}/{ap}")
