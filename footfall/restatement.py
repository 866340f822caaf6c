"""Provisional and final days (docs/metrics-job.md "Restatement"): which mall-days a
restatement may take, what it reads, and its bookkeeping in ClickHouse.

A mall's day is provisional while the live job may still change it; once closed
(FOOTFALL_RESTATE_CLOSE_HOURS after its local midnight) it is restated: the job's own SQL
run bounded over the day's reports (jobs/metrics/restate.py), its rows written over the
live ones with a version above any the live job writes, and the day recorded in
`restated_days`. From then on the live sinks leave the day alone (`FinalDays`). No PyFlink
import: the `footfall` command, the supervisor and the pages read this.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from footfall import clients
from footfall.expected import malls
from footfall.outputs import OUTPUTS, PROBES
from footfall.schema import postgres_schema
from footfall.settings import Settings

#: Every version a restatement writes is above this; the live sinks write epoch
#: nanoseconds (below 2**62 until the year 2116), so a final row always replaces a live one.
FINAL_VERSION_BASE = 1 << 63
#: The outputs a restatement writes: ClickHouse's upserted tables of one mall and day. Not
#: staff_detected (a rule over many days), the position history (live only), nor what
#: lives in Redis or on the feed.
RESTATED = tuple(o.name for o in OUTPUTS.values() if o.versioned and "day" in o.key and "mall_id" in o.key)
#: Seconds the live sinks keep their list of final days before reading it again; a
#: restatement deletes the live rows of a day no sooner than twice this after marking it.
FINAL_DAYS_REFRESH_S = 10.0

#: The states of a day in `restated_days` (the latest version of its row).
RESTATING, FINAL, FAILED = "restating", "final", "failed"


class Refused(ValueError):
    """A day that cannot be restated (not closed, or no longer held by the topics); the
    message is one line naming the day and why."""


@dataclass(frozen=True)
class MallDay:
    """One local day of one mall."""

    mall_id: str
    day: date
    tz: str

    def midnight_ms(self, days: int = 0) -> int:
        """Epoch ms of the local midnight that starts the day, `days` after."""
        local = datetime.combine(self.day + timedelta(days=days), clock(), ZoneInfo(self.tz))
        return int(local.timestamp() * 1000)

    def closes_ms(self, settings: Settings) -> int:
        return self.midnight_ms(1) + int(settings.restate.close_hours * 3_600_000)

    def reads_ms(self, settings: Settings) -> tuple[int, int]:
        """The event times whose reports a restatement reads: from the allowed lateness and
        the future tolerance before the day (a visit or a late rule that reaches across
        midnight) to its close."""
        job = settings.job
        lead = (job.allowed_lateness_seconds + job.future_tolerance_seconds) * 1000
        return self.midnight_ms() - lead, self.closes_ms(settings)

    def __str__(self) -> str:
        return f"{self.mall_id} {self.day.isoformat()}"


def check(mall_day: MallDay, settings: Settings, now_ms: int | None = None) -> None:
    """Raise Refused unless `mall_day` is closed and its reports are all within the input
    topics' retention (FOOTFALL_RETENTION_TOPICS_DAYS)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    closes = mall_day.closes_ms(settings)
    if closes > now_ms:
        at = datetime.fromtimestamp(closes / 1000, ZoneInfo(mall_day.tz)).strftime("%Y-%m-%d %H:%M %Z")
        raise Refused(f"{mall_day}: not closed until {at} (FOOTFALL_RESTATE_CLOSE_HOURS="
                      f"{settings.restate.close_hours:g}); nothing was restated")
    days = settings.privacy.retention_topics_days
    first, _ = mall_day.reads_ms(settings)
    if first < now_ms - days * 86_400_000:
        raise Refused(f"{mall_day}: the input topics keep {days} days (FOOTFALL_RETENTION_TOPICS_DAYS) and no "
                      f"longer hold all of this day's reports; nothing was restated")
    device_days = settings.privacy.retention_device_days
    if mall_day.midnight_ms(1) < now_ms - device_days * 86_400_000:
        raise Refused(f"{mall_day}: device-level rows are kept {device_days} days (FOOTFALL_RETENTION_DEVICE_DAYS) "
                      "and this day's would outlive that; nothing was restated")


#: The RESTATED outputs with a row per device: a device erased on request gets none back.
PER_DEVICE = tuple(o for o in RESTATED if "device_id" in OUTPUTS[o].key)


def erased_devices(settings: Settings) -> frozenset[str]:
    """Devices whose rows were erased on request (privacy_requests): their reports are
    still in the topics, and a restatement must not write their rows again (their counts
    stay, as an erasure leaves counts)."""
    with clients.postgres(settings.postgres) as conn:
        rows = conn.execute(f"SELECT DISTINCT device_id FROM {postgres_schema(settings.postgres)}.privacy_requests "
                            "WHERE kind = 'erase'").fetchall()
    return frozenset(device for (device,) in rows)


def mall_days(settings: Settings, mall_id: str, first: date, last: date) -> list[MallDay]:
    """The days `first`..`last` of a mall in PostgreSQL (ValueError if it has none such)."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    tz = dict(malls(settings)).get(mall_id)
    if tz is None:
        raise ValueError(f"--mall {mall_id}: no such mall in the layout")
    return [MallDay(mall_id, first + timedelta(days=n), tz) for n in range((last - first).days + 1)]


def mark(client: Any, mall_day: MallDay, state: str, version: int, reports: int = 0, seconds: float = 0.0) -> None:
    client.execute(
        "INSERT INTO restated_days (mall_id, day, state, restated_at, reports, seconds, version) VALUES",
        [[mall_day.mall_id, mall_day.day, state, datetime.now(UTC), reports, seconds, version]])


def states(client: Any, since: date) -> dict[tuple[str, date], str]:
    """The state of each restated mall-day since `since`."""
    rows = client.execute("SELECT mall_id, day, state FROM restated_days FINAL WHERE day >= %(since)s",
                          {"since": since})
    return {(m, d): s for m, d, s in rows}


#: What `recent` gives of each restatement, in order.
RECENT_COLUMNS = ("mall_id", "day", "state", "restated_at", "reports", "seconds")


def recent(client: Any, limit: int = 20) -> list[tuple[Any, ...]]:
    """The last restatements (RECENT_COLUMNS), newest first (the System page)."""
    rows: list[tuple[Any, ...]] = client.execute(f"SELECT {', '.join(RECENT_COLUMNS)} FROM restated_days FINAL "
                                                 "ORDER BY restated_at DESC LIMIT %(limit)s", {"limit": limit})
    return rows


def newest_reports(settings: Settings, mall_ids: list[str]) -> dict[str, int]:
    """Each mall's newest accepted probe report read by the live job (epoch ms, Redis
    PROBES): how far its reports have come."""
    redis = clients.redis_client(settings.redis)
    pipe = redis.pipeline()
    for mall_id in mall_ids:
        pipe.hvals(PROBES.format(mall_id=mall_id))
    return {m: max((int(v) for v in heard), default=0) for m, heard in zip(mall_ids, pipe.execute(), strict=True)}


def due(settings: Settings, now_ms: int | None = None) -> list[MallDay]:
    """Closed days of the last FOOTFALL_RESTATE_AUTO_DAYS of every mall that has live rows
    for them and is not final yet (nor given up on: a failed day waits for `footfall
    restate`), oldest first, within the topics' retention. Closed by the clock and by the
    reports: the live job has read one of the mall's past the day's close, so the topics
    hold the day whole (a probe reconnecting at night may still upload the evening's
    backlog while nothing newer came from its partition; a backfill sends a day long
    after it closed by the clock)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not settings.restate.auto_days:
        return []
    today = datetime.fromtimestamp(now_ms / 1000, UTC).date()
    since = today - timedelta(days=settings.restate.auto_days + 1)
    client = clients.clickhouse(settings.clickhouse)
    try:
        lived = client.execute("SELECT DISTINCT mall_id, day FROM mall_daily WHERE day >= %(since)s",
                               {"since": since})
        known = states(client, since)
    finally:
        client.disconnect()
    tz = dict(malls(settings))
    reached = newest_reports(settings, sorted({m for m, _ in lived if m in tz}))
    days = []
    for mall_id, day in sorted(lived, key=lambda r: (r[1], r[0])):
        if mall_id not in tz or known.get((mall_id, day)) in (FINAL, FAILED):
            continue
        mall_day = MallDay(mall_id, day, tz[mall_id])
        try:
            check(mall_day, settings, now_ms)
        except Refused:
            continue
        recent = mall_day.midnight_ms(1) >= now_ms - settings.restate.auto_days * 86_400_000
        if recent and reached[mall_id] >= mall_day.closes_ms(settings):
            days.append(mall_day)
    return days


class FinalDays:
    """The mall-days the live sinks no longer write (restated, or being restated), read
    from ClickHouse at most every FINAL_DAYS_REFRESH_S; while ClickHouse does not answer,
    the last list read."""

    def __init__(self, client: Any, clock_s: Any = time.monotonic) -> None:
        self.client, self.clock_s = client, clock_s
        self.days: frozenset[tuple[str, str]] = frozenset()
        self.read_at = float("-inf")

    def get(self) -> frozenset[tuple[str, str]]:
        if self.clock_s() - self.read_at >= FINAL_DAYS_REFRESH_S:
            rows = self.client.execute("SELECT mall_id, day, state FROM restated_days FINAL")
            self.days = frozenset((m, d.isoformat()) for m, d, s in rows if s in (RESTATING, FINAL))
            self.read_at = self.clock_s()
        return self.days
