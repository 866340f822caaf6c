"""Ground truth: what really happened in the simulation, written as JSON Lines.

The pipeline's outputs can then be scored for accuracy, not only for consistency.
Record types: `trip` (one person's stay in a mall, with every MAC they used, the
companions without a phone that came with them, their passages through the entrances
and their whole path: `path`, (t, x, y, zone) at each turn or stop, straight and steady
in between, so the position at any second is read off it), `visit` (one stay in a shop),
`position` (where a phone was at each probe request), `door` (each door counter report:
what it counted, and how many people really went in and out), `sale` (each purchase or refund at a till, and whether the
till sent it: not while it was offline), `fault` (each deliberately faulty record) and,
last, one
`summary` per mall and local day: people (companions included), door `entries` (people
through the doors inwards, a re-entry counted again; what the counters reported is
`entries_counted`), phone-carrying visitors (not randomised),
randomised phones, visitors per shop (any stay: `shop_visitors`; a stay of at least the
shop's minimum dwell: `shop_dwell_visitors`, the design's shop visitors; and everyone,
with any phone or none, who stayed that long, staff left out: `shop_dwell_people`), street
passers-by with a stable phone (each also a `passer` record), and per shop the stable
phones that walked past its door or stepped in for less than the dwell, and were not
its dwell visitors that day (`shop_walk_bys`, the design's walk-bys), and per shop what
its till recorded (`shop_sales`: purchases and their items, refunds and their amount, the
net amount in minor units, and the purchases never sent).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from footfall.settings import MetricSettings
from simulators.layout import Mall
from simulators.paths import zone_name
from simulators.records import Record
from simulators.shoppers import Trip


class Truth:
    """What a ground-truth recorder is told. This base records nothing: the default, and
    the load generator's choice."""

    def trip(self, mall: Mall, trip: Trip) -> None: ...
    def position(self, mall: Mall, t: float, mac: str, x: float, y: float, zone: str) -> None: ...
    def door(self, mall: Mall, sensor_id: str, t: float, entries: int, exits: int, true_entries: int,
             true_exits: int) -> None: ...
    def sale(self, mall: Mall, shop_code: str, t: float, transaction_id: str, amount_minor: int, items: int,
             person: str | None, sent: bool) -> None: ...
    def fault(self, record: Record) -> None: ...
    def close(self) -> None: ...


#: What the truth keeps of each shop's till per day (its summary's `shop_sales`).
SALE_FIGURES = ("transactions", "items", "refunds", "refunded_minor", "sales_minor", "unsent")

#: The job's default shop minimum dwell (FOOTFALL_SHOP_MIN_DWELL_SECONDS).
SHOP_MIN_DWELL_SECONDS = float(MetricSettings.model_fields["shop_min_dwell_seconds"].default)


class TruthFile(Truth):
    def __init__(self, path: Path, rotation_seconds: float, shop_min_dwell_seconds: float = SHOP_MIN_DWELL_SECONDS
                 ) -> None:
        self.path = path
        self.rotation = rotation_seconds
        self.shop_min_dwell = shop_min_dwell_seconds
        self.out: IO[str] = open(path, "w")  # noqa: SIM115 - closed in close()
        # (mall_id, day) -> counters
        self.people: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.phones: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.randomized: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.entries: dict[tuple[str, str], int] = defaultdict(int)
        self.entries_counted: dict[tuple[str, str], int] = defaultdict(int)
        self.shop_visitors: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.shop_dwellers: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.passers: dict[tuple[str, str], set[str]] = defaultdict(set)
        #: Staff with a stable-MAC phone: their MACs (not visitors, in no visitor count).
        self.staff: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.shop_passed: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        #: (mall_id, day) -> shop -> what its till recorded (SALE_FIGURES).
        self.shop_sales: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: dict.fromkeys(SALE_FIGURES, 0)))
        #: Everyone (any phone or none, staff left out) who stayed in a shop at least its dwell.
        self.shop_dwell_people: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def _write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, separators=(",", ":")) + "\n")

    def trip(self, mall: Mall, trip: Trip) -> None:
        person = trip.person
        day = datetime.fromtimestamp(trip.arrive, mall.zone).date().isoformat()
        key = (mall.mall_id, day)
        macs = (
            []
            if person.phoneless
            else sorted({person.mac_at(t, self.rotation) for t in _every(trip.arrive, trip.leave, self.rotation)})
        )
        stable_phone = not person.phoneless and not person.randomized
        if trip.passing:
            if stable_phone:
                self.passers[key].add(person.person_id)
            self._write(
                {
                    "type": "passer", "mall_id": mall.mall_id, "day": day, "person": person.person_id,
                    "phoneless": person.phoneless, "randomized": person.randomized, "macs": macs,
                    "start": trip.arrive, "end": trip.leave,
                }
            )  # fmt: skip
            return
        party = [person.person_id, *(f"{person.person_id}+{n}" for n in range(1, trip.companions + 1))]
        self.people[key].update(party)
        is_staff = person.staff_shop is not None
        if is_staff and stable_phone:
            self.staff[key].update(macs)
        elif not person.phoneless:
            (self.randomized if person.randomized else self.phones)[key].add(person.person_id)
        visitor_phone = stable_phone and not is_staff  # staff are in no visitor count
        if visitor_phone:
            for index in trip.fronts_passed(mall):
                self.shop_passed[key][mall.shops[index].shop_code].add(person.person_id)
        self._write(
            {
                "type": "trip", "mall_id": mall.mall_id, "day": day, "person": person.person_id,
                "staff": person.staff_shop is not None, "phoneless": person.phoneless,
                "randomized": person.randomized, "macs": macs, "arrive": trip.arrive, "leave": trip.leave,
                "entrance_in": mall.entrances[trip.entrance_in].sensor_id,
                "entrance_out": mall.entrances[trip.entrance_out].sensor_id,
                "companions": trip.companions,
                "passages": [[p.t, mall.entrances[p.entrance].sensor_id, "in" if p.inward else "out"]
                             for p in trip.passages],
                "path": [[round(t, 3), round(x, 2), round(y, 2), zone_name(mall, z)]
                         for t, x, y, z in trip.path.waypoints()],
            }
        )  # fmt: skip
        for leg in trip.stays:
            shop = mall.shops[leg.shop].shop_code
            dwelt = leg.end - leg.start >= self.shop_min_dwell
            if dwelt and not is_staff:
                self.shop_dwell_people[key][shop].update(party)
            if visitor_phone:
                self.shop_visitors[key][shop].add(person.person_id)
                if dwelt:
                    self.shop_dwellers[key][shop].add(person.person_id)
            self._write(
                {
                    "type": "visit", "mall_id": mall.mall_id, "day": day, "person": person.person_id,
                    "mac": None if person.phoneless else person.mac_at(leg.start, self.rotation),
                    "shop_code": shop, "start": leg.start, "end": leg.end,
                }
            )  # fmt: skip

    def position(self, mall: Mall, t: float, mac: str, x: float, y: float, zone: str) -> None:
        self._write(
            {
                "type": "position",
                "mall_id": mall.mall_id,
                "t": t,
                "mac": mac,
                "x": round(x, 2),
                "y": round(y, 2),
                "zone": zone,
            }
        )

    def door(self, mall: Mall, sensor_id: str, t: float, entries: int, exits: int, true_entries: int,
             true_exits: int) -> None:
        key = (mall.mall_id, datetime.fromtimestamp(t, mall.zone).date().isoformat())
        self.entries[key] += true_entries
        self.entries_counted[key] += entries
        self._write({"type": "door", "sensor_id": sensor_id, "t": t, "in": entries, "out": exits,
                     "people_in": true_entries, "people_out": true_exits})

    def sale(self, mall: Mall, shop_code: str, t: float, transaction_id: str, amount_minor: int, items: int,
             person: str | None, sent: bool) -> None:
        day = datetime.fromtimestamp(t, mall.zone).date().isoformat()
        figures = self.shop_sales[(mall.mall_id, day)][shop_code]
        if amount_minor > 0:
            figures["transactions"] += 1
            figures["items"] += items
            figures["unsent"] += not sent
        else:
            figures["refunds"] += 1
            figures["refunded_minor"] -= amount_minor
        figures["sales_minor"] += amount_minor
        self._write({"type": "sale", "mall_id": mall.mall_id, "day": day, "shop_code": shop_code, "t": t,
                     "transaction_id": transaction_id, "amount_minor": amount_minor, "items": items,
                     "person": person, "sent": sent})

    def fault(self, record: Record) -> None:
        self._write(
            {
                "type": "fault",
                "kind": record.kind,
                "topic": record.topic,
                "t": record.time,
                "raw": record.value.decode(errors="replace"),
            }
        )

    def close(self) -> None:
        if self.out.closed:
            return
        for key in sorted(self.people):
            mall_id, day = key
            self._write(
                {
                    "type": "summary", "mall_id": mall_id, "day": day,
                    "people": len(self.people[key]), "visitors": len(self.phones[key]),
                    "entries": self.entries[key], "entries_counted": self.entries_counted[key],
                    "randomized_phones": len(self.randomized[key]),
                    "shop_visitors": {shop: len(p) for shop, p in sorted(self.shop_visitors[key].items())},
                    "street_passers": len(self.passers[key]),
                "staff": len(self.staff[key]), "staff_macs": sorted(self.staff[key]),
                    "shop_dwell_visitors": {shop: len(p) for shop, p in sorted(self.shop_dwellers[key].items())},
                    "shop_dwell_people": {shop: len(p) for shop, p in sorted(self.shop_dwell_people[key].items())},
                    "shop_sales": dict(sorted(self.shop_sales[key].items())),
                    "shop_walk_bys": {
                        shop: len((self.shop_passed[key][shop] | self.shop_visitors[key][shop])
                                  - self.shop_dwellers[key][shop])
                        for shop in sorted(set(self.shop_passed[key]) | set(self.shop_visitors[key]))
                    },
                }
            )  # fmt: skip
        self.out.close()


def _every(start: float, end: float, step: float) -> list[float]:
    times, t = [start], start - start % step + step
    while t <= end:
        times.append(t)
        t += step
    return times
