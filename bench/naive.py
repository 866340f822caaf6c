"""The baseline's parsing, written the straightforward way: Python per message.

parse_probe and parse_door replace the production job's Java functions of the same names
and types (jobs/metrics/00_functions.sql), so the baseline runs the same SQL over the
same rows: each message goes to a Python worker, is read with `json.loads`, checked in
Python and its device hashed with hashlib (udfs.identity). (A PostgreSQL query per
message for the layout as well made it read about 60 records a second: too slow to
measure on an input of any size.)

The bench checks that the baseline's metrics equal the production job's, so these must
reject exactly what the Java functions reject (ParseProbe.java, ParseDoor.java).
"""

from __future__ import annotations

import json
import os
from typing import Any

from pyflink.table import DataTypes, StreamTableEnvironment
from pyflink.table.udf import TableFunction, udtf

from udfs.identity import SALT_VARIABLE, device_id, normalise_mac

PROBE_FIELDS = ("event_id", "ap_mac", "device_mac", "rssi", "occur_time")
DOOR_FIELDS = ("sensor_id", "mall_id", "entrance", "occur_time", "in_count", "out_count")


def _not_json(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _whole(value: object, digits: int, signed: bool) -> bool:
    if not isinstance(value, int) or isinstance(value, bool) or (value < 0 and not signed):
        return False
    return len(str(abs(value))) <= digits


def _fields(body: str, max_chars: int, names: tuple[str, ...]) -> tuple[dict[str, Any] | None, str | None]:
    """The message's fields, or the reason it has none: too_large, not_json, missing_field."""
    if len(body) > max_chars:
        return None, "too_large"
    try:
        message = json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None, "not_json"
    if not isinstance(message, dict):
        return None, "not_json"
    if any(message.get(name) is None for name in names):
        return None, "missing_field"
    return message, None


class ParseProbe(TableFunction):
    def open(self, function_context) -> None:  # type: ignore[no-untyped-def]
        self.salt = os.environ[SALT_VARIABLE]

    def eval(self, body: str, max_chars: int):  # type: ignore[no-untyped-def]
        m, reason = _fields(body, max_chars, PROBE_FIELDS)
        if m is not None:
            if not all(isinstance(m[n], str) for n in PROBE_FIELDS[:3]) or not _whole(m["rssi"], 9, True) \
                    or not _whole(m["occur_time"], 15, False):
                reason = "wrong_type"
            elif (mac := normalise_mac(m["device_mac"])) is None:
                reason = "invalid_mac"
            elif not -120 <= m["rssi"] <= 0:
                reason = "rssi_out_of_range"
            else:
                randomized = bool(int(mac[:2], 16) & 0b10)
                yield (m["event_id"], m["ap_mac"].lower().replace("-", ":"), device_id(self.salt, mac), randomized,
                       m["rssi"], m["occur_time"], None)
                return
        yield None, None, None, None, None, None, reason


class ParseDoor(TableFunction):
    def eval(self, body: str, max_chars: int):  # type: ignore[no-untyped-def]
        m, reason = _fields(body, max_chars, DOOR_FIELDS)
        if m is not None:
            if not all(isinstance(m[n], str) for n in DOOR_FIELDS[:3]) or not _whole(m["occur_time"], 15, False) \
                    or not _whole(m["in_count"], 9, True) or not _whole(m["out_count"], 9, True):
                reason = "wrong_type"
            elif m["in_count"] < 0 or m["out_count"] < 0:
                reason = "count_out_of_range"
            else:
                yield m["mall_id"], m["sensor_id"], m["in_count"], m["occur_time"], None
                return
        yield None, None, None, None, reason


STR, INT, BOOL, LONG = DataTypes.STRING(), DataTypes.INT(), DataTypes.BOOLEAN(), DataTypes.BIGINT()
FUNCTIONS = {
    "parse_probe": udtf(ParseProbe(), result_types=[STR, STR, STR, BOOL, INT, LONG, STR]),
    "parse_door": udtf(ParseDoor(), result_types=[STR, STR, INT, LONG, STR]),
}


def register(table_env: StreamTableEnvironment) -> None:
    """Put the naive parsers in place of the Java ones (00_functions.sql)."""
    for name, function in FUNCTIONS.items():
        table_env.drop_temporary_function(name)
        table_env.create_temporary_function(name, function)
