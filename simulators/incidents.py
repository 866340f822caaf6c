"""Staged incidents: the things that go wrong in a mall, each with its truth, so the alerts
can be scored (bench/alerts_eval.py, `make alerts-eval`).

An incident changes what the simulation emits from its start to its end:

- `probe_dark`: a probe reports nothing (unplugged, its uplink down);
- `door_dead`: a door counter reports nothing;
- `antenna_degraded`: a probe keeps only `magnitude` (a share) of its reports;
- `crowd_surge`: `magnitude` extra people arrive, evenly over the first quarter of the
  incident, each on an ordinary visit (an event, a queue at an opening);
- `empty_day`: the mall's arrivals are `magnitude` (a share) of a usual day's from the
  start to the end (a storm, a closed motorway);
- `probe_unregistered`: a probe installed beside the probe `near` and never added to the
  layout reports, as its neighbour does, under its own ap_mac (`subject`).

Each incident names the rule that should catch it (`RULE_OF`). `staged_week` draws a week
of them for a mall, spaced so that each one's effects are over before the next begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from simulators.layout import Mall

KINDS = ("probe_dark", "door_dead", "antenna_degraded", "crowd_surge", "empty_day", "probe_unregistered")
#: The alert rule (footfall/alerts.py) each kind of incident should open.
RULE_OF = {
    "probe_dark": "probe_silent",
    "door_dead": "door_silent",
    "antenna_degraded": "probe_degraded",
    "crowd_surge": "occupancy",
    "empty_day": "footfall_band",
    "probe_unregistered": "unregistered_probe",
}
#: The ap_mac of the unregistered probe staged in a mall (not shaped as the layout's are).
UNREGISTERED_MAC = "0a:bc:de:00:00:01"


@dataclass(frozen=True)
class Incident:
    kind: str
    mall_id: str
    #: The probe's ap_mac, the door counter's sensor_id, or '' for the mall.
    subject: str
    start: float  # epoch seconds
    end: float
    magnitude: float = 1.0
    #: probe_unregistered: the registered probe it sits beside.
    near: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"incident kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.end <= self.start:
            raise ValueError(f"incident {self.kind} ends before it starts")

    @property
    def rule(self) -> str:
        return RULE_OF[self.kind]

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


class Incidents:
    """The incidents of a simulation, looked up by what they silence or change."""

    def __init__(self, incidents: tuple[Incident, ...] = ()) -> None:
        self.all = incidents
        self._by_subject: dict[tuple[str, str], list[Incident]] = {}
        self._near: dict[tuple[str, str], list[Incident]] = {}
        for incident in incidents:
            self._by_subject.setdefault((incident.mall_id, incident.subject), []).append(incident)
            if incident.near:
                self._near.setdefault((incident.mall_id, incident.near), []).append(incident)

    def __bool__(self) -> bool:
        return bool(self.all)

    def _active(self, mall_id: str, subject: str, t: float, kind: str) -> Incident | None:
        for incident in self._by_subject.get((mall_id, subject), ()):
            if incident.kind == kind and incident.covers(t):
                return incident
        return None

    def keep_report(self, mall_id: str, ap_mac: str, t: float, draw: float) -> bool:
        """Whether a probe's report at t gets out (draw: uniform in [0, 1))."""
        if self._active(mall_id, ap_mac, t, "probe_dark"):
            return False
        degraded = self._active(mall_id, ap_mac, t, "antenna_degraded")
        return degraded is None or draw < degraded.magnitude

    def shadows(self, mall_id: str, ap_mac: str, t: float) -> list[str]:
        """The unregistered probes beside `ap_mac` that hear what it hears at t."""
        return [i.subject for i in self._near.get((mall_id, ap_mac), ()) if i.covers(t)]

    def door_reports(self, mall_id: str, sensor_id: str, t: float) -> bool:
        return self._active(mall_id, sensor_id, t, "door_dead") is None

    def arrival_share(self, mall_id: str, t: float) -> float:
        empty = self._active(mall_id, "", t, "empty_day")
        return empty.magnitude if empty else 1.0

    def surges(self, mall_id: str) -> list[Incident]:
        return [i for i in self._by_subject.get((mall_id, ""), ()) if i.kind == "crowd_surge"]


def staged_week(mall: Mall, week_start: datetime, rng: np.random.Generator, surge_people: int) -> list[Incident]:
    """One incident of each kind in the mall's week from `week_start` (a local midnight),
    each on its own day, in opening hours: a probe dark for 45 minutes, a door counter
    dead for 2 hours, a probe keeping a fifth of its reports for 4 hours, a surge of
    `surge_people` over 2 hours, a day at 40 % of its usual arrivals, and an unregistered
    probe reporting for 3 hours. The probes and
    counters are drawn at random; the times within their day too."""
    days = [int(d) for d in rng.permutation(7)[: len(KINDS)]]  # six kinds: six days of seven
    out = []
    for kind, day in zip(KINDS, days, strict=True):
        midnight = (week_start + timedelta(days=day, hours=3)).replace(hour=0)
        if kind == "empty_day":
            start = midnight.replace(hour=mall.opening_hour)
            end = midnight.replace(hour=mall.closing_hour)
            out.append(Incident(kind, mall.mall_id, "", start.timestamp(), end.timestamp(), 0.4))
            continue
        hours = {"probe_dark": 0.75, "door_dead": 2.0, "antenna_degraded": 4.0, "crowd_surge": 2.0,
                 "probe_unregistered": 3.0}[kind]
        # Well inside the opening hours: the afternoon, when the mall is busy enough to
        # tell a silent probe from a quiet one.
        start = midnight + timedelta(hours=float(rng.uniform(mall.opening_hour + 3, mall.closing_hour - 2 - hours)))
        if kind == "probe_dark" or kind == "antenna_degraded":
            subject = mall.probes[int(rng.integers(0, len(mall.probes)))].ap_mac
        elif kind == "door_dead":
            subject = mall.entrances[int(rng.integers(0, len(mall.entrances)))].sensor_id
        elif kind == "probe_unregistered":
            subject = UNREGISTERED_MAC
        else:
            subject = ""
        near = mall.probes[int(rng.integers(0, len(mall.probes)))].ap_mac if kind == "probe_unregistered" else ""
        magnitude = {"probe_dark": 0.0, "door_dead": 0.0, "antenna_degraded": 0.2,
                     "crowd_surge": float(surge_people), "probe_unregistered": 1.0}[kind]
        start_ts = start.timestamp()
        out.append(Incident(kind, mall.mall_id, subject, start_ts, start_ts + hours * 3600, magnitude, near))
    return sorted(out, key=lambda i: i.start)
