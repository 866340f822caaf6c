"""An independent, plain-Python computation of docs/design.md §4 (items 1-10).

Written from the definitions, not from the job's SQL, so the two can be compared on the
same events. Everything is held in memory: meant for test-sized inputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from footfall.geometry import CORRIDOR
from udfs.positioning import Fix, FloorPlan, Heard, Tracker, locate


@dataclass(frozen=True)
class ProbeEvent:
    """A valid, on-time probe report, joined to the layout (what the metrics read)."""

    event_id: str
    mall_id: str
    shop_code: str | None
    shop_name: str | None
    tz: str
    rssi: int
    occur_ms: int
    device_id: str
    randomized: bool
    ap_mac: str | None = None
    #: False for an event the watermark may have passed (at least the watermark delay
    #: behind the newest read before it): it counts, but in no visit and no position.
    on_time: bool = True
    #: The shops whose fronts the probe faces (layout shop_fronts): (shop_code, shop_name).
    fronts: tuple[tuple[str, str], ...] = ()
    #: The device is staff of the mall on the event's local day (what the ingestion reads
    #: from staff_detected and staff_overrides).
    staff: bool = False


@dataclass(frozen=True)
class DoorEvent:
    mall_id: str
    tz: str
    in_count: int
    occur_ms: int
    sensor_id: str = "door-1"


@dataclass(frozen=True)
class SaleEvent:
    """A valid till transaction of a known shop, in the mall's currency (what 10_sales.sql reads)."""

    transaction_id: str
    mall_id: str
    shop_code: str
    shop_name: str
    tz: str
    occur_ms: int
    amount_minor: int
    currency: str
    items: int


@dataclass(frozen=True)
class Thresholds:
    mall_min_rssi: int = -85
    shop_min_rssi: int = -70
    visit_gap_ms: int = 300_000
    mall_min_dwell_ms: int = 300_000
    shop_min_dwell_ms: int = 120_000
    #: Staff (item 14): heard more than this on a day, on staff_min_days of
    #: staff_window_days days in a row.
    staff_min_heard_ms: int = 4 * 3600_000
    staff_min_days: int = 3
    staff_window_days: int = 7


DEFAULTS = Thresholds()


@dataclass(frozen=True)
class Places:
    """What a device is placed with (items 2, 6 and 9): where each probe is, each mall's
    floor plan, and the shops' names."""

    probe_xy: dict[str, tuple[float, float]]
    plans: Callable[[str], FloorPlan]
    shop_names: dict[tuple[str, str], str]


def local(occur_ms: int, tz: str) -> tuple[str, int]:
    moment = datetime.fromtimestamp(occur_ms / 1000, UTC).astimezone(ZoneInfo(tz))
    return moment.date().isoformat(), moment.hour


def device_id(salt: str, raw_mac: str) -> str:
    mac = raw_mac.lower().replace("-", ":")
    return hashlib.sha256((salt + mac).encode()).hexdigest()[:16]


def is_randomized(raw_mac: str) -> bool:
    return bool(int(raw_mac[:2], 16) & 0b10)


@dataclass(frozen=True)
class Limits:
    """The ingestion's time and size rules (FOOTFALL_JOB_* settings)."""

    watermark_delay_ms: int = 120_000
    allowed_lateness_ms: int = 3_600_000
    future_tolerance_ms: int = 300_000
    max_message_chars: int = 262_144


LIMITS = Limits()
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def parse(body: bytes) -> object:
    """A message as strict JSON: NaN and Infinity are not JSON, and a nesting too deep to
    read is not either."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deep") from None


def _whole(value: object, digits: int, signed: bool) -> bool:
    """A JSON integer of at most `digits` digits (and no sign unless `signed`), as the job's
    type checks read numbers."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if value < 0 and not signed:
        return False
    return len(str(abs(value))) <= digits


# --- from raw messages ------------------------------------------------------------------

def probe_reason(body: bytes, probes: dict[str, tuple[str, str | None]], now_ms: int | None = None,
                 limits: Limits = LIMITS) -> str | None:
    """Why a wifi-probes message is rejected (before the late check), or None."""
    if len(body.decode("utf-8", errors="replace")) > limits.max_message_chars:
        return "too_large"
    try:
        message = parse(body)
    except ValueError:
        return "not_json"
    if not isinstance(message, dict):
        return "not_json"
    names = ("event_id", "ap_mac", "device_mac", "rssi", "occur_time")
    if any(message.get(name) is None for name in names):
        return "missing_field"
    if not all(isinstance(message[n], str) for n in names[:3]) or not _whole(message["rssi"], 9, True) \
            or not _whole(message["occur_time"], 15, False):
        return "wrong_type"
    if not MAC.fullmatch(message["device_mac"].lower().replace("-", ":")):
        return "invalid_mac"
    if not -120 <= message["rssi"] <= 0:
        return "rssi_out_of_range"
    if now_ms is not None and message["occur_time"] > now_ms + limits.future_tolerance_ms:
        return "future"
    if message["ap_mac"].lower().replace("-", ":") not in probes:
        return "unknown_probe"
    return None


def probe_events(bodies: list[tuple[bytes, bool]], salt: str, probes: dict[str, tuple[str, str | None]],
                 malls: dict[str, str], shop_names: dict[tuple[str, str], str],
                 fronts: dict[str, tuple[str, ...]] | None = None) -> list[ProbeEvent]:
    """Accepted messages (body, on time for the windows) as ProbeEvents; `probes` maps
    ap_mac -> (mall_id, shop_code), `fronts` ap_mac -> the shop codes whose fronts it faces."""
    fronts = fronts or {}
    events = []
    for body, on_time in bodies:
        m = json.loads(body)
        ap_mac = m["ap_mac"].lower().replace("-", ":")
        mall_id, shop_code = probes[ap_mac]
        events.append(ProbeEvent(
            m["event_id"], mall_id, shop_code, shop_names.get((mall_id, shop_code or "")), malls[mall_id],
            m["rssi"], m["occur_time"], device_id(salt, m["device_mac"]), is_randomized(m["device_mac"]),
            ap_mac, on_time, tuple((code, shop_names[(mall_id, code)]) for code in fronts.get(ap_mac, ())),
        ))
    return events


def door_events(bodies: list[bytes], malls: dict[str, str]) -> list[DoorEvent]:
    events = []
    for body in bodies:
        if door_reason(body, malls) is None:
            m = json.loads(body)
            events.append(DoorEvent(m["mall_id"], malls[m["mall_id"]], m["in_count"], m["occur_time"], m["sensor_id"]))
    return events


POS_FIELDS = ("transaction_id", "mall_id", "shop_code", "occur_time", "amount_minor", "currency", "items")


def pos_reason(body: bytes, shops: dict[tuple[str, str], str], currencies: dict[str, str],
               now_ms: int | None = None, limits: Limits = LIMITS) -> str | None:
    """Why a pos-transactions message is rejected (before the late check), or None.
    `shops`: (mall_id, shop_code) -> name; `currencies`: mall_id -> its currency."""
    reason = pos_parse_reason(body, limits)
    if reason is not None:
        return reason
    m = json.loads(body)
    if now_ms is not None and m["occur_time"] > now_ms + limits.future_tolerance_ms:
        return "future"
    if m["mall_id"] not in currencies:
        return "unknown_mall"
    if (m["mall_id"], m["shop_code"]) not in shops:
        return "unknown_shop"
    return None if m["currency"] == currencies[m["mall_id"]] else "wrong_currency"


def pos_parse_reason(body: bytes, limits: Limits = LIMITS) -> str | None:
    """Why parse_pos turns a message away (what needs no layout and no clock), or None."""
    if len(body.decode("utf-8", errors="replace")) > limits.max_message_chars:
        return "too_large"
    try:
        m = parse(body)
    except ValueError:
        return "not_json"
    if not isinstance(m, dict):
        return "not_json"
    if any(m.get(n) is None for n in POS_FIELDS) or m["transaction_id"] == "":
        return "missing_field"
    if not all(isinstance(m[n], str) for n in ("transaction_id", "mall_id", "shop_code", "currency")) \
            or m.get("till_id") is not None and not isinstance(m["till_id"], str) \
            or not _whole(m["occur_time"], 15, False) or not _whole(m["amount_minor"], 15, True) \
            or not _whole(m["items"], 9, True):
        return "wrong_type"
    if not re.fullmatch(r"[A-Z]{3}", m["currency"]):
        return "invalid_currency"
    if m["amount_minor"] == 0:
        return "amount_out_of_range"
    return "items_out_of_range" if m["items"] < 0 else None


def sale_events(bodies: list[bytes], shops: dict[tuple[str, str], str], malls: dict[str, str]) -> list[SaleEvent]:
    events = []
    for body in bodies:
        m = json.loads(body)
        events.append(SaleEvent(m["transaction_id"], m["mall_id"], m["shop_code"],
                                shops[(m["mall_id"], m["shop_code"])], malls[m["mall_id"]], m["occur_time"],
                                m["amount_minor"], m["currency"], m["items"]))
    return events


def sales_hourly(sales: Iterable[SaleEvent]) -> dict[tuple, tuple]:
    """sales_hourly (docs/design.md §4 item 18): each transaction id of a mall once (its
    first copy); sales and their items, refunds and their amount, and the net amount."""
    seen: set[tuple[str, str]] = set()
    hours: dict[tuple, list] = {}
    for e in sales:
        if (e.mall_id, e.transaction_id) in seen:
            continue
        seen.add((e.mall_id, e.transaction_id))
        day, hour = local(e.occur_ms, e.tz)
        row = hours.setdefault((e.mall_id, day, hour, e.shop_code), [e.shop_name, e.currency, 0, 0, 0, 0, 0])
        if e.amount_minor > 0:
            row[2] += 1
            row[3] += e.items
        else:
            row[4] += 1
            row[5] -= e.amount_minor
        row[6] += e.amount_minor
    return {key: tuple(values) for key, values in hours.items()}


# --- the metrics --------------------------------------------------------------------------

def estimated_dwell(span_ms: int, seconds: int) -> int:
    """A shop visit's dwell from the span of its seconds and how many (item 6): the span and
    one mean gap between them; 0 for one second."""
    return span_ms * seconds // (seconds - 1) if seconds > 1 else 0


def shop_seconds(probes: list[ProbeEvent], places: Places, t: Thresholds = DEFAULTS) -> dict[tuple, set]:
    """(mall, device, shop) -> the (second_ms, tz) at which the device was placed in the
    shop: per device and second, its on-time reports at or above the mall threshold (a
    visitor's: not randomised, not staff), the strongest per probe, placed by
    udfs.positioning.locate on the mall's plan; the corridor is no shop."""
    strongest: dict[tuple, dict[str, int]] = defaultdict(dict)
    for e in probes:
        if e.randomized or e.staff or not e.on_time or e.rssi < t.mall_min_rssi or e.ap_mac not in places.probe_xy:
            continue
        key = (e.mall_id, e.device_id, e.occur_ms // 1000, e.tz)
        heard = strongest[key]
        heard[e.ap_mac] = max(heard.get(e.ap_mac, -999), e.rssi)
    placed: dict[tuple, set] = defaultdict(set)
    for key, heard in strongest.items():
        mall, device, second, tz = key
        reports = [Heard(*places.probe_xy[ap], rssi) for ap, rssi in heard.items()]
        zone = locate(places.plans(mall), reports, t.mall_min_rssi)[2]
        if zone != CORRIDOR:
            placed[(mall, device, zone)].add((second * 1000, tz))
    return placed


def metrics(probes: list[ProbeEvent], doors: list[DoorEvent], places: Places,
            t: Thresholds = DEFAULTS, sales: Iterable[SaleEvent] = ()) -> dict[str, dict]:
    """Every output keyed as its ClickHouse table is: {output: {key tuple: values tuple}}."""
    day_devices: dict[tuple, set] = defaultdict(set)
    day_randomized: dict[tuple, set] = defaultdict(set)
    day_staff: dict[tuple, set] = defaultdict(set)
    hour_devices: dict[tuple, set] = defaultdict(set)
    hour_staff: dict[tuple, set] = defaultdict(set)
    shop_devices: dict[tuple, set] = defaultdict(set)
    near_day: dict[tuple, set] = defaultdict(set)
    near_hour: dict[tuple, set] = defaultdict(set)
    shop_names: dict[tuple, str] = {}
    mall_times: dict[tuple, set] = defaultdict(set)
    first_day: dict[tuple, str] = {}
    door_day: dict[tuple, int] = defaultdict(int)
    door_hour: dict[tuple, int] = defaultdict(int)

    for e in probes:
        day, hour = local(e.occur_ms, e.tz)
        if e.rssi >= t.mall_min_rssi:
            if e.randomized:
                day_randomized[(e.mall_id, day)].add(e.device_id)
            else:
                day_devices[(e.mall_id, day)].add(e.device_id)
                hour_devices[(e.mall_id, day, hour)].add(e.device_id)
                if e.staff:  # counted on their own, in no visitor metric
                    day_staff[(e.mall_id, day)].add(e.device_id)
                    hour_staff[(e.mall_id, day, hour)].add(e.device_id)
                elif e.on_time:
                    mall_times[(e.mall_id, e.device_id)].add((e.occur_ms, e.tz))
        if e.shop_code and e.rssi >= t.shop_min_rssi and not e.randomized:  # devices seen: staff too
            shop_devices[(e.mall_id, day, e.shop_code)].add(e.device_id)
            shop_names[(e.mall_id, e.shop_code)] = e.shop_name or ""
        if e.staff:
            continue
        if not e.randomized and e.rssi >= t.shop_min_rssi:  # near: its own probe, or one facing its front
            near = [(e.shop_code, e.shop_name or "")] if e.shop_code else []
            for shop, name in near + list(e.fronts):
                near_day[(e.mall_id, day, shop)].add(e.device_id)
                near_hour[(e.mall_id, day, hour, shop)].add(e.device_id)
                shop_names[(e.mall_id, shop)] = name
    # Shop visits are of the seconds a visitor was placed in the shop (windows: what the
    # watermark passed is not in them); each such second also makes the device seen and near.
    shop_times = shop_seconds(probes, places, t)
    for (mall, device, shop), stamped in shop_times.items():
        shop_names[(mall, shop)] = places.shop_names.get((mall, shop), shop)
        for occur_ms, tz in stamped:
            day, hour = local(occur_ms, tz)
            shop_devices[(mall, day, shop)].add(device)
            near_day[(mall, day, shop)].add(device)
            near_hour[(mall, day, hour, shop)].add(device)
    for d in doors:
        day, hour = local(d.occur_ms, d.tz)
        door_day[(d.mall_id, day)] += d.in_count
        door_hour[(d.mall_id, day, hour)] += d.in_count

    # Visitors: heard in a (day, hour) during a mall visit that had by then lasted the
    # minimum dwell; first_day is the first day a device was one.
    day_visitors: dict[tuple, set] = defaultdict(set)
    hour_visitors: dict[tuple, set] = defaultdict(set)
    for (mall, device), stamped in mall_times.items():
        for occur_ms, tz in visiting(stamped, t.visit_gap_ms, t.mall_min_dwell_ms):
            day, hour = local(occur_ms, tz)
            day_visitors[(mall, day)].add(device)
            hour_visitors[(mall, day, hour)].add(device)
            first_day[(mall, device)] = min(first_day.get((mall, device), day), day)

    out: dict[str, dict] = {}
    new_count: dict[tuple, int] = defaultdict(int)
    for (mall, _), day in first_day.items():
        new_count[(mall, day)] += 1
    out["mall_daily"] = {
        key: (len(day_visitors[key]), new_count[key], len(day_visitors[key]) - new_count[key],
              len(day_randomized[key]), door_day[key], len(day_devices[key]),
              len(day_devices[key] - day_visitors[key] - day_staff[key]), len(day_staff[key]))
        for key in set(day_devices) | set(day_randomized) | set(door_day)
    }
    out["mall_hourly"] = {
        key: (len(hour_visitors[key]), door_hour[key], len(hour_devices[key]),
              len(hour_devices[key] - hour_visitors[key] - hour_staff[key]), len(hour_staff[key]))
        for key in set(hour_devices) | set(door_hour)
    }
    # Each probe's accepted reports per local hour, duplicates and late ones too.
    probe_reports: Counter[tuple] = Counter((e.mall_id, *local(e.occur_ms, e.tz), e.ap_mac) for e in probes)
    out["probe_hourly"] = {key: (n,) for key, n in probe_reports.items()}
    by_day: dict[tuple, list] = defaultdict(list)
    for (mall, day, hour), (visitors, *_) in out["mall_hourly"].items():
        by_day[(mall, day)].append((-visitors, hour))
    out["peak_hour_daily"] = {key: (min(v)[1], -min(v)[0]) for key, v in by_day.items()}

    # Shop visitors (walk-ins) as mall visitors are, with the shop's minimum dwell; walk-bys:
    # devices near the shop that were not.
    walkin_day: dict[tuple, set] = defaultdict(set)
    walkin_hour: dict[tuple, set] = defaultdict(set)
    for (mall, device, shop), stamped in shop_times.items():
        for occur_ms, tz in visiting(stamped, t.visit_gap_ms, t.shop_min_dwell_ms, estimated_dwell):
            day, hour = local(occur_ms, tz)
            walkin_day[(mall, day, shop)].add(device)
            walkin_hour[(mall, day, hour, shop)].add(device)
    out["shop_daily"] = {
        key: (shop_names[(key[0], key[2])], len(walkin_day[key]), len(shop_devices[key]),
              len(near_day[key] - walkin_day[key]))
        for key in set(shop_devices) | set(near_day) | set(walkin_day)
    }
    out["shop_hourly"] = {
        key: (shop_names[(key[0], key[3])], len(walkin_hour[key]), len(near_hour[key] - walkin_hour[key]))
        for key in set(near_hour) | set(walkin_hour)
    }
    ranked: dict[tuple, list] = defaultdict(list)
    for (mall, day, shop), (name, visitors, *_) in out["shop_daily"].items():
        ranked[(mall, day)].append((-visitors, shop, name))
    out["top_shops_daily"] = {
        (mall, day, rank): (shop, name, -neg)
        for (mall, day), shops in ranked.items()
        for rank, (neg, shop, name) in enumerate(sorted(shops)[:5], start=1)
    }

    visits: dict[tuple, list[int]] = defaultdict(list)  # (mall, day, device, shop) -> dwell ms per visit
    out["visits"] = {}  # (mall, day, shop or '', device, started_at) -> (shop_name, dwell_seconds)
    for (mall, device, shop), stamped in shop_times.items():
        for day, started_ms, dwell in sessions(stamped, t.visit_gap_ms, estimated_dwell):
            visits[(mall, day, device, shop)].append(dwell)
            out["visits"][(mall, day, shop, device, started_ms // 1000)] = (shop_names[(mall, shop)], dwell // 1000)
    favourites: dict[tuple, tuple] = {}
    for (mall, day, device, shop), dwells in visits.items():
        candidate = (-len(dwells), -sum(dwells), shop)
        key = (mall, day, device)
        if key not in favourites or candidate < favourites[key]:
            favourites[key] = candidate
    out["favorite_shop_daily"] = {
        key: (shop, shop_names[(key[0], shop)], -neg_visits, -neg_dwell // 1000)
        for key, (neg_visits, neg_dwell, shop) in favourites.items()
    }
    out["repeat_shops_daily"] = {
        key: (shop_names[(key[0], key[3])], len(dwells)) for key, dwells in visits.items() if len(dwells) >= 2
    }

    mall_dwells: dict[tuple, list[int]] = defaultdict(list)  # (mall, day) -> dwell ms per mall visit
    for (mall, device), stamped in mall_times.items():
        for day, started_ms, dwell in sessions(stamped, t.visit_gap_ms):
            mall_dwells[(mall, day)].append(dwell)
            out["visits"][(mall, day, "", device, started_ms // 1000)] = ("", dwell // 1000)
    shop_dwells: dict[tuple, list[int]] = defaultdict(list)  # (mall, day, shop) -> dwell ms per visit
    for (mall, day, _device, shop), dwells in visits.items():
        shop_dwells[(mall, day, shop)] += dwells
    out["mall_engagement_daily"] = {key: engagement(dwells) for key, dwells in mall_dwells.items()}
    out["staff_detected"] = staff_detected(mall_times, t)
    out["shop_engagement_daily"] = {
        key: (shop_names[(key[0], key[2])], *engagement(dwells)) for key, dwells in shop_dwells.items()
    }
    out["sales_hourly"] = sales_hourly(sales)
    return out


def staff_detected(mall_times: dict[tuple, set], t: Thresholds = DEFAULTS) -> dict[tuple, tuple[str, str]]:
    """(mall, device) -> (qualified_day, since_day): a day qualifies when the device's mall
    visits that started on it lasted more than the staff hours in all; the rule is met on
    the first qualifying day D with at least staff_min_days qualifying days among the
    staff_window_days days that end on D; the device is staff from the day after."""
    found = {}
    for key, stamped in mall_times.items():
        heard: dict[date, int] = defaultdict(int)
        for day, _started, dwell in sessions(stamped, t.visit_gap_ms):
            heard[date.fromisoformat(day)] += dwell
        qualifying = sorted(day for day, ms in heard.items() if ms > t.staff_min_heard_ms)
        for day in qualifying:
            window = [d for d in qualifying if 0 <= (day - d).days < t.staff_window_days]
            if len(window) >= t.staff_min_days:
                found[key] = (day.isoformat(), date.fromordinal(day.toordinal() + 1).isoformat())
                break
    return found


def span(span_ms: int, _times: int) -> int:
    """A mall visit's dwell: last minus first time (item 11)."""
    return span_ms


def sessions(stamped: set[tuple[int, str]], gap_ms: int,
             dwell: Callable[[int, int], int] = span) -> list[tuple[str, int, int]]:
    """Visits in (occur_ms, tz) times: maximal runs with gaps of at most `gap_ms`, each as
    (the local day it starts, its first time, its dwell: `dwell(last minus first time,
    how many times)`)."""
    times = sorted(stamped)
    found = []
    start, prev, count = times[0], times[0], 0
    for current in times[1:] + [None]:
        count += 1
        if current is None or current[0] - prev[0] > gap_ms:
            found.append((local(start[0], start[1])[0], start[0], dwell(prev[0] - start[0], count)))
            start, count = current, 0
        prev = current if current is not None else prev
    return found


def visiting(stamped: set[tuple[int, str]], gap_ms: int, min_dwell_ms: int,
             dwell: Callable[[int, int], int] = span) -> list[tuple[int, str]]:
    """The (occur_ms, tz) times at which the visit they belong to (a run with gaps of at
    most `gap_ms`) had lasted at least `min_dwell_ms`, by `dwell` as in sessions."""
    found = []
    start = last = None
    count = 0
    for current in sorted(stamped):
        if last is None or current[0] - last > gap_ms:
            start, count = current[0], 0
        last = current[0]
        count += 1
        if dwell(current[0] - start, count) >= min_dwell_ms:
            found.append(current)
    return found


#: Engagement buckets (docs/design.md §4 item 11): visits shorter than the first bound
#: bounced; then 5-20 min, 20-60 min, 1-6 h and 6 h or more; each bound belongs to the
#: bucket it opens.
DWELL_BOUNDS_MS = (5 * 60_000, 20 * 60_000, 60 * 60_000, 6 * 3600_000)


def engagement(dwells: list[int]) -> tuple[int, ...]:
    """(visits, bounced, 5-20 min, 20-60 min, 1-6 h, 6 h+)."""
    buckets = [0] * (len(DWELL_BOUNDS_MS) + 1)
    for dwell in dwells:
        buckets[sum(dwell >= bound for bound in DWELL_BOUNDS_MS)] += 1
    return (len(dwells), *buckets)


# --- what ClickHouse derives from the visits (its views, clickhouse.sql) -----------------

def dwell_daily(visits: dict[tuple, tuple]) -> dict[tuple, tuple]:
    """(mall, day, shop or '') -> (visits, median dwell in seconds)."""
    dwells: dict[tuple, list[int]] = defaultdict(list)
    for (mall, day, shop, _device, _started), (_name, dwell) in visits.items():
        dwells[(mall, day, shop)].append(dwell)
    return {key: (len(d), float(statistics.median(d))) for key, d in dwells.items()}


def shop_paths(visits: dict[tuple, tuple]) -> dict[tuple, list[str]]:
    """(mall, day, device) -> the shops it visited that day, in the order the visits
    started (ties by shop code)."""
    steps: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for (mall, day, shop, device, started), _ in visits.items():
        if shop:
            steps[(mall, day, device)].append((started, shop))
    return {key: [shop for _, shop in sorted(s)] for key, s in steps.items()}


def shop_journeys_daily(visits: dict[tuple, tuple]) -> dict[tuple, int]:
    """(mall, day, from shop, to shop) -> transitions: steps between two different shops."""
    out: dict[tuple, int] = defaultdict(int)
    for (mall, day, _device), path in shop_paths(visits).items():
        for a, b in zip(path, path[1:]):
            if a != b:
                out[(mall, day, a, b)] += 1
    return dict(out)


def shoppers_daily(visits: dict[tuple, tuple]) -> dict[tuple, tuple[int, int]]:
    """(mall, day) -> (devices that visited a shop, those that visited two or more)."""
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (mall, day, _device), path in shop_paths(visits).items():
        out[(mall, day)][0] += 1
        out[(mall, day)][1] += len(set(path)) >= 2
    return {key: (a, b) for key, (a, b) in out.items()}


LOYALTY = ("first_time", "daily", "weekly", "monthly", "occasional")


def loyalty_class(day: date, earlier: list[date]) -> str:
    """A visitor's class on `day` from the days it visited the mall before (design §4
    item 13): the first rule that applies."""
    ago = [(day - d).days for d in earlier]
    if not ago:
        return "first_time"
    if sum(1 for a in ago if a <= 7) >= 4:
        return "daily"
    if sum(any(7 * week < a <= 7 * (week + 1) for a in ago) for week in range(4)) >= 3:
        return "weekly"
    if any(a <= 30 for a in ago):
        return "monthly"
    return "occasional"


def loyalty_daily(visits: dict[tuple, tuple], thresholds: Thresholds = DEFAULTS) -> dict[tuple, tuple]:
    """(mall, day) -> (visitors, then visitors per loyalty class in LOYALTY order), from the
    mall visits that lasted at least the mall's minimum dwell (visitors' visits)."""
    days: dict[tuple, set[date]] = defaultdict(set)
    for (mall, day, shop, device, _started), (_name, dwell_seconds) in visits.items():
        if not shop and dwell_seconds * 1000 >= thresholds.mall_min_dwell_ms:
            days[(mall, device)].add(date.fromisoformat(day))
    out: dict[tuple, list[int]] = defaultdict(lambda: [0] * (1 + len(LOYALTY)))
    for (mall, _device), visited in days.items():
        for day in visited:
            counts = out[(mall, day.isoformat())]
            counts[0] += 1
            counts[1 + LOYALTY.index(loyalty_class(day, [d for d in visited if d < day]))] += 1
    return {key: tuple(counts) for key, counts in out.items()}


def visit_views(visits: dict[tuple, tuple]) -> dict[str, dict]:
    """What ClickHouse's views derive from the `visits` table, keyed as they are read."""
    return {
        "dwell_daily": dwell_daily(visits),
        "shop_journeys_daily": shop_journeys_daily(visits),
        "shoppers_daily": shoppers_daily(visits),
        "loyalty_daily": loyalty_daily(visits),
    }


PositionKey = tuple[str, int, str]  # mall_id, second (epoch s), device_id


@dataclass
class Positions:
    #: (mall_id, second, device_id) -> (x, y, zone) for every second the job must place.
    certain: dict[PositionKey, tuple[float, float, str]]
    #: Seconds the job may or may not place, or place from fewer reports: one of their
    #: reports arrived more than the position delay behind the newest time read before
    #: it, and whether its second had closed by then depends on when the watermark was
    #: emitted.
    uncertain: set[PositionKey]


def positions(probes: list[ProbeEvent], probe_xy: dict[str, tuple[float, float]],
              plans: Callable[[str], FloorPlan], delay_ms: int,
              newest_before: list[int] | None = None, t: Thresholds = DEFAULTS) -> Positions:
    """Item 9 over valid, on-time events in arrival order: per device and second, where
    udfs.positioning.locate places it on its mall's floor plan (`plans`) from the probes
    that heard it (strongest report each) at or above the mall threshold, then smoothed
    over the device's fixes in time order by udfs.positioning.Tracker (the Java
    smooth_track's twin). (Both are tested alone, against known answers:
    tests/udfs/test_positioning.py.) A device's seconds after an uncertain one are uncertain
    too, up to a gap past the smoothing's horizon: their smoothing may or may not have
    seen that one.

    `newest_before[i]` is the newest event time the job had read before probes[i] (by
    default, the newest of the probes before it)."""
    strongest: dict[PositionKey, dict[str, int]] = defaultdict(dict)
    uncertain: set[PositionKey] = set()
    newest, seen = -(2**62), set()
    for i, e in enumerate(probes):
        before = newest if newest_before is None else newest_before[i]
        newest = max(newest, e.occur_ms)
        if e.randomized or e.staff or e.rssi < t.mall_min_rssi or not e.on_time or e.event_id in seen:
            continue
        seen.add(e.event_id)
        key = (e.mall_id, e.occur_ms // 1000, e.device_id)
        if e.occur_ms < before - delay_ms:
            uncertain.add(key)
        heard = strongest[key]
        heard[e.ap_mac] = max(heard.get(e.ap_mac, -999), e.rssi)
    tracks: dict[tuple[str, str], list[tuple[PositionKey, Fix]]] = defaultdict(list)
    for key in sorted(strongest, key=lambda k: k[1]):
        mall_id, second, device_id = key
        plan = plans(mall_id)
        reports = [Heard(*probe_xy[ap], rssi) for ap, rssi in strongest[key].items()]
        x, y, zone = locate(plan, reports, t.mall_min_rssi)
        tracks[(mall_id, device_id)].append((key, (second * 1000, x, y, zone, plan.room(x, y))))
    certain = {}
    for track in tracks.values():
        points = Tracker().smooth(fix for _, fix in track)
        doubtful = False
        for i, ((key, fix), (x, y)) in enumerate(zip(track, points, strict=True)):
            # A fix past the horizon after the one before starts a track whether or not
            # an uncertain second came earlier.
            if i and fix[0] - track[i - 1][1][0] > Tracker().horizon_s * 1000:
                doubtful = False
            doubtful = doubtful or key in uncertain
            if doubtful:
                uncertain.add(key)
            else:
                certain[key] = (x, y, fix[3])
    return Positions(certain, uncertain)


# --- from the simulator's records, in the order they were published ---------------------

@dataclass
class Expected:
    probes: list[ProbeEvent]
    doors: list[DoorEvent]
    #: (source topic, reason) -> messages the job must reject
    rejects: dict[tuple[str, str], int]
    #: For each of `probes`, the newest event time on its partition before it, as the job
    #: reads event times (rejected messages included): what its live watermark follows.
    probe_newest_before: list[int]
    #: Valid till transactions within the allowed lateness, duplicates included.
    sales: list[SaleEvent] = field(default_factory=list)


def from_records(records, layout, salt: str, limits: Limits = LIMITS,  # type: ignore[no-untyped-def]
                 now_ms: int | None = None, partition_of: Callable[..., int] = lambda record: 0) -> Expected:
    """Split published records as the contract says: accepted (on time for the windows or
    not), late, or rejected (and why).

    Each message is judged against the newest event time read from its partition up to
    it (every message's, as the job's source reads them: `event_time_read`);
    `partition_of(record)` says which partition of its topic a record went to.
    `now_ms` is the job's clock for the future rule (None: the wall clock)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    probes_by_mac = {p.ap_mac: (m.mall_id, p.shop_code) for m in layout.malls for p in m.probes}
    fronts = {p.ap_mac: p.fronts for m in layout.malls for p in m.probes if p.fronts}
    malls = {m.mall_id: m.tz for m in layout.malls}
    shop_names = {(m.mall_id, s.shop_code): s.shop_name for m in layout.malls for s in m.shops}
    currencies = {m.mall_id: m.currency for m in layout.malls}
    rejects: dict[tuple[str, str], int] = defaultdict(int)
    valid: dict[str, list[tuple[bytes, bool]]] = defaultdict(list)
    newest: dict[tuple[str, int], int] = defaultdict(lambda: -(2**62))
    probe_newest_before = []
    for record in records:
        partition = (record.topic, partition_of(record))
        before = newest[partition]
        newest[partition] = max(before, event_time_read(record.value, now_ms, limits))
        if record.topic == "wifi-probes":
            reason = probe_reason(record.value, probes_by_mac, now_ms, limits)
        elif record.topic == "pos-transactions":
            reason = pos_reason(record.value, shop_names, currencies, now_ms, limits)
        else:
            reason = door_reason(record.value, malls, now_ms, limits)
        on_time = True
        if reason is None:
            occur = json.loads(record.value)["occur_time"]
            if occur <= newest[partition] - limits.allowed_lateness_ms:
                reason = "late"
            on_time = occur > newest[partition] - limits.watermark_delay_ms
        if reason is None:
            valid[record.topic].append((record.value, on_time))
            if record.topic == "wifi-probes":
                probe_newest_before.append(before)
        else:
            rejects[(record.topic, reason)] += 1
    return Expected(
        probe_events(valid["wifi-probes"], salt, probes_by_mac, malls, shop_names, fronts),
        door_events([body for body, _ in valid["door-sensors"]], malls),
        dict(rejects),
        probe_newest_before,
        sale_events([body for body, _ in valid["pos-transactions"]], shop_names, malls),
    )


def with_staff(probes: list[ProbeEvent], staff: dict[tuple[str, str], str | None]) -> list[ProbeEvent]:
    """`probes` with `staff` set as the ingestion sets it: the device is in `staff`
    ((mall_id, device_id) -> the local day it is staff from, None for every day)."""
    def is_staff(e: ProbeEvent) -> bool:
        if (e.mall_id, e.device_id) not in staff:
            return False
        since = staff[(e.mall_id, e.device_id)]
        return since is None or local(e.occur_ms, e.tz)[0] >= since

    return [dataclasses.replace(e, staff=True) if is_staff(e) else e for e in probes]


def event_time_read(body: bytes, now_ms: int, limits: Limits = LIMITS) -> int:
    """The event time the job's source reads from any message: occur_time if it is a
    whole number (or text of one), else 0; 0 for a message over the size limit, and -1
    for one ahead of the clock."""
    if len(body.decode("utf-8", errors="replace")) > limits.max_message_chars:
        return 0
    try:
        value = json.loads(body).get("occur_time")
        occur = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else 0
    except (ValueError, AttributeError, TypeError):
        return 0
    if not -(2**63) <= occur < 2**63:
        return 0
    return -1 if occur > now_ms + limits.future_tolerance_ms else occur


def door_reason(body: bytes, malls: dict[str, str], now_ms: int | None = None, limits: Limits = LIMITS) -> str | None:
    """Why a door-sensors message is rejected (before the late check), or None."""
    if len(body.decode("utf-8", errors="replace")) > limits.max_message_chars:
        return "too_large"
    try:
        m = parse(body)
    except ValueError:
        return "not_json"
    if not isinstance(m, dict):
        return "not_json"
    names = ("sensor_id", "mall_id", "entrance", "occur_time", "in_count", "out_count")
    if any(m.get(n) is None for n in names):
        return "missing_field"
    if not all(isinstance(m[n], str) for n in names[:3]) or not _whole(m["occur_time"], 15, False) \
            or not _whole(m["in_count"], 9, True) or not _whole(m["out_count"], 9, True):
        return "wrong_type"
    if m["in_count"] < 0 or m["out_count"] < 0:
        return "count_out_of_range"
    if now_ms is not None and m["occur_time"] > now_ms + limits.future_tolerance_ms:
        return "future"
    return None if m["mall_id"] in malls else "unknown_mall"
