"""The alert rules against staged incidents (`make alerts-eval`, bench/results/alerts.md).

    python -m bench.alerts_eval [--malls 2] [--history-weeks 3] [--visitors-per-day 1500] [--seed 7]

For each mall the simulator makes `--history-weeks` ordinary weeks, then a week with one
incident of each kind (simulators/incidents.py: a probe dark for 45 minutes, a door
counter dead for 2 hours, a probe keeping a fifth of its reports for 4 hours, a crowd
surge, a day at 40 % of its arrivals, a probe not in the layout reporting for 3 hours),
each with its truth. What the job would write for
the rules (each probe's and counter's newest report, the occupancy and the day's people
per visitor, the hourly visitors, door entries and per-probe reports) is worked out from
the simulated reports by the design's definitions, as they arrive; the rules are the
product's own (footfall/alerts.py: the readings, the hold and hysteresis of `step`, the
defaults), evaluated every minute of event time as the product evaluates them every
FOOTFALL_ALERTS_EVERY_SECONDS, with the expected footfall of footfall/expected.py.

The mall's capacity is set as an operator sets a fire limit: 25 % over the most
estimated people of the ordinary weeks; the surge brings that capacity again (in people,
arriving over half an hour, each on an ordinary visit).

Reported per rule: incidents detected (an alert of the incident's rule, on its subject,
opened between its start and its end plus the rule's limit), the detection delay from
the incident's start (p50, p95), and false alarms (alerts opened when no incident of the
mall was on, nor within the hourly rules' look-back after one: 3 h 5 min) per mall and
week. The limit of a rule is its own: the silence (15, 30
minutes), the occupancy's hold after the surge has arrived (its first quarter), an hour
closed (5 minutes after it ends) for the hourly rules, 5 minutes for an unregistered
probe's tenth report.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import statistics
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from footfall import alerts, expected
from footfall.alerts import DEFAULTS, Reading, Rule, State
from footfall.settings import MetricSettings, Settings, Topics
from simulators.incidents import KINDS, RULE_OF, Incident, staged_week
from simulators.layout import Layout, Mall, default_layout
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig

RESULTS = Path(__file__).parent / "results" / "alerts.md"
TICK = 60.0  # seconds of event time between evaluations
MALL_MIN_RSSI = int(MetricSettings.model_fields["mall_min_rssi"].default)
MALL_MIN_DWELL = float(MetricSettings.model_fields["mall_min_dwell_seconds"].default)
VISIT_GAP = 300.0
POSITION_TTL = 300.0
CAPACITY_HEADROOM = 1.25
GRACE = 120.0  # seconds: the evaluation's own pace (every minute here, 30 s in the product)
#: The longest the hourly rules look back at an hour: capture_drift's two hours, judged
#: twice (its hold), the last closed 5 minutes after it ends.
LOOK_BACK = (alerts.DRIFT_HOURS + 1) * 3600 + expected.HOUR_CLOSED.total_seconds()
SURGE_SHARE = 1.0
WEEKS = Settings().expected.weeks
#: The first eval week starts on this Monday (a local midnight in each mall).
FIRST_DAY = date(2031, 3, 3)


def rule(mall_id: str, name: str) -> Rule:
    d = DEFAULTS[name]
    return Rule(mall_id, name, "", d["warning"], d["critical"], d["clear"], d["hold_seconds"], d["min_size"])


@dataclass
class Outputs:
    """What the job would have written for one mall, kept up to date report by report."""

    mall: Mall
    heard: dict[str, int] = field(default_factory=dict)  # ap_mac -> newest report (ms)
    doors: dict[str, int] = field(default_factory=dict)  # sensor_id -> newest report (ms)
    entries: dict[tuple[date, int], int] = field(default_factory=lambda: defaultdict(int))
    reports: dict[tuple[date, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    visitors: dict[tuple[date, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    day_visitors: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    visit: dict[str, tuple[float, float]] = field(default_factory=dict)  # device -> (visit start, last)
    live: OrderedDict[str, float] = field(default_factory=OrderedDict)  # device -> last qualifying report
    #: Reports of probes not in the layout (rejected): ap_mac -> (newest, reports).
    unknown: dict[str, tuple[int, int]] = field(default_factory=dict)
    registered: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.registered = {p.ap_mac for p in self.mall.probes}

    def local(self, t: float) -> tuple[date, int]:
        here = datetime.fromtimestamp(t, self.mall.zone)
        return here.date(), here.hour

    def add(self, topic: str, value: bytes) -> None:
        m = json.loads(value)
        t = m["occur_time"] / 1000
        key = self.local(t)
        if topic == Topics.DOOR_SENSORS:
            self.doors[m["sensor_id"]] = max(self.doors.get(m["sensor_id"], 0), m["occur_time"])
            self.entries[key] += m["in_count"]
            return
        ap = m["ap_mac"]
        if ap not in self.registered:  # turned away: unknown_probe
            newest, reports = self.unknown.get(ap, (0, 0))
            self.unknown[ap] = (max(newest, m["occur_time"]), reports + 1)
            return
        self.heard[ap] = max(self.heard.get(ap, 0), m["occur_time"])
        self.reports[key][ap] += 1
        mac = m["device_mac"]
        if m["rssi"] < MALL_MIN_RSSI or int(mac[:2], 16) & 2:  # not qualifying, or randomised
            return
        start, last = self.visit.get(mac, (t, t))
        if t - last > VISIT_GAP:
            start = t
        self.visit[mac] = (start, max(t, last))
        if t - start >= MALL_MIN_DWELL:
            self.visitors[key].add(mac)
            self.day_visitors[key[0]].add(mac)
        self.live[mac] = t
        self.live.move_to_end(mac)

    def occupancy(self, now: float) -> int:
        while self.live and next(iter(self.live.values())) < now - POSITION_TTL:
            self.live.popitem(last=False)
        return len(self.live)

    def people_per_visitor(self, day: date) -> float:
        """The day's door entries per visitor so far (design §4 item 15, one visit each)."""
        visitors = len(self.day_visitors.get(day, ()))
        entries = sum(n for (d, _), n in self.entries.items() if d == day)
        return max(entries / visitors, 1.0) if visitors and entries else 1.0

    def hourly(self, day: date) -> dict[tuple[str, int], int]:
        return {("", h): len(v) for (d, h), v in self.visitors.items() if d == day}


@dataclass
class Opened:
    rule: str
    subject: str
    at: float


class Evaluator:
    """The product's rules over the outputs, every TICK seconds of event time."""

    def __init__(self, outputs: Outputs, capacity: float) -> None:
        self.outputs, self.capacity = outputs, capacity
        mall_id = outputs.mall.mall_id
        self.rules = {name: rule(mall_id, name) for name in DEFAULTS}
        self.states: dict[str, State] = defaultdict(State)
        self.opened: list[Opened] = []
        self.judged_hour: tuple[date, int] | None = None
        self.now = 0.0
        self._expected: tuple[tuple[date, int], dict[tuple[str, int], tuple[expected.Expectation, float]]] | None = None

    def record(self, subject_rule: Rule, reading: Reading | None) -> None:
        """Apply a reading; an alert that opens counts from this evaluation's time (the
        product's: an hourly rule's reading is of an hour that closed earlier)."""
        if reading is None:
            return
        state, kind = alerts.step(subject_rule, self.states[subject_rule.alert_id], reading)
        self.states[subject_rule.alert_id] = state
        if kind == "opened":
            self.opened.append(Opened(subject_rule.rule, subject_rule.subject, self.now))

    def expectations(self, day: date, closed: int) -> dict[tuple[str, int], tuple[expected.Expectation, float]]:
        """Today's expectations as the product refreshes them (here: once an hour closes)."""
        if self._expected is None or self._expected[0] != (day, closed):
            counts = {d: self.outputs.hourly(d) for d in {d for d, _ in self.outputs.visitors} if d <= day}
            self._expected = (day, closed), expected.expected_days(counts, day, closed, 0, WEEKS)[day]
        return self._expected[1]

    def tick(self, now: float) -> None:
        self.now = now
        out = self.outputs
        at = datetime.fromtimestamp(now, UTC)
        local = datetime.fromtimestamp(now, out.mall.zone)
        day = local.date()
        closed = expected.closed_hours(day, local)
        hour_expected = self.expectations(day, closed)
        baselines = {h: e.baseline for (_, h), (e, _) in hour_expected.items()}
        probe, door = self.rules["probe_silent"], self.rules["door_silent"]
        for subject_rule, reading in alerts.silent_readings(probe, out.heard, at,
                                                            alerts.activity(baselines, local, probe)):
            self.record(subject_rule, reading)
        newest_probe = max(out.heard.values(), default=0)
        for subject_rule, reading in alerts.silent_readings(door, out.doors, at,
                                                            alerts.activity(baselines, local, door),
                                                            newest_ms=newest_probe):
            self.record(subject_rule, reading)
        for subject_rule, reading in alerts.unregistered_readings(alerts.UNREGISTERED, out.unknown, out.registered,
                                                                  at):
            self.record(subject_rule, reading)
        people = out.occupancy(now) * out.people_per_visitor(day)
        self.record(self.rules["occupancy"], alerts.occupancy_reading(self.rules["occupancy"], people,
                                                                     int(self.capacity), at))
        if closed == 0 or (day, closed) == self.judged_hour:
            return
        self.judged_hour = (day, closed)
        hour = closed - 1
        hour_end = datetime.combine(day, datetime.min.time(), out.mall.zone) + timedelta(hours=closed)
        band = hour_expected.get(("", hour))
        if band is not None and band[0].weeks > 0:
            e, value = band
            factor = value / e.baseline if e.baseline else 1.0
            self.record(self.rules["footfall_band"], alerts.band_reading(
                self.rules["footfall_band"], len(out.visitors.get((day, hour), ())), value, e.low * factor,
                e.high * factor, hour_end))
        self.degraded(day, hour, hour_end)
        self.drift(day, closed, hour_end)

    def degraded(self, day: date, hour: int, at: datetime) -> None:
        out, name = self.outputs, "probe_degraded"
        now = out.reports.get((day, hour), {})
        if not now:
            return
        past = [out.reports.get((day - timedelta(days=n), hour), {}) for n in range(1, alerts.USUAL_DAYS + 1)]
        for ap in sorted(out.heard):
            usual = alerts.usual_share((p.get(ap, 0), sum(p.values())) for p in past)
            self.record(replace(self.rules[name], subject=ap),
                        alerts.degraded_reading(self.rules[name], now.get(ap, 0), sum(now.values()), usual, at))

    def drift(self, day: date, closed: int, at: datetime) -> None:
        out, r = self.outputs, self.rules["capture_drift"]
        hours = range(max(0, closed - alerts.DRIFT_HOURS), closed)

        def counts(d: date) -> tuple[int, int]:
            return (sum(len(out.visitors.get((d, h), ())) for h in hours),
                    sum(out.entries.get((d, h), 0) for h in hours))

        past = [counts(day - timedelta(days=n)) for n in range(1, alerts.USUAL_DAYS + 1)]
        usual = alerts.median([v / e for v, e in past if e >= r.min_size])
        self.record(r, alerts.drift_reading(r, *counts(day), usual, at))


def limit_of(incident: Incident, outputs: Outputs) -> float:
    """How long after its start the incident's rule may take (see the module's text): its
    limit, and for an hourly rule the hours it must see (its hold: one hour more)."""
    if incident.rule == "unregistered_probe":  # its tenth report: within a minute in opening hours
        return 5 * 60.0
    d = DEFAULTS[incident.rule]
    if incident.rule in ("probe_silent", "door_silent"):
        return float(d["warning"])
    if incident.rule == "occupancy":
        return (incident.end - incident.start) / 4 + float(d["hold_seconds"])
    # Hourly rules: the first whole hour in the incident; for the band, the first in which
    # the dip can reach the rule's minimum (the same hour's usual visitors, from the weeks
    # before, times the share missing); then the hold's hours, each closed.
    first_hour = math.ceil(incident.start / 3600) * 3600
    if incident.rule == "footfall_band":
        while first_hour < incident.end:
            day, hour = outputs.local(first_hour)
            usual = statistics.median([len(outputs.visitors.get((day - timedelta(days=7 * w), hour), ()))
                                       for w in range(1, WEEKS + 1)])
            if usual * (1 - incident.magnitude) >= d["min_size"]:
                break
            first_hour += 3600
    return first_hour + 3600 + float(d["hold_seconds"]) + expected.HOUR_CLOSED.total_seconds() - incident.start


def simulate(mall: Mall, start: float, end: float, seed: int, visitors_per_day: int, outputs: Outputs,
             incidents: tuple[Incident, ...] = (), evaluator: Evaluator | None = None) -> float:
    """Feed the outputs with the mall's reports from start to end; evaluate every TICK.
    Returns the most estimated people seen at a tick (for the capacity)."""
    config = SimulationConfig(start=start, end=end, seed=seed, behaviour=Behaviour(visitors_per_day=visitors_per_day),
                              incidents=incidents, run=f"eval{seed}")
    next_tick, most = start + TICK, 0.0
    for record in Simulation(Layout((mall,)), config).records():
        while record.time >= next_tick:
            if evaluator is not None:
                evaluator.tick(next_tick)
            day = datetime.fromtimestamp(next_tick, mall.zone).date()
            most = max(most, outputs.occupancy(next_tick) * outputs.people_per_visitor(day))
            next_tick += TICK
        outputs.add(record.topic, record.value)
    return most


def run_mall(args: tuple[Mall, int, int, int]) -> dict[str, Any]:
    mall, history_weeks, visitors_per_day, seed = args
    first = datetime.combine(FIRST_DAY, datetime.min.time(), mall.zone)
    eval_start = first + timedelta(days=7 * history_weeks)
    eval_end = eval_start + timedelta(days=7)
    outputs = Outputs(mall)
    most = simulate(mall, first.timestamp(), eval_start.timestamp(), seed, visitors_per_day, outputs)
    capacity = max(1.0, most * CAPACITY_HEADROOM)
    rng = np.random.default_rng([seed, 99])
    incidents = tuple(staged_week(mall, eval_start, rng, surge_people=int(capacity * SURGE_SHARE)))
    evaluator = Evaluator(outputs, capacity)
    simulate(mall, eval_start.timestamp(), eval_end.timestamp(), seed + 1, visitors_per_day, outputs, incidents,
             evaluator)
    return {"mall_id": mall.mall_id, "capacity": capacity, "incidents": incidents,
            "limits": [limit_of(i, outputs) for i in incidents], "opened": evaluator.opened}


def score(results: list[dict[str, Any]]) -> tuple[str, list[str]]:
    per_rule: dict[str, dict[str, Any]] = {r: {"incidents": 0, "detected": 0, "in_time": 0, "delays": [], "false": 0}
                                          for r in alerts.RULES}
    lines = []
    for result in results:
        limits = dict(zip(result["incidents"], result["limits"], strict=True))
        for incident in result["incidents"]:
            row = per_rule[incident.rule]
            row["incidents"] += 1
            hits = [(i, o) for i, o in enumerate(result["opened"])
                    if o.rule == incident.rule and o.subject == incident.subject
                    and incident.start <= o.at <= incident.end + limits[incident]]
            delay = (hits[0][1].at - incident.start) if hits else None
            if hits:
                row["detected"] += 1
                row["in_time"] += delay <= limits[incident] + GRACE
                row["delays"].append(delay)
            lines.append(f"{result['mall_id']} {incident.kind} {incident.subject or '-'} "
                         f"{datetime.fromtimestamp(incident.start, UTC):%a %H:%M}Z: "
                         + (f"{incident.rule} after {delay / 60:.1f} min (limit {limits[incident] / 60:.0f})"
                            if delay is not None else "NOT DETECTED"))
        # Any alert opened while an incident of the mall is on, or until the hourly rules
        # have stopped looking back at it, is the incident's doing: a dead counter also
        # moves the capture rate of the hours that held it.
        for o in result["opened"]:
            if any(inc.start <= o.at <= inc.end + max(limits[inc], LOOK_BACK) for inc in result["incidents"]):
                continue
            per_rule[o.rule]["false"] += 1
            lines.append(f"{result['mall_id']} false alarm: {o.rule} {o.subject or '-'} "
                         f"{datetime.fromtimestamp(o.at, UTC):%a %H:%M}Z")
    rows = ["| rule | incident | staged | detected | within limit + 2 min | delay p50 | delay p95 | limit (longest) "
            "| false alarms per mall-week |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    malls = len(results)
    kind_of = {v: k for k, v in RULE_OF.items()}
    for name in alerts.RULES:
        row = per_rule[name]
        delays = sorted(row["delays"])
        p50 = f"{statistics.median(delays) / 60:.1f} min" if delays else "–"
        p95 = f"{delays[min(len(delays) - 1, int(0.95 * len(delays)))] / 60:.1f} min" if delays else "–"
        most = [lim for r in results for i, lim in zip(r["incidents"], r["limits"], strict=True) if i.rule == name]
        limit = f"{max(most) / 60:.0f} min" if most else "–"
        rows.append(f"| {name} | {kind_of.get(name, '–')} | {row['incidents']} | {row['detected']} | {row['in_time']} "
                    f"| {p50} | {p95} "
                    f"| {limit} | {row['false'] / malls:.2f} |")
    return "\n".join(rows), lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--malls", type=int, default=2, help="simulated malls, one process each (2 cores: 2)")
    parser.add_argument("--history-weeks", type=int, default=3, help="ordinary weeks before the week of incidents")
    parser.add_argument("--visitors-per-day", type=int, default=1500, help="each mall's visitors on a weekday")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    malls = default_layout(args.malls).malls
    jobs = [(mall, args.history_weeks, args.visitors_per_day, args.seed + 10 * i) for i, mall in enumerate(malls)]
    with multiprocessing.get_context("spawn").Pool(min(2, len(jobs))) as pool:
        results = pool.map(run_mall, jobs)
    table, lines = score(results)
    kinds = ", ".join(KINDS)
    report = (f"# Alerts against staged incidents\n\n{datetime.now():%Y-%m-%d %H:%M}: {len(results)} malls, "
              f"{args.history_weeks} ordinary weeks then a week with one incident of each kind ({kinds}), "
              f"{args.visitors_per_day} visitors a weekday, seed {args.seed}, the default rules "
              f"(`python -m bench.alerts_eval`).\n\n{table}\n\nEach incident:\n\n"
              + "\n".join(f"- {line}" for line in lines) + "\n")
    print(report)
    RESULTS.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
