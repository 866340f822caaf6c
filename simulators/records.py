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


def door_record(entrance: Entrance, mall_id: str, occur_ms: int, in_count: int, out_count: int, t: float) -> Record:
    """A door-sensors report as the counters send it (docs/design.md §3), keyed by the sensor."""
    payload = {"sensor_id": entrance.sensor_id, "mall_id": mall_id, "entrance": entrance.name,
               "occur_time": occur_ms, "in_count": in_count, "out_count": out_count}
    value = json.dumps(payload, separators=(",", ":")).encode()
    return Record(Topics.DOOR_SENSORS, entrance.sensor_id.encode(), value, t, "door")
