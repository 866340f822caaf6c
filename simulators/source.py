"""The event source: shoppers' phones and door counters as time-ordered Kafka records.

One `Simulation` yields `Record`s in the order they would reach the broker. Everything
random comes from one generator seeded by (seed, worker), so the same settings give the
same records. The same object drives the demo, the tests and the load generator; `stop()`
ends the stream early.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from simulators import tills
from simulators.faults import FaultInjector, Faults
from simulators.incidents import Incident, Incidents
from simulators.layout import Layout, Mall
from simulators.paths import CORRIDOR, OUTSIDE, zone_name
from simulators.radio import MallRadio, RadioModel
from simulators.records import Record, door_record, pos_record, probe_record
from simulators.shoppers import CATEGORY_DWELL_MIN, Behaviour, Itineraries, Passage, Person, Trip, arrival_times
from simulators.truth import Truth


def unused_past_day() -> date:
    """A day in the past that changes every minute (cycling over about 30 years), for a
    test or benchmark run whose rows must not meet an earlier run's. In the past, because
    the job rejects reports stamped ahead of its clock."""
    return date(1990, 1, 1) + timedelta(days=int(time.time() // 60) % 11000)


@dataclass(frozen=True)
class SimulationConfig:
    start: float  # epoch seconds
    end: float | None = None  # epoch seconds; None: until stopped
    seed: int = 42
    behaviour: Behaviour = field(default_factory=Behaviour)
    radio: RadioModel = field(default_factory=RadioModel)
    faults: Faults = field(default_factory=Faults)
    door_interval: float = 60.0
    #: Load mode splits the shoppers between processes: this one simulates `1/workers` of them.
    worker: int = 0
    workers: int = 1
    #: Part of every event id, so a run that resumes another does not reuse its ids.
    run: str = ""
    #: Staged incidents (simulators/incidents.py): a dark probe, a dead door counter...
    incidents: tuple[Incident, ...] = ()
    #: The shops' tills: refunds and outages (simulators/tills.py).
    tills: tills.TillBehaviour = field(default_factory=tills.TillBehaviour)


#: How many past visitors per mall may come back (bounds memory on long runs).
RETURNING_POOL_LIMIT = 200_000

# Heap item kinds, in the order they run when due at the same instant.
_DAY, _ARRIVE, _PASS, _PING, _PASSAGE, _DOOR, _EMIT = range(7)


class _MallState:
    def __init__(self, index: int, mall: Mall, config: SimulationConfig, rng: np.random.Generator) -> None:
        self.index = index
        self.mall = mall
        self.radio = MallRadio(mall, config.radio)
        self.itineraries = Itineraries(mall, index, config.behaviour, np.random.default_rng([config.seed, index]))
        self.returning: list[Person] = []
        self.today: set[str] = set()
        #: shop_code -> (start, end) epoch seconds of its till's outage on the current day.
        self.till_outages: dict[str, tuple[float, float]] = {}
        #: People through each entrance since its last report, in and out: as they were,
        #: and as its counter counted them (each counter off by a factor of its own).
        self.door_in = [0] * len(mall.entrances)
        self.door_out = [0] * len(mall.entrances)
        self.counted_in = [0] * len(mall.entrances)
        self.counted_out = [0] * len(mall.entrances)
        error = config.behaviour.door_error
        self.door_factor = 1.0 + np.random.default_rng([config.seed, index, 3]).uniform(-error, error,
                                                                                         len(mall.entrances))
        # Per-probe clock skew in seconds (most probes keep good time).
        skewed = rng.random(len(mall.probes)) < config.faults.skewed_probe_share
        self.skew = np.where(skewed, rng.uniform(-1, 1, len(mall.probes)) * config.faults.max_skew_seconds, 0.0)


class Simulation:
    def __init__(self, layout: Layout, config: SimulationConfig, truth: Truth | None = None) -> None:
        self.layout = layout
        self.config = config
        self.truth = truth or Truth()
        self.rng = np.random.default_rng([config.seed, config.worker, 7])
        self.faults = FaultInjector(config.faults, self.rng)
        # The tills draw from a generator of their own, so a change to the sales leaves the
        # people's arrivals and choices as they were.
        self.till_rng = np.random.default_rng([config.seed, config.worker, 11])
        self.till_faults = FaultInjector(config.faults, self.till_rng)
        self.incidents = Incidents(config.incidents)
        # The incidents draw from a generator of their own too, so a run with one is the run
        # without it but for what the incident changes.
        self.incident_rng = np.random.default_rng([config.seed, config.worker, 13])
        self.malls = [_MallState(i, mall, config, self.rng) for i, mall in enumerate(layout.malls)]
        self._stop = threading.Event()
        self._heap: list[tuple[float, int, int, object]] = []
        self._seq = 0
        self._people = 0
        self._events = 0
        self._sales = 0
        self._id_prefix = f"{config.seed:x}-{config.run}{'-' if config.run else ''}{config.worker}-"

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # --- scheduling --------------------------------------------------------------------
    def _push(self, t: float, kind: int, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, item))

    def records(self) -> Iterator[Record]:
        start, end = self.config.start, self.config.end
        for state in self.malls:
            local = datetime.fromtimestamp(start, state.mall.zone)
            self._push(start, _DAY, (state, local))
            self._push(start + self.config.door_interval, _DOOR, state)
            for surge in self.incidents.surges(state.mall.mall_id):
                arrivals = surge.start + self.rng.uniform(0, (surge.end - surge.start) / 4, int(surge.magnitude))
                for arrive in sorted(arrivals):
                    if arrive >= start:
                        self._push(float(arrive), _ARRIVE, (state, None))
        try:
            while self._heap and not self.stopped:
                t, kind, _, item = heapq.heappop(self._heap)
                if end is not None and t >= end:
                    break
                if kind == _EMIT:
                    yield item  # type: ignore[misc]
                elif kind == _PING:
                    yield from self._ping(t, item)  # type: ignore[arg-type]
                elif kind == _ARRIVE:
                    self._arrive(t, *item)  # type: ignore[misc]
                elif kind == _PASS:
                    self._pass_by(t, item)  # type: ignore[arg-type]
                elif kind == _PASSAGE:
                    self._passage(*item)  # type: ignore[misc]
                elif kind == _DOOR:
                    yield from self._door(t, item)  # type: ignore[arg-type]
                elif kind == _DAY:
                    self._day(t, *item)  # type: ignore[misc]
            if not self.stopped:
                # Delayed (late, out-of-order) records still arrive, after the simulated period.
                for _t, kind, _, item in sorted(self._heap):
                    if kind == _EMIT:
                        yield item  # type: ignore[misc]
        finally:
            self._heap.clear()
            self.truth.close()  # also when the consumer stops early (max events, Ctrl-C)

    def _day(self, t: float, state: _MallState, local: datetime) -> None:
        mall, config = state.mall, self.config
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        state.today.clear()
        share = 1.0 / config.workers
        for arrive in arrival_times(mall, midnight, config.behaviour, share, self.rng):
            # Drawn only with incidents staged, so a run without them is as before.
            if self.incidents and self.incident_rng.random() >= self.incidents.arrival_share(mall.mall_id, arrive):
                continue
            if arrive >= t:
                self._push(arrive, _ARRIVE, (state, None))
        passers = share * config.behaviour.street_passers_per_visitor
        for at in arrival_times(mall, midnight, config.behaviour, passers, self.rng) if passers else ():
            if at >= t:
                self._push(at, _PASS, state)
        if config.worker == 0:
            open_at = (midnight + timedelta(hours=mall.opening_hour)).timestamp()
            close_at = (midnight + timedelta(hours=mall.closing_hour)).timestamp()
            for n in range(config.behaviour.staff_per_mall):
                if close_at <= t:
                    break
                staff = self._staff(state, n)
                self._push(max(open_at, t), _ARRIVE, (state, (staff, close_at)))
        state.till_outages.clear()
        for shop in mall.shops:
            hour = tills.outage_hour(mall.opening_hour, mall.closing_hour, config.tills, self.till_rng)
            if hour is not None:
                offline = (midnight + timedelta(hours=hour)).timestamp()
                state.till_outages[shop.shop_code] = (offline, offline + 3600)
        next_midnight = (midnight + timedelta(days=1, hours=3)).replace(hour=0)  # DST-proof
        self._push(next_midnight.timestamp(), _DAY, (state, next_midnight))

    def _staff(self, state: _MallState, n: int) -> Person:
        rng = np.random.default_rng([self.config.seed, state.index, 1000 + n])
        return Person(
            person_id=f"staff-{state.mall.mall_id}-{n}",
            randomized=False,
            phoneless=False,
            mac_style=0,
            base_mac=int(rng.integers(0, 2**48)),
            interval=float(rng.uniform(*self.config.behaviour.probe_interval)),
            staff_shop=int(rng.integers(0, len(state.mall.shops))),
        )

    def _new_person(self) -> Person:
        behaviour, rng = self.config.behaviour, self.rng
        self._people += 1
        return Person(
            person_id=f"p{self.config.worker}-{self._people}",
            randomized=bool(rng.random() < behaviour.randomized_share),
            phoneless=bool(rng.random() < behaviour.phoneless_share),
            mac_style=int(rng.integers(0, 3)),
            base_mac=int(rng.integers(0, 2**48)),
            interval=float(rng.uniform(*behaviour.probe_interval)),
        )

    def _arrive(self, t: float, state: _MallState, staff: tuple[Person, float] | None) -> None:
        rng = self.rng
        if staff is not None:
            person, close_at = staff
            trip = state.itineraries.shift(person, t, close_at, rng)
        else:
            person = self._visitor(state)
            trip = state.itineraries.visit(person, t, rng)
            state.itineraries.browse(trip, self._tills(state, trip), rng)
        state.today.add(person.person_id)
        self.truth.trip(state.mall, trip)
        if not person.phoneless:
            self._push(t + rng.uniform(0, person.interval), _PING, (state, trip))
        for passage in trip.passages:
            self._push(passage.t, _PASSAGE, (state, trip, passage))

    def _passage(self, state: _MallState, trip: Trip, passage: Passage) -> None:
        """A party through an entrance's doors: its people, and what the counter makes of
        them (its factor, rounded up or down at random so that it holds on average)."""
        people = 1 + trip.companions
        expected = people * state.door_factor[passage.entrance]
        counted = int(expected) + int(self.rng.random() < expected - int(expected))
        if passage.inward:
            state.door_in[passage.entrance] += people
            state.counted_in[passage.entrance] += counted
        else:
            state.door_out[passage.entrance] += people
            state.counted_out[passage.entrance] += counted

    def _pass_by(self, t: float, state: _MallState) -> None:
        trip = state.itineraries.pass_by(self._new_person(), t, self.rng)
        self.truth.trip(state.mall, trip)
        if not trip.person.phoneless:
            self._push(t + self.rng.uniform(0, trip.person.interval), _PING, (state, trip))

    def _visitor(self, state: _MallState) -> Person:
        """Someone seen on an earlier day (return share), else a new person."""
        pool = state.returning
        if pool and self.rng.random() < self.config.behaviour.return_share:
            for _ in range(5):
                person = pool[int(self.rng.integers(0, len(pool)))]
                if person.person_id not in state.today:
                    return person
        person = self._new_person()
        if len(pool) < RETURNING_POOL_LIMIT:
            pool.append(person)
        return person

    def _tills(self, state: _MallState, trip: Trip) -> list[float | None]:
        """What the visitor buys in each shop of the trip (and any refund later), scheduled
        for the moment each till records it; returns when each stay's purchase is paid
        (None: nothing bought), for the path to pass the till then."""
        mall, rng = state.mall, self.till_rng
        paid: list[float | None] = []
        for stay in trip.stays:
            shop = mall.shops[stay.shop]
            median = CATEGORY_DWELL_MIN.get(shop.category, 8.0) * 60
            sale = tills.purchase(shop.category, mall.currency, stay.start, stay.end, median, rng)
            paid.append(None if sale is None else sale.at)
            if sale is None:
                continue
            self._sale(state, shop.shop_code, sale, trip.person.person_id)
            back = tills.refund(sale, state.itineraries.closing(stay.start), self.config.tills, rng)
            if back is not None:
                self._sale(state, shop.shop_code, back, None)
        return paid

    def _sale(self, state: _MallState, shop_code: str, sale: tills.Purchase, person_id: str | None) -> None:
        if self.config.end is not None and sale.at >= self.config.end:
            return  # after the simulated period, like the probe requests then
        self._sales += 1
        transaction_id = f"{self._id_prefix}t{self._sales:x}"
        outage = state.till_outages.get(shop_code)
        sent = outage is None or not outage[0] <= sale.at < outage[1]
        self.truth.sale(state.mall, shop_code, sale.at, transaction_id, sale.amount_minor, sale.items, person_id, sent)
        if not sent:
            return
        record = pos_record(transaction_id, state.mall.mall_id, shop_code, int(sale.at * 1000), sale.amount_minor,
                            state.mall.currency, sale.items, f"{shop_code}-till-1", sale.at)
        for out in self.till_faults.apply(record) if self.till_faults.active else (record,):
            if out.kind != record.kind:
                self.truth.fault(out)
            self._push(out.time, _EMIT, out)

    # --- emitting ----------------------------------------------------------------------
    def _ping(self, t: float, item: tuple[_MallState, Trip]) -> Iterator[Record]:
        state, trip = item
        if t > trip.leave:
            return
        person = trip.person
        x, y, shop = trip.where(t)
        interval = person.interval * self.rng.uniform(0.8, 1.2)
        self._push(t + interval, _PING, item)
        if shop == OUTSIDE and not trip.passing:
            return  # out for a break, beyond the probes' range
        heard, rssi = state.radio.hear(x, y, max(shop, CORRIDOR), self.rng)
        mac = person.mac_at(t, self.config.behaviour.rotation_minutes * 60)
        self.truth.position(state.mall, t, mac, x, y, zone_name(state.mall, shop))
        macs = state.radio.macs
        for probe, level in zip(heard.tolist(), rssi.tolist()):
            if self.incidents and not self.incidents.keep_report(state.mall.mall_id, macs[probe], t,
                                                                        self.incident_rng.random()):
                continue
            self._events += 1
            occur_ms = int((t + state.skew[probe]) * 1000)
            record = probe_record(f"{self._id_prefix}{self._events:x}", macs[probe], mac, level, occur_ms, t)
            yield from self._deliver(record)
            for shadow in self.incidents.shadows(state.mall.mall_id, macs[probe], t) if self.incidents else ():
                self._events += 1
                yield from self._deliver(probe_record(f"{self._id_prefix}{self._events:x}", shadow, mac, level,
                                                      occur_ms, t))

    def _door(self, t: float, state: _MallState) -> Iterator[Record]:
        for i, entrance in enumerate(state.mall.entrances):
            counts = state.counted_in[i], state.counted_out[i]
            self.truth.door(state.mall, entrance.sensor_id, t, *counts, state.door_in[i], state.door_out[i])
            state.door_in[i] = state.door_out[i] = state.counted_in[i] = state.counted_out[i] = 0
            if self.incidents and not self.incidents.door_reports(state.mall.mall_id, entrance.sensor_id, t):
                continue  # a dead counter's counts are lost
            yield from self._deliver(door_record(entrance, state.mall.mall_id, int(t * 1000), *counts, t))
        self._push(t + self.config.door_interval, _DOOR, state)

    def _deliver(self, record: Record) -> Iterator[Record]:
        """The record now, unless a fault delays it; plus any duplicate, later."""
        if not self.faults.active:
            yield record
            return
        for out in self.faults.apply(record):
            if out.kind != record.kind:
                self.truth.fault(out)
            if out.time <= record.time:
                yield out
            else:
                self._push(out.time, _EMIT, out)
