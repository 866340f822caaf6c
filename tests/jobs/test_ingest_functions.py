"""The ingestion's Java functions on bounded rows (no Kafka): parse_probe, parse_door and parse_pos
give the reason of the plain-Python reference (tests/jobs/reference.py) for any message,
and for a valid probe the device id of udfs/identity.py byte for byte; event_millis reads
the time a watermark may follow; scrub_macs leaves no phone MAC in a dead letter's text."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.jobs.conftest import TEST_SALT
from tests.jobs.reference import LIMITS, door_reason, is_randomized, pos_parse_reason, probe_reason
from udfs.identity import device_id

MAX = LIMITS.max_message_chars
NOW_MS = int(time.time() * 1000)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                           max_size=3), max_leaves=4)
macs = st.one_of(st.from_regex(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", fullmatch=True), st.text(max_size=18),
                 st.from_regex(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\n", fullmatch=True))
whole = st.one_of(st.integers(-200, 50), st.integers(-(10**20), 10**20), st.just(0))


def bodies(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[bytes]:
    message = st.builds(lambda m, drop: {k: v for k, v in m.items() if k not in drop},
                        st.fixed_dictionaries(fields), st.sets(st.sampled_from(sorted(fields)), max_size=2))
    text = message.map(lambda m: json.dumps(m, ensure_ascii=False))
    return st.one_of(
        text, text, text,
        st.tuples(text, st.integers(0, 120)).map(lambda t: t[0][: t[1]]),  # cut short
        values.map(json.dumps),  # JSON, but not an object
        text.map(lambda t: t + " x"),  # something after the object
        text.map(lambda t: t.replace("0", "NaN", 1)),
        st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
        st.text(max_size=40),
    ).map(str.encode)


PROBES = bodies({
    "event_id": st.text(max_size=8) | values, "ap_mac": macs | values, "device_mac": macs | values,
    "rssi": whole | values, "occur_time": whole | st.integers(0, 10**16) | values,
})
DOORS = bodies({
    "sensor_id": st.text(max_size=6) | values, "mall_id": st.text(max_size=6) | values,
    "entrance": st.text(max_size=6) | values, "occur_time": whole | st.integers(0, 10**16) | values,
    "in_count": whole | values, "out_count": whole | values,
})
currencies = st.one_of(st.sampled_from(["EUR", "JPY"]), st.text(max_size=4))
POS = bodies({
    "transaction_id": st.text(max_size=6) | values, "mall_id": st.text(max_size=6) | values,
    "shop_code": st.text(max_size=4) | values, "occur_time": whole | st.integers(0, 10**16) | values,
    "amount_minor": whole | st.integers(-(10**16), 10**16) | values, "currency": currencies | values,
    "items": whole | values, "till_id": st.text(max_size=4) | values,
})
CHECKS = settings(max_examples=5, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.data_too_large, HealthCheck.large_base_example])


def run(table_env, function: str, columns: str, messages: list[bytes]) -> list[tuple]:  # type: ignore[no-untyped-def]
    """`function` over the messages as the job calls it; one result row per message, in order."""
    texts = [m.decode() for m in messages]
    table_env.create_temporary_view("messages", table_env.from_elements(list(enumerate(texts)), ["n", "body"]))
    query = (f"SELECT n, {columns} FROM messages, LATERAL TABLE({function}(body, {MAX})) "
             f"AS r({columns})")
    with table_env.sql_query(query).execute().collect() as rows:
        got = sorted((row[0], *row[1:]) for row in rows)
    table_env.drop_temporary_view("messages")
    assert [n for n, *_ in got] == list(range(len(messages))), "one row per message"
    return [tuple(rest) for _, *rest in got]


@CHECKS
@given(messages=st.lists(PROBES, min_size=30, max_size=60))
def test_parse_probe_rejects_for_the_reference_reason_and_hashes_as_identity(table_env, messages) -> None:
    columns = "event_id, ap_mac, device_id, randomized, rssi, occur_ms, reason"
    for message, (event_id, ap_mac, device, randomized, rssi, occur_ms, reason) in zip(
            messages, run(table_env, "parse_probe", columns, messages), strict=True):
        # The layout is joined later (unknown_probe), the clock rule is the source's (future).
        want = probe_reason(message, {}, None)
        want = None if want == "unknown_probe" else want
        assert reason == want, message
        if reason is None:
            m = json.loads(message)
            mac = m["device_mac"].lower().replace("-", ":")
            assert (event_id, ap_mac, rssi, occur_ms) == (m["event_id"], m["ap_mac"].lower().replace("-", ":"),
                                                          m["rssi"], m["occur_time"])
            assert device == device_id(TEST_SALT, mac) and randomized == is_randomized(mac)
        else:
            assert (event_id, device, rssi) == (None, None, None)


@CHECKS
@given(messages=st.lists(DOORS, min_size=30, max_size=60))
def test_parse_door_rejects_for_the_reference_reason(table_env, messages) -> None:
    for message, (mall_id, sensor_id, in_count, occur_ms, reason) in zip(
            messages, run(table_env, "parse_door", "mall_id, sensor_id, in_count, occur_ms, reason", messages),
            strict=True):
        want = door_reason(message, {}, None)
        assert reason == (None if want == "unknown_mall" else want), message
        if reason is None:
            m = json.loads(message)
            assert (mall_id, sensor_id, in_count, occur_ms) == (m["mall_id"], m["sensor_id"], m["in_count"],
                                                                m["occur_time"])


POS_COLUMNS = "transaction_id, mall_id, shop_code, occur_ms, amount_minor, currency, items, till_id, reason"


@CHECKS
@given(messages=st.lists(POS, min_size=30, max_size=60))
def test_parse_pos_rejects_for_the_reference_reason(table_env, messages) -> None:
    for message, (transaction_id, mall_id, shop_code, occur_ms, amount, currency, items, till, reason) in zip(
            messages, run(table_env, "parse_pos", POS_COLUMNS, messages), strict=True):
        assert reason == pos_parse_reason(message), message
        if reason is None:
            m = json.loads(message)
            assert (transaction_id, mall_id, shop_code, occur_ms, amount, currency, items, till) == (
                m["transaction_id"], m["mall_id"], m["shop_code"], m["occur_time"], m["amount_minor"], m["currency"],
                m["items"], m.get("till_id"))


def test_a_message_over_the_size_limit_is_too_large_unparsed(table_env) -> None:
    huge = json.dumps({"event_id": "x" * MAX, "ap_mac": "a", "device_mac": "b", "rssi": 1, "occur_time": 1}).encode()
    (row,) = run(table_env, "parse_probe", "event_id, ap_mac, device_id, randomized, rssi, occur_ms, reason", [huge])
    assert row[-1] == "too_large"
    (row,) = run(table_env, "parse_door", "mall_id, sensor_id, in_count, occur_ms, reason", [huge])
    assert row[-1] == "too_large"
    (row,) = run(table_env, "parse_pos", POS_COLUMNS, [huge])
    assert row[-1] == "too_large"


def test_event_millis_reads_the_time_and_refuses_the_future(table_env) -> None:
    cases = {
        json.dumps({"occur_time": NOW_MS - 5000, "x": [1, {"occur_time": 9}]}): NOW_MS - 5000,
        json.dumps({"occur_time": str(NOW_MS)}): NOW_MS,  # text of a number: as JSON_VALUE reads it
        json.dumps({"occur_time": NOW_MS + 60_000}): NOW_MS + 60_000,  # within the tolerance
        json.dumps({"occur_time": NOW_MS + 365 * 86_400_000}): -1,  # a year ahead
        json.dumps({"occur_time": 1.5}): 0,
        json.dumps({"occur_time": 10**30}): 0,
        json.dumps({"occur_time": NOW_MS}) + " trailing": 0,  # not JSON
        json.dumps({"nothing": 1}): 0,
        json.dumps({"occur_time": NOW_MS, "pad": "x" * MAX}): 0,  # too large to read
    }
    rows = [(n, body) for n, body in enumerate(cases)]
    table_env.create_temporary_view("timed", table_env.from_elements(rows, ["n", "body"]))
    query = f"SELECT n, event_millis(body, 300000, {MAX}) FROM timed"
    with table_env.sql_query(query).execute().collect() as result:
        got = dict((row[0], row[1]) for row in result)
    assert [got[n] for n in range(len(cases))] == list(cases.values())


def test_local_clock_gives_the_local_day_and_hour_as_convert_tz_does(table_env) -> None:
    """local_clock against the conversion it replaced (CONVERT_TZ of the formatted UTC time)
    and the reference's (zoneinfo), on a night of each daylight-saving change (Lord Howe's
    move its clocks by half an hour, in the middle of a UTC hour), midnight and zones either
    side of UTC; an unknown zone is GMT, as for CONVERT_TZ. Times go forward, then back
    over the same night: the function keeps each zone's current hour."""
    from tests.jobs.reference import local

    forward = [(ms, tz) for tz in ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "UTC",
                                   "Australia/Lord_Howe")
               for day in ("2026-03-29", "2026-03-08", "2026-10-25", "2026-11-01", "2026-12-31", "2026-04-04",
                           "2026-10-03")
               for ms in range(int(datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp() * 1000) - 3_600_000,
                               int(datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp() * 1000) + 20 * 3_600_000,
                               899_999)]
    cases = forward + forward[::-1]
    cases += [(0, "Nowhere/Atlantis"), (1_780_000_000_000, "Nowhere/Atlantis")]
    rows = [(n, ms, tz) for n, (ms, tz) in enumerate(cases)]
    table_env.create_temporary_view("instants", table_env.from_elements(rows, ["n", "ms", "tz"]))
    query = """
        SELECT n, k.local_day, k.local_hour,
            CONVERT_TZ(DATE_FORMAT(TO_TIMESTAMP_LTZ(ms, 3), 'yyyy-MM-dd HH:mm:ss'), 'UTC', tz)
        FROM instants, LATERAL TABLE(local_clock(TO_TIMESTAMP_LTZ(ms, 3), tz)) AS k(local_day, local_hour)
    """
    with table_env.sql_query(query).execute().collect() as result:
        got = {row[0]: (row[1].isoformat(), row[2], row[3]) for row in result}
    table_env.drop_temporary_view("instants")
    assert sorted(got) == list(range(len(cases))), "one row per instant"
    for n, (ms, tz) in enumerate(cases):
        day, hour, converted = got[n]
        assert (day, hour) == (converted[:10], int(converted[11:13])), (ms, tz)
        if not tz.startswith("Nowhere"):
            assert (day, hour) == local(ms, tz), (ms, tz)
    assert got[len(cases) - 2][:2] == ("1970-01-01", 0)  # GMT


def test_local_clock_gives_no_row_without_a_zone_or_a_time(table_env) -> None:
    query = """
        SELECT k.local_day FROM (VALUES (CAST(NULL AS STRING), 0), ('UTC', CAST(NULL AS BIGINT))) AS v(tz, ms),
            LATERAL TABLE(local_clock(TO_TIMESTAMP_LTZ(ms, 3), tz)) AS k(local_day, local_hour)
    """
    with table_env.sql_query(query).execute().collect() as result:
        assert list(result) == []


MAC_SHAPED = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f])")


def scrub(table_env, messages: list[bytes]) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    texts = [m.decode() for m in messages]
    table_env.create_temporary_view("messages", table_env.from_elements(list(enumerate(texts)), ["n", "body"]))
    query = ("SELECT n, scrubbed, macs_replaced FROM messages, "
             "LATERAL TABLE(scrub_macs(body)) AS r(scrubbed, macs_replaced)")
    try:
        with table_env.sql_query(query).execute().collect() as rows:
            got = sorted((row[0], row[1], row[2]) for row in rows)
    finally:
        table_env.drop_temporary_view("messages")
    assert [n for n, *_ in got] == list(range(len(messages))), "one row per message"
    return [(raw, replaced) for _, raw, replaced in got]


PROBE_FIELD = re.compile(r'"ap_mac"\s{0,8}:\s{0,8}"$')
DEVICE_FIELD = re.compile(r'"device_mac"\s*:\s*("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')


def phone_macs(text: str) -> list[str]:
    """Every phone MAC a text shows: anything shaped like a MAC but the value of a probe's
    own field (ap_mac names no person), and the device_mac field's value unless it is a
    device id or null (what a text cut short leaves after it aside)."""
    found = [m.group(0) for m in MAC_SHAPED.finditer(text)
             if not PROBE_FIELD.search(text[max(m.start() - 20, 0):m.start()])]
    for m in DEVICE_FIELD.finditer(text):
        if not re.fullmatch(r'"[0-9a-f]{16}"|null', m.group(1)) and m.group(1).strip('"\\') != "null":
            found.append(m.group(1))
    return found


@CHECKS
@given(messages=st.lists(PROBES, min_size=30, max_size=60))
def test_no_phone_mac_survives_in_a_dead_letter_s_text(table_env, messages) -> None:
    for message, (raw, replaced) in zip(messages, scrub(table_env, messages), strict=True):
        text = message.decode()
        assert phone_macs(raw) == [], (text, raw)
        assert (raw == text) == (replaced == 0), (text, raw)  # and it says when it changed the text
        assert replaced >= 1 or not phone_macs(text)


def test_a_dead_letter_keeps_the_device_id_of_a_phone_s_mac_and_the_probe_s_own_mac(table_env) -> None:
    phone, other, probe = "AA-BB-CC-DD-EE-01", "aa:bb:cc:dd:ee:02", "02:F0:F5:02:00:00"
    messages = [
        json.dumps({"event_id": "e1", "ap_mac": probe, "device_mac": phone, "rssi": 999, "occur_time": 1}),
        json.dumps({"event_id": "e2", "ap_mac": probe, "device_mac": "AABBCCDDEE01", "note": f"seen {other}"}),
        '{"device_mac": "aa:bb:cc:dd:ee:01", "ap_mac": "' + probe,  # cut short: not JSON
        json.dumps({"sensor_id": "door-1", "mall_id": "m", "in_count": -1}),
    ]
    (first, n1), (second, n2), (third, n3), (door, n4) = scrub(table_env, [m.encode() for m in messages])
    ids = {mac: device_id(TEST_SALT, mac.lower().replace("-", ":")) for mac in (phone, other)}
    assert json.loads(first) == {**json.loads(messages[0]), "device_mac": ids[phone]} and n1 == 1
    # A device_mac that is no MAC is removed; a MAC elsewhere in the text becomes its id.
    assert json.loads(second) == {**json.loads(messages[1]), "device_mac": None, "note": f"seen {ids[other]}"}
    assert n2 == 2
    assert third == '{"device_mac": "' + ids[phone] + '", "ap_mac": "' + probe and n3 == 1
    assert (door, n4) == (messages[3], 0)
