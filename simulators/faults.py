"""Faults on demand: duplicate reports, out-of-order and late delivery, malformed
messages and per-probe clock skew (the skew is applied where events are made).

Each rate is the probability per original record. A malformed message replaces the record
it corrupts; a duplicate is an extra copy a few seconds later; out-of-order and late
records are delivered after records that happened after them. Door counter reports carry
no id to deduplicate by, so they are never duplicated; probe reports and till
transactions (a till sending again) are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from footfall.settings import Topics
from simulators.records import Record

MALFORMED_PROBE = ("not_json", "missing_field", "wrong_type", "rssi_out_of_range", "unknown_probe")
MALFORMED_DOOR = ("not_json", "missing_field", "wrong_type")
#: What a "wrong_type" fault does, per topic: the number it writes as text, and that text.
WRONG_TYPE: dict[str, tuple[str, Callable[[object], str]]] = {
    Topics.WIFI_PROBES: ("rssi", lambda value: f"{value}dBm"),
    Topics.DOOR_SENSORS: ("in_count", lambda _: "many"),
    Topics.POS_TRANSACTIONS: ("amount_minor", str),
}
#: Topics whose messages carry an id, so that a copy sent again can be told.
DUPLICATED = (Topics.WIFI_PROBES, Topics.POS_TRANSACTIONS)
OUT_OF_ORDER_DELAY = (2.0, 60.0)  # seconds
LATE_DELAY = (5 * 60.0, 30 * 60.0)  # seconds
DUPLICATE_DELAY = (0.0, 5.0)  # seconds


@dataclass(frozen=True)
class Faults:
    duplicate_rate: float = 0.0
    out_of_order_rate: float = 0.0
    late_rate: float = 0.0
    malformed_rate: float = 0.0
    skewed_probe_share: float = 0.0
    max_skew_seconds: float = 30.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "max_skew_seconds" and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name.replace('_', '-')} must be between 0 and 1, got {value}")
        if self.max_skew_seconds < 0:
            raise ValueError("max-skew-seconds must be >= 0")


class FaultInjector:
    def __init__(self, faults: Faults, rng: np.random.Generator) -> None:
        self.faults = faults
        self.rng = rng
        self.active = any(
            (faults.duplicate_rate, faults.out_of_order_rate, faults.late_rate, faults.malformed_rate)
        )
        self._unknown = 0

    def apply(self, record: Record) -> Iterator[Record]:
        """The record as it reaches the broker (possibly delayed or corrupted), plus copies."""
        f, rng = self.faults, self.rng
        draws = rng.random(4)
        is_probe = record.topic == Topics.WIFI_PROBES
        if draws[0] < f.malformed_rate:
            yield self._malformed(record, is_probe)
            return
        delivered = record
        if draws[1] < f.late_rate:
            delivered = dataclasses.replace(record, time=record.time + rng.uniform(*LATE_DELAY), kind="late")
        elif draws[2] < f.out_of_order_rate:
            delivered = dataclasses.replace(
                record, time=record.time + rng.uniform(*OUT_OF_ORDER_DELAY), kind="out_of_order"
            )
        yield delivered
        if record.topic in DUPLICATED and draws[3] < f.duplicate_rate:
            yield dataclasses.replace(delivered, time=delivered.time + rng.uniform(*DUPLICATE_DELAY), kind="duplicate")

    def _malformed(self, record: Record, is_probe: bool) -> Record:
        reasons = MALFORMED_PROBE if is_probe else MALFORMED_DOOR
        reason = reasons[int(self.rng.integers(0, len(reasons)))]
        payload = json.loads(record.value)
        if reason == "not_json":
            value = record.value[: max(1, len(record.value) // 2)]  # a truncated message
        else:
            if reason == "missing_field":
                payload.pop("occur_time")
            elif reason == "wrong_type":
                field, as_text = WRONG_TYPE[record.topic]
                payload[field] = as_text(payload[field])
            elif reason == "rssi_out_of_range":
                payload["rssi"] = int(self.rng.choice([-200, 15, 120]))
            elif reason == "unknown_probe":
                self._unknown += 1
                payload["ap_mac"] = f"0e:ee:00:00:{self._unknown >> 8 & 0xFF:02x}:{self._unknown & 0xFF:02x}"
            value = json.dumps(payload, separators=(",", ":")).encode()
        return dataclasses.replace(record, value=value, kind=f"malformed:{reason}")
