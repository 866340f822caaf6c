"""Alerts: the rules of each mall (PostgreSQL alert_rules) evaluated on what the job has
written, and the events they raise (docs/design.md §4 item 17).

Two rules:

- **occupancy**: the estimated people in the mall now (the devices with a live
  position, `ff:{mall}:today` occupancy, times the day's people per visitor) or in a shop
  (its zone's devices, `ff:{mall}:zones`) as a share of its capacity. It opens at the
  warning share once that has lasted `hold_seconds` (on the time the job stamped the
  occupancy), turns critical at the critical share, and resolves only below the clear
  share, lower than the warning: a count hovering at the line neither flaps nor pages
  twice.
- **footfall_band**: the visitors of the mall's last closed hour outside the expected
  band (footfall/expected.py), by at least `min_size` visitors, two hours in a row (its
  hold, an hour): a spike or a dip. It resolves when a later closed hour is back inside.
- **probe_silent**: a probe whose newest report (`ff:{mall}:probes`, on event time) is
  more than `warning` seconds (15 minutes) behind the newest of its mall's probes: its
  neighbours hear devices, it does not; judged while the mall usually has visitors
  (DARK_MALL_VISITORS or more over that span, by the expected footfall; always for a mall
  with no expectation yet), the silence counted from when it became usually busy. When
  the whole mall has heard nothing for that long while usually busy, the clock is the
  yardstick instead, so a mall gone dark as a whole is noticed too. One alert per probe
  (subject: its ap_mac); a probe never heard since the job began is not judged.
- **door_silent**: the same for each door counter (`ff:{mall}:doors`, subject: its
  sensor_id), 30 minutes by default, behind the newest report of any kind in its mall (a
  mall whose counters all died still has probes that hear devices).
- **probe_degraded**: a probe's share of its mall's reports in the last closed hour
  (ClickHouse `probe_hourly`) under `warning` (30 %) of its usual share for that hour
  (the median of the last 7 days'): its antenna or its cable hears less than it did. An
  hour in which the probe would usually make fewer than `min_size` reports is not
  judged; it resolves when an hour is back over `clear` of the usual share.
- **unregistered_probe**: reports from a probe the layout does not have (the job keeps
  each one's newest report and count, `ff:unknown_probes`): at least `min_size` (10)
  reports, the newest within `warning` (an hour) of the clock. It is the installation's,
  not a mall's (such a report names no mall): mall_id '', subject its ap_mac, evaluated
  with the defaults whenever every mall is. It resolves once the probe is registered or
  has been silent that long.
- **capture_drift**: the mall's visitors per door entry over its last 2 closed hours
  (`mall_hourly`) more than `warning` (30 %) off the usual rate of the same hours over
  the last 7 days, two judgements in a row (its hold, an hour): the probes or the door
  counters count wrong. Judged with at least `min_size` door entries in the hours;
  resolves within `clear` (15 %).

An alert's id is stable: rule/mall/subject. Its state is one row of `alerts`; each change
(opened, escalated, resolved) is an event written, in the same transaction as the state,
to `alert_deliveries` once per place it goes (the `alerts` topic, ClickHouse, the open
alerts in Redis, each webhook that wants it), keyed by the event: evaluating the same
values again, after a restart or a replay, changes nothing and sends nothing.
footfall/webhooks.py then delivers them.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import Connection

from footfall import clients, expected
from footfall.outputs import DOORS, PROBES, TODAY, UNKNOWN_PROBES, ZONES
from footfall.settings import Settings

RULES = ("occupancy", "footfall_band", "probe_silent", "door_silent", "probe_degraded", "capture_drift",
         "unregistered_probe")
SEVERITIES = ("warning", "critical")
#: The defaults a mall gets when it is loaded (FootfallCam's and Meraki's 80 % / 95 %).
DEFAULTS: dict[str, dict[str, Any]] = {
    "occupancy": {"warning": 0.80, "critical": 0.95, "clear": 0.70, "hold_seconds": 120, "min_size": 0},
    # Two closed hours in a row outside the band (one odd hour pages nobody).
    "footfall_band": {"warning": None, "critical": None, "clear": None, "hold_seconds": 3600, "min_size": 20},
    # warning: the silence, in seconds, that makes a probe silent (15 minutes, as Cisco
    # Spaces' absence events).
    "probe_silent": {"warning": 900, "critical": None, "clear": None, "hold_seconds": 0, "min_size": 0},
    # FootfallCam's counter-silent rule; counters report every minute, counts or not.
    "door_silent": {"warning": 1800, "critical": None, "clear": None, "hold_seconds": 0, "min_size": 0},
    # Shares of the probe's usual share of its mall's reports; min_size: usual reports.
    "probe_degraded": {"warning": 0.3, "critical": None, "clear": 0.5, "hold_seconds": 0, "min_size": 300},
    # Relative change of visitors per door entry; min_size: door entries in the hours; two
    # judgements in a row.
    "capture_drift": {"warning": 0.3, "critical": None, "clear": 0.15, "hold_seconds": 3600, "min_size": 200},
}

#: How many past days make a probe's usual share and a mall's usual capture rate.
USUAL_DAYS = 7
#: How many closed hours the capture rate is judged over.
DRIFT_HOURS = 2
#: A whole mall silent is dark (judged against the clock) when it usually has at least
#: this many visitors over the silence's length: a 15-minute silence in the minutes after
#: it opens, or while its last visitors leave, is not an outage.
DARK_MALL_VISITORS = 10
#: Redis hash of the open alerts: alert id -> the event that opened (or escalated) it.
OPEN_ALERTS = "ff:alerts:open"


@dataclass(frozen=True)
class Rule:
    mall_id: str
    rule: str
    subject: str
    warning: float | None
    critical: float | None
    clear: float | None
    hold_seconds: int
    min_size: int

    @property
    def alert_id(self) -> str:
        return f"{self.rule}/{self.mall_id}/{self.subject}"


#: The installation's own rule, made of no mall's settings: `warning`, the seconds since its
#: newest report for a probe to count as reporting; `min_size`, the fewest reports that
#: make an alert.
UNREGISTERED = Rule("", "unregistered_probe", "", 3600, None, None, 0, 10)


@dataclass(frozen=True)
class Reading:
    """What a rule sees at one moment: a value, its threshold, and the level it reaches
    (None: below the warning; "clear": below the clear level too)."""

    at: datetime
    value: float
    threshold: float
    level: str | None
    cleared: bool


@dataclass
class State:
    status: str = "ok"
    severity: str | None = None
    pending_since: datetime | None = None
    opened_at: datetime | None = None


def step(rule: Rule, state: State, reading: Reading) -> tuple[State, str | None]:
    """The alert's next state after a reading, and the event it raises (opened,
    escalated, resolved) or None. Pure: the whole rule of hysteresis and hold."""
    if state.status == "open":
        if reading.cleared:
            return State("ok"), "resolved"
        if reading.level == "critical" and state.severity == "warning":
            return State("open", "critical", None, state.opened_at), "escalated"
        return state, None
    if reading.level is None:
        return State("ok"), None
    since = state.pending_since if state.status == "pending" and state.pending_since else reading.at
    if reading.at - since >= timedelta(seconds=rule.hold_seconds):
        return State("open", reading.level, None, reading.at), "opened"
    return State("pending", None, since, None), None


def occupancy_reading(rule: Rule, people: float, capacity: int, at: datetime) -> Reading:
    share = people / capacity
    level = ("critical" if rule.critical is not None and share >= rule.critical
             else "warning" if rule.warning is not None and share >= rule.warning else None)
    clear = rule.clear if rule.clear is not None else rule.warning
    share_crossed = rule.critical if level == "critical" and rule.critical is not None else rule.warning or 1.0
    return Reading(at, people, capacity * share_crossed, level, clear is None or share < clear)


def band_reading(rule: Rule, visitors: float, expected_count: float, low: float, high: float,
                 at: datetime) -> Reading:
    outside = (visitors > high or visitors < low) and abs(visitors - expected_count) >= rule.min_size
    return Reading(at, visitors, high if visitors > high else low, "warning" if outside else None, not outside)


# --- PostgreSQL ------------------------------------------------------------------------------


def make_default_rules(conn: Connection[Any], schema: str, mall_ids: Iterable[str]) -> None:
    """Give each mall the default rules it does not have yet (its own settings stay)."""
    for mall_id in mall_ids:
        for name, values in DEFAULTS.items():
            conn.execute(
                f'INSERT INTO "{schema}".alert_rules (mall_id, rule, subject, warning, critical, clear, '
                "hold_seconds, min_size) VALUES (%s, %s, '', %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (mall_id, name, values["warning"], values["critical"], values["clear"], values["hold_seconds"],
                 values["min_size"]))


def rules(conn: Connection[Any], schema: str, mall_id: str | None = None) -> list[Rule]:
    rows = conn.execute(
        f'SELECT mall_id, rule, subject, warning, critical, clear, hold_seconds, min_size FROM "{schema}".alert_rules '
        "WHERE enabled AND (%(m)s::text IS NULL OR mall_id = %(m)s) ORDER BY mall_id, rule, subject", {"m": mall_id})
    return [Rule(*row) for row in rows]


def _state(conn: Connection[Any], schema: str, alert_id: str) -> State:
    row = conn.execute(f'SELECT status, severity, pending_since, opened_at FROM "{schema}".alerts '
                       "WHERE alert_id = %s FOR UPDATE", (alert_id,)).fetchone()
    return State(*row) if row else State()


def event_of(rule: Rule, kind: str, state: State, reading: Reading) -> dict[str, Any]:
    """An alert event as the topic, ClickHouse and the webhooks carry it (design §5)."""
    opened_at = state.opened_at or reading.at
    return {
        "event_id": f"{rule.alert_id}/{opened_at.astimezone(UTC):%Y%m%dT%H%M%S}/{kind}",
        "alert_id": rule.alert_id,
        "kind": kind,
        "rule": rule.rule,
        "mall_id": rule.mall_id,
        "subject": rule.subject,
        "severity": state.severity or "warning",
        "value": round(reading.value, 3),
        "threshold": round(reading.threshold, 3),
        "at": reading.at.astimezone(UTC).isoformat(timespec="seconds"),
        "opened_at": opened_at.astimezone(UTC).isoformat(timespec="seconds"),
    }


def targets(conn: Connection[Any], schema: str, event: dict[str, Any]) -> list[str]:
    """Where an event goes: the topic, ClickHouse, Redis, and each webhook that wants it."""
    hooks = conn.execute(
        f'SELECT webhook_id FROM "{schema}".webhooks WHERE (rules IS NULL OR %s = ANY(rules)) '
        "AND (min_severity = 'warning' OR %s = 'critical') ORDER BY webhook_id",
        (event["rule"], event["severity"])).fetchall()
    return ["kafka", "clickhouse", "redis", *(f"webhook:{hook}" for (hook,) in hooks)]


def record(conn: Connection[Any], schema: str, rule: Rule, reading: Reading) -> dict[str, Any] | None:
    """Apply a reading to the rule's alert in one transaction: its new state and, for an
    event, one delivery row per target. Returns the event, or None."""
    with conn.transaction():
        before = _state(conn, schema, rule.alert_id)
        after, kind = step(rule, before, reading)
        event = event_of(rule, kind, after if kind != "resolved" else before, reading) if kind else None
        conn.execute(
            f'INSERT INTO "{schema}".alerts (alert_id, rule, mall_id, subject, status, severity, pending_since, '
            "opened_at, resolved_at, value, threshold, evaluated_at) "
            "VALUES (%(id)s, %(rule)s, %(mall)s, %(subject)s, %(status)s, %(severity)s, %(pending)s, %(opened)s, "
            "%(resolved)s, %(value)s, %(threshold)s, now()) ON CONFLICT (alert_id) DO UPDATE SET "
            "status = EXCLUDED.status, severity = EXCLUDED.severity, pending_since = EXCLUDED.pending_since, "
            "opened_at = COALESCE(EXCLUDED.opened_at, CASE WHEN EXCLUDED.status = 'ok' "
            "THEN alerts.opened_at END), resolved_at = COALESCE(EXCLUDED.resolved_at, alerts.resolved_at), "
            "value = EXCLUDED.value, threshold = EXCLUDED.threshold, evaluated_at = now(), "
            "acked_at = CASE WHEN EXCLUDED.status = 'open' AND alerts.status <> 'open' THEN NULL "
            "ELSE alerts.acked_at END",
            {"id": rule.alert_id, "rule": rule.rule, "mall": rule.mall_id, "subject": rule.subject,
             "status": after.status, "severity": after.severity, "pending": after.pending_since,
             "opened": after.opened_at, "resolved": reading.at if kind == "resolved" else None,
             "value": reading.value, "threshold": reading.threshold})
        if event is not None:
            for target in targets(conn, schema, event):
                conn.execute(f'INSERT INTO "{schema}".alert_deliveries (event_id, target, event) '
                             "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                             (event["event_id"], target, json.dumps(event)))
        return event


def acknowledge(conn: Connection[Any], schema: str, alert_id: str, by: str) -> bool:
    """Mark an open alert seen by `by`; False when it is not open (any more). Opened again
    later, it is unacknowledged."""
    done = conn.execute(f'UPDATE "{schema}".alerts SET acked_at = now(), acked_by = %s '
                        "WHERE alert_id = %s AND status = 'open'", (by, alert_id))
    return bool(done.rowcount)


# --- what the job wrote ----------------------------------------------------------------------


def readings(settings: Settings, conn: Connection[Any], rule: Rule, now: datetime) -> list[tuple[Rule, Reading]]:
    """The rule's readings from the stores now, each for the rule of its subject (one, or
    one per probe); none when there is nothing to judge (no capacity, no live state, no
    expectation)."""
    schema = settings.postgres.schema_name
    tz_row = conn.execute(f'SELECT tz, capacity FROM "{schema}".malls WHERE mall_id = %s', (rule.mall_id,)).fetchone()
    if tz_row is None:
        return []
    tz, mall_capacity = tz_row
    redis = clients.redis_client(settings.redis)
    try:
        live = redis.hgetall(TODAY.format(mall_id=rule.mall_id))
        zones = redis.hgetall(ZONES.format(mall_id=rule.mall_id)) if rule.subject else {}
        silent = rule.rule in ("probe_silent", "door_silent")
        heard = redis.hgetall(PROBES.format(mall_id=rule.mall_id)) if silent else {}
        doors = redis.hgetall(DOORS.format(mall_id=rule.mall_id)) if rule.rule == "door_silent" else {}
    finally:
        redis.close()
    if rule.rule == "occupancy":
        if rule.subject:
            found = conn.execute(f'SELECT capacity FROM "{schema}".shops WHERE mall_id = %s AND shop_code = %s',
                                 (rule.mall_id, rule.subject)).fetchone()
            capacity, devices = (found[0] if found else None), zones.get(rule.subject, 0)  # none placed there
        else:
            capacity, devices = mall_capacity, live.get("occupancy")
        if not capacity or devices is None or "occupancy_at" not in live:
            return []
        at = datetime.fromisoformat(live["occupancy_at"].replace("Z", "+00:00"))
        people = float(devices) * people_per_visitor(settings, rule.mall_id, live)
        return [(rule, occupancy_reading(rule, people, capacity, at))]
    local = now.astimezone(ZoneInfo(tz))
    if rule.rule == "probe_silent":
        probes = [ap for (ap,) in conn.execute(f'SELECT ap_mac FROM "{schema}".probes WHERE mall_id = %s',
                                                (rule.mall_id,))]
        return silent_readings(rule, {ap: int(heard[ap]) for ap in probes if ap in heard}, now,
                               activity(usual_baselines(settings, rule.mall_id, local.date()), local, rule))
    if rule.rule == "door_silent":
        sensors = [sensor for (sensor,) in conn.execute(
            f'SELECT sensor_id FROM "{schema}".entrances WHERE mall_id = %s', (rule.mall_id,))]
        newest_probe = max((int(ms) for ms in heard.values()), default=0)
        return silent_readings(rule, {s: int(doors[s]) for s in sensors if s in doors}, now,
                               activity(usual_baselines(settings, rule.mall_id, local.date()), local, rule),
                               newest_ms=newest_probe)
    closed = expected.closed_hours(local.date(), local)
    if closed == 0:
        return []
    hour = closed - 1
    hour_end = datetime.combine(local.date(), datetime.min.time(), ZoneInfo(tz)) + timedelta(hours=closed)
    if rule.rule == "probe_degraded":
        return degraded_readings(settings, rule, local.date(), hour, hour_end)
    if rule.rule == "capture_drift":
        reading = drift_now(settings, rule, local.date(), closed, hour_end)
        return [(rule, reading)] if reading else []
    ch = clients.clickhouse(settings.clickhouse)
    band = ch.execute(
        f"SELECT expected, low, high, baseline FROM {expected.TABLE} FINAL WHERE mall_id = %(m)s AND day = %(d)s "
        "AND shop_code = '' AND hour = %(h)s AND weeks > 0", {"m": rule.mall_id, "d": local.date(), "h": hour})
    counted = ch.execute("SELECT visitors FROM mall_hourly FINAL "
                         "WHERE mall_id = %(m)s AND day = %(d)s AND hour = %(h)s",
                         {"m": rule.mall_id, "d": local.date(), "h": hour})
    if not band:
        return []
    value, low, high, baseline = band[0]
    factor = value / baseline if baseline else 1.0
    return [(rule, band_reading(rule, float(counted[0][0]) if counted else 0.0, value, low * factor, high * factor,
                                hour_end))]


@dataclass(frozen=True)
class Activity:
    """What the expected footfall says of a mall's probes now (`activity`): whether a
    silence is judged at all, and since when the mall has usually been busy."""

    judged: bool
    #: The start of the stretch over which the mall has usually had DARK_MALL_VISITORS or
    #: more in every span of the rule's limit; None when it is not usually busy now, or
    #: nothing is expected (a new mall: judged against its own probes only).
    busy_since: datetime | None


def silent_readings(rule: Rule, heard: dict[str, int], now: datetime, activity: Activity,
                    newest_ms: int | None = None) -> list[tuple[Rule, Reading]]:
    """Each heard probe's (or door counter's) silence (seconds) against the rule's limit
    (`warning`): behind the newest report in its mall (`newest_ms`, by default the newest
    of `heard`), or behind the clock when the whole mall has been silent that long while
    it is usually busy; counted only from when it became usually busy (a probe that heard
    nobody overnight is not silent at opening). While the mall is not usually busy no
    silence is judged, but a probe heard again still resolves its alert."""
    if not heard:
        return []
    limit = rule.warning or 0.0
    newest = max(max(heard.values()), newest_ms or 0) / 1000
    busy = activity.busy_since.timestamp() if activity.busy_since else None
    yardstick = now.timestamp() if busy is not None and now.timestamp() - newest > limit else newest
    at = datetime.fromtimestamp(yardstick, UTC)
    out = []
    for subject, ms in sorted(heard.items()):
        silence = yardstick - ms / 1000
        counted = yardstick - max(ms / 1000, busy) if busy is not None else silence
        level = "warning" if activity.judged and counted > limit else None
        out.append((replace(rule, subject=subject), Reading(at, counted, limit, level, silence <= limit)))
    return out


def unregistered_readings(rule: Rule, unknown: dict[str, tuple[int, int]], registered: set[str], now: datetime
                          ) -> list[tuple[Rule, Reading]]:
    """Each probe not in the layout that has reported (ap_mac -> (newest report in epoch
    ms, reports)): the seconds since its newest report, firing while it has made at least
    `min_size` reports and is still reporting (within `warning` seconds of now)."""
    limit = rule.warning or 3600.0
    out = []
    for ap, (heard_ms, reports) in sorted(unknown.items()):
        since = now.timestamp() - heard_ms / 1000
        firing = ap not in registered and reports >= rule.min_size and since <= limit
        out.append((replace(rule, subject=ap), Reading(now, float(reports), float(rule.min_size),
                                                       "warning" if firing else None, not firing)))
    return out


def median(values: Sequence[float]) -> float | None:
    """The median (the standard library's, as the expected footfall's), None of nothing."""
    return float(statistics.median(values)) if values else None


def usual_share(history: Iterable[tuple[int, int]]) -> float | None:
    """A probe's usual share of its mall's reports: the median over past hours of
    (its reports, the mall's reports), hours without reports left out."""
    return median([reports / total for reports, total in history if total > 0])


def degraded_reading(rule: Rule, reports: int, mall_reports: int, usual: float | None, at: datetime
                     ) -> Reading | None:
    """The probe's share of the hour's reports as a fraction of its usual share; None when
    the hour is not judged (no usual share, or fewer usual reports than `min_size`)."""
    if not usual or usual * mall_reports < rule.min_size:
        return None
    ratio = reports / mall_reports / usual
    limit = rule.warning if rule.warning is not None else 0.5
    clear = rule.clear if rule.clear is not None else limit
    return Reading(at, ratio, limit, "warning" if ratio < limit else None, ratio >= clear)


def drift_reading(rule: Rule, visitors: int, entries: int, usual_rate: float | None, at: datetime
                  ) -> Reading | None:
    """The capture rate's change from its usual (visitors per door entry, relative); None
    when not judged (no usual rate, fewer door entries than `min_size`)."""
    if not usual_rate or entries < max(rule.min_size, 1):
        return None
    change = visitors / entries / usual_rate - 1
    limit = rule.warning if rule.warning is not None else 0.3
    clear = rule.clear if rule.clear is not None else limit
    return Reading(at, change, limit if change > 0 else -limit, "warning" if abs(change) > limit else None,
                   abs(change) < clear)


def degraded_readings(settings: Settings, rule: Rule, day: date, hour: int, at: datetime
                      ) -> list[tuple[Rule, Reading]]:
    """Each probe's reading for the hour just closed, against its share of the same hour
    over the last USUAL_DAYS days."""
    rows = clients.clickhouse(settings.clickhouse).execute(
        "SELECT day, ap_mac, reports FROM probe_hourly FINAL WHERE mall_id = %(m)s AND hour = %(h)s "
        "AND day BETWEEN %(since)s AND %(d)s", {"m": rule.mall_id, "h": hour, "d": day,
                                                 "since": day - timedelta(days=USUAL_DAYS)})
    by_day: dict[date, dict[str, int]] = {}
    for d, ap, reports in rows:
        by_day.setdefault(d, {})[ap] = int(reports)
    now = by_day.pop(day, {})
    if not now:
        return []
    totals = {d: sum(aps.values()) for d, aps in by_day.items()}
    out = []
    for ap in sorted({ap for aps in by_day.values() for ap in aps} | set(now)):
        usual = usual_share((aps.get(ap, 0), totals[d]) for d, aps in by_day.items())
        reading = degraded_reading(rule, now.get(ap, 0), sum(now.values()), usual, at)
        if reading is not None:
            out.append((replace(rule, subject=ap), reading))
    return out


def drift_now(settings: Settings, rule: Rule, day: date, closed: int, at: datetime) -> Reading | None:
    """The capture rate of the DRIFT_HOURS hours just closed against the same hours' over
    the last USUAL_DAYS days (the median of the days')."""
    hours = list(range(max(0, closed - DRIFT_HOURS), closed))
    rows = clients.clickhouse(settings.clickhouse).execute(
        "SELECT day, sum(visitors), sum(door_entries) FROM mall_hourly FINAL WHERE mall_id = %(m)s "
        "AND hour IN %(h)s AND day BETWEEN %(since)s AND %(d)s GROUP BY day",
        {"m": rule.mall_id, "h": tuple(hours), "d": day, "since": day - timedelta(days=USUAL_DAYS)})
    counts = {d: (int(v), int(e)) for d, v, e in rows}
    visitors, entries = counts.pop(day, (0, 0))
    usual = median([v / e for v, e in counts.values() if e >= rule.min_size])
    return drift_reading(rule, visitors, entries, usual, at)


def usual_baselines(settings: Settings, mall_id: str, day: date) -> dict[int, float]:
    """The visitors each hour of the mall's day usually brings (the expected footfall's
    baselines; none without an expectation)."""
    rows = clients.clickhouse(settings.clickhouse).execute(
        f"SELECT hour, baseline FROM {expected.TABLE} FINAL WHERE mall_id = %(m)s AND day = %(d)s "
        "AND shop_code = ''", {"m": mall_id, "d": day})
    return {int(hour): float(baseline) for hour, baseline in rows}


def usual_over(baselines: dict[int, float], local: datetime, seconds: float) -> float:
    """The visitors the mall usually has over the `seconds` before `local`: each hour's
    baseline pro rata of the part of it the span covers."""
    total, t = 0.0, local - timedelta(seconds=seconds)
    while t < local:
        hour_end = min(t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), local)
        total += baselines.get(t.hour, 0.0) * (hour_end - t).total_seconds() / 3600
        t = hour_end
    return total


#: How finely `activity` walks back to find when the mall became usually busy.
BUSY_STEP = timedelta(minutes=5)


def activity(baselines: dict[int, float], local: datetime, rule: Rule) -> Activity:
    """Whether the mall is usually busy now, by its expected footfall (`baselines`, the
    hours of its local day): DARK_MALL_VISITORS or more over the rule's limit (not in the
    first minutes after it opens, nor while its last visitors leave), and since when."""
    if not baselines:
        return Activity(True, None)
    span = rule.warning or 0.0

    def busy(at: datetime) -> bool:
        return usual_over(baselines, at, span) >= DARK_MALL_VISITORS

    if not busy(local):
        return Activity(False, None)
    since = local
    while since > local - timedelta(days=1) and busy(since - BUSY_STEP):
        since -= BUSY_STEP
    return Activity(True, since)


def people_per_visitor(settings: Settings, mall_id: str, live: dict[str, str]) -> float:
    """Devices to estimated people: the day's people per visitor (design §4 item 15), 1
    without door counts."""
    day = live.get("day")
    if not day:
        return 1.0
    rows = clients.clickhouse(settings.clickhouse).execute(
        "SELECT people_per_visitor FROM people_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": datetime.fromisoformat(day).date()})
    factor = rows[0][0] if rows else None
    return float(factor) if factor else 1.0


def evaluate(settings: Settings, now: datetime | None = None, mall_id: str | None = None) -> list[dict[str, Any]]:
    """Evaluate every enabled rule (of one mall) once; returns the events raised."""
    now = now or datetime.now(UTC)
    schema = settings.postgres.schema_name
    events = []
    with clients.postgres(settings.postgres) as conn:
        judged = [(subject_rule, reading) for rule in rules(conn, schema, mall_id)
                  for subject_rule, reading in readings(settings, conn, rule, now)]
        if mall_id is None:
            judged += unregistered_now(settings, conn, now)
        for subject_rule, reading in judged:
            if (event := record(conn, schema, subject_rule, reading)) is not None:
                events.append(event)
    return events


def unregistered_now(settings: Settings, conn: Connection[Any], now: datetime) -> list[tuple[Rule, Reading]]:
    """The installation's unregistered_probe readings from what the job wrote."""
    redis = clients.redis_client(settings.redis)
    try:
        raw = redis.hgetall(UNKNOWN_PROBES)
    finally:
        redis.close()
    unknown = {ap: (int(v["heard_at"]), int(v["reports"])) for ap, v in ((ap, json.loads(t)) for ap, t in raw.items())}
    if not unknown:
        return []
    schema = settings.postgres.schema_name
    registered = {ap for (ap,) in conn.execute(f'SELECT ap_mac FROM "{schema}".probes WHERE ap_mac = ANY(%s)',
                                               (list(unknown),))}
    return unregistered_readings(UNREGISTERED, unknown, registered, now)
