"""The records the simulator sends: a report as the sensors send it (docs/design.md §3),
with the topic, key and simulated time at which it reaches the broker."""

from __future__ import annotations

import json
from dataclasses import dataclass

from footfall.settings import Topics
from simulators.layout import Entrance


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    #: Simulated epoch seconds at which the record reaches the broker.
    time: float
    #: "probe", "door", or the fault that made it: "duplicate", "out_of_order", "late", "malformed:<reason>".
    kind: str


def probe_record(event_id: str, ap_mac: str, device_mac: str, rssi: int, occur_ms: int, t: float) -> Record:
    """A wifi-probes report as the sensors send it (docs/design.md §3), keyed by the device MAC.

    Built by hand: this is the load generator's hot path, and every value is a
    controlled hex string or an int, so no escaping is needed."""
    value = (
        f'{{"event_id":"{event_id}","ap_mac":"{ap_mac}",'
        f'"device_mac":"{device_mac}","rssi":{rssi},"occur_time":{occur_ms}}}'
    )
    return Record(Topics.WIFI_PROBES, device_mac.encode(), value.encode(), t, "probe")


def pos_record(transaction_id: str, mall_id: str, shop_code: str, occur_ms: int, amount_minor: int, currency: str,
               items: int, till_id: str, t: float) -> Record:
    """A pos-transactions message as a till sends it (docs/design.md §3), keyed by the till,
    so that a till's transactions stay in order in one partition."""
    payload = {"transaction_id": transaction_id, "mall_id": mall_id, "shop_code": shop_code, "occur_time": occur_ms,
               "amount_minor": amount_minor, "currency": currency, "items": items, "till_id": till_id}
    value = json.dumps(payload, separators=(",", ":")).encode()
    return Record(Topics.POS_TRANSACTIONS, till_id.encode(), value, t, "sale")


def door_record(entrance: Entrance, mall_id: str, occur_ms: int, in_count: int, out_count: int, t: float) -> Record:
    """A door-sensors report as the counters send it (docs/design.md §3), keyed by the sensor."""
    payload = {"sensor_id": entrance.sensor_id, "mall_id": mall_id, "entrance": entrance.name,
               "occur_time": occur_ms, "in_count": in_count, "out_count": out_count}
    value = json.dumps(payload, separators=(",", ":")).encode()
    return Record(Topics.DOOR_SENSORS, entrance.sensor_id.encode(), value, t, "door")
