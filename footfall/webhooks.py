"""Delivery of alert events (footfall/alerts.py): every row of alert_deliveries still to
go, to its target: the `alerts` topic (keyed by the alert id), the ClickHouse history,
the open alerts in Redis (the alert's current state, so order never matters) and each
webhook, POSTed as JSON with an HMAC-SHA256 signature of the body in
`X-Footfall-Signature: sha256=<hex>` and the event id in `X-Footfall-Event` (a receiver
that saw it already can drop it). A failed try is logged on its row and tried again
after a backoff that doubles, until FOOTFALL_ALERTS_WEBHOOK_ATTEMPTS."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from footfall import clients
from footfall.alerts import OPEN_ALERTS
from footfall.settings import Settings

SIGNATURE_HEADER = "X-Footfall-Signature"
EVENT_HEADER = "X-Footfall-Event"
#: How each kind sorts within one moment: an alert opens before it escalates or resolves.
KIND_ORDER = {"opened": 0, "escalated": 1, "resolved": 2}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def post(url: str, secret: str, event: dict[str, Any], timeout: float) -> str:
    """POST the event; its HTTP status, or raises OSError for a failed try."""
    body = body_of(event)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body),
        EVENT_HEADER: event["event_id"]})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return str(answer.status)
    except urllib.error.HTTPError as err:
        raise OSError(f"HTTP {err.code}") from None


def deliver(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Deliver what is due; returns {"delivered": n, "failed": n, "given_up": n}."""
    schema = settings.postgres.schema_name
    config = settings.alerts
    counts = {"delivered": 0, "failed": 0, "given_up": 0}
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        due = conn.execute(
            f'SELECT event_id, target, event, attempts FROM "{schema}".alert_deliveries '
            "WHERE delivered_at IS NULL AND NOT given_up AND next_try <= %s", (now or datetime.now(UTC),)).fetchall()
        due.sort(key=lambda row: (row[2]["at"], KIND_ORDER.get(row[2]["kind"], 9), row[1]))
        hooks = {f"webhook:{hook}": (url, secret) for hook, url, secret in
                 conn.execute(f'SELECT webhook_id, url, secret FROM "{schema}".webhooks')}
        producer = None
        try:
            for event_id, target, event, attempts in due:
                try:
                    if target == "kafka":
                        producer = producer or clients.kafka_producer(settings.kafka)
                        producer.send(settings.kafka.alerts_topic, key=event["alert_id"].encode(),
                                      value=body_of(event)).get(timeout=30)
                        status = "sent"
                    elif target == "clickhouse":
                        to_clickhouse(settings, event)
                        status = "written"
                    elif target == "redis":
                        to_redis(settings, conn, schema, event)
                        status = "written"
                    elif target in hooks:
                        url, secret = hooks[target]
                        status = post(url, secret, event, config.webhook_timeout_seconds)
                    else:
                        raise OSError("the webhook was removed")
                except Exception as err:  # noqa: BLE001 - any failure of a try: logged on its row, tried again
                    tries = attempts + 1
                    given_up = tries >= config.webhook_attempts
                    wait = timedelta(seconds=config.webhook_backoff_seconds * 2 ** (tries - 1))
                    conn.execute(
                        f'UPDATE "{schema}".alert_deliveries SET attempts = %s, status = %s, given_up = %s, '
                        "next_try = now() + %s WHERE event_id = %s AND target = %s",
                        (tries, f"{type(err).__name__}: {err}"[:500], given_up, wait, event_id, target))
                    counts["given_up" if given_up else "failed"] += 1
                    continue
                conn.execute(
                    f'UPDATE "{schema}".alert_deliveries SET attempts = attempts + 1, status = %s, '
                    "delivered_at = now() WHERE event_id = %s AND target = %s", (status, event_id, target))
                counts["delivered"] += 1
        finally:
            if producer is not None:
                producer.close()
    return counts


def to_clickhouse(settings: Settings, event: dict[str, Any]) -> None:
    def when(text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)

    clients.clickhouse(settings.clickhouse).execute(
        "INSERT INTO alerts (event_id, alert_id, kind, rule, mall_id, subject, severity, value, threshold, at, "
        "opened_at) VALUES",
        [(event["event_id"], event["alert_id"], event["kind"], event["rule"], event["mall_id"], event["subject"],
          event["severity"], float(event["value"]), float(event["threshold"]), when(event["at"]),
          when(event["opened_at"]))])


def to_redis(settings: Settings, conn: Any, schema: str, event: dict[str, Any]) -> None:
    """The open alerts hash follows the alert's state now, whatever the order of events."""
    row = conn.execute(f'SELECT status FROM "{schema}".alerts WHERE alert_id = %s', (event["alert_id"],)).fetchone()
    redis = clients.redis_client(settings.redis)
    try:
        if row and row[0] == "open" and event["kind"] != "resolved":
            redis.hset(OPEN_ALERTS, event["alert_id"], body_of(event))
        elif not row or row[0] != "open":
            redis.hdel(OPEN_ALERTS, event["alert_id"])
    finally:
        redis.close()
