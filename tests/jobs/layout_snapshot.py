"""A layout snapshot as udfs/java Layout.java writes one (java.io.DataOutputStream: big-endian
numbers, strings as writeUTF), so that SQL tests on bounded rows give the Java layout
functions a layout without PostgreSQL: Layout reads its snapshot at start and keeps it
while PostgreSQL does not answer. The format's version is read from Layout.java. Should
the two formats part, Layout ignores the file and waits for PostgreSQL: the positions
tests then stop at pytest's timeout, with "ignoring an unreadable snapshot" in the log."""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from ops.jars import JAVA_SOURCES

Point = tuple[float, float]


def snapshot_version() -> int:
    source = (JAVA_SOURCES / "footfall" / "udf" / "Layout.java").read_text()
    match = re.search(r"SNAPSHOT_VERSION = (\d+);", source)
    assert match, "Layout.java declares no SNAPSHOT_VERSION"
    return int(match.group(1))


def _utf(text: str) -> bytes:
    data = text.encode()
    assert text.isascii(), "modified UTF-8 equals UTF-8 only for ASCII: keep test names ASCII"
    return struct.pack(">H", len(data)) + data


def _nullable(text: str | None) -> bytes:
    return b"\x00" if text is None else b"\x01" + _utf(text)


def write_layout_snapshot(path: Path, malls: Mapping[str, str], probes: Mapping[str, tuple[str, float, float]],
                          shops: Mapping[str, Sequence[tuple[str, Sequence[Point]]]],
                          shop_names: Mapping[tuple[str, str], str] | None = None,
                          currencies: Mapping[str, str] | None = None) -> Path:
    """Malls ({mall_id: tz}) and their currencies ({mall_id: ISO 4217}; EUR unless named),
    probes ({ap_mac: (mall_id, x, y)}: the layout functions
    tested here ask no probe's shop), shops ({mall_id: [(shop_code, polygon)]}) and their
    names ({(mall_id, shop_code): name}; none by default); no staff, no shop fronts, no
    privacy choices."""
    out = [struct.pack(">i", snapshot_version()), struct.pack(">i", len(malls))]
    out += [_utf(mall_id) + _nullable(tz) for mall_id, tz in malls.items()]
    out.append(struct.pack(">i", len(probes)))
    for ap_mac, (mall_id, x, y) in probes.items():
        out += [_utf(ap_mac), _utf(mall_id), _nullable(None), struct.pack(">dd", x, y), _nullable(None),
                _utf(malls[mall_id]), struct.pack(">i", 0)]
    out.append(struct.pack(">i", 0))  # staff
    out.append(struct.pack(">i", len(shops)))
    for mall_id, mall_shops in shops.items():
        out += [_utf(mall_id), struct.pack(">i", len(mall_shops))]
        for code, polygon in mall_shops:
            out += [_utf(code), struct.pack(">i", len(polygon))]
            out += [struct.pack(">dd", x, y) for x, y in polygon]
    names: dict[str, dict[str, str]] = {}
    for (mall_id, code), name in (shop_names or {}).items():
        names.setdefault(mall_id, {})[code] = name
    out.append(struct.pack(">i", len(names)))
    for mall_id, mall_names in names.items():
        out += [_utf(mall_id), struct.pack(">i", len(mall_names))]
        out += [_utf(code) + _nullable(name) for code, name in mall_names.items()]
    out.append(struct.pack(">i", 0))  # opted out
    out.append(struct.pack(">i", 0))  # consenting to the feed
    out.append(struct.pack(">i", len(malls)))
    out += [_utf(mall_id) + _nullable((currencies or {}).get(mall_id, "EUR")) for mall_id in malls]
    path.write_bytes(b"".join(out))
    return path
