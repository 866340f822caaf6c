"""Each output is defined once (footfall/outputs.py OUTPUTS), and the job's SQL takes its
payloads from that definition: every output is projected, through its own placeholder,
with exactly its fields; the feed's message keeps the contract's field order; and the
bench reads the tables by the same definition."""

from __future__ import annotations

import json
import re

from bench.results import TABLES
from footfall.outputs import DEAD_LETTER_FIELDS, FEED_FIELDS, OUTPUTS
from jobs.metrics.payloads import payload_values
from jobs.metrics.plan import FOLDER


def projected() -> dict[str, str]:
    """Output -> the placeholder its payload takes in the outputs view of 11_outputs.sql."""
    text = (FOLDER / "11_outputs.sql").read_text()
    view = text[text.index("CREATE TEMPORARY VIEW outputs"):]
    found = {}
    for block in re.split(r"\bUNION ALL\b", view):
        name = re.search(r"SELECT '(\w+)", block)
        placeholder = re.search(r"\$\{(\w+)\}", block)
        if name and placeholder:
            found[name[1]] = placeholder[1]
    return found


def test_every_output_is_projected_through_its_own_payload() -> None:
    assert projected() == {**{name: f"payload_{name}" for name in OUTPUTS}, "dead_letters": "dead_letter_message"}


def test_a_payload_has_exactly_the_output_s_fields_in_order() -> None:
    values = payload_values()
    for name, output in OUTPUTS.items():
        fields = re.findall(r"'(\w+)' VALUE|\"(\w+)\":'", values[f"payload_{name}"])
        assert [a or b for a, b in fields] == list(output.payload), name
    assert FEED_FIELDS == (*OUTPUTS["favorite_shop_daily"].columns, "updated_at")
    fields = re.findall(r"\"(\w+)\":'", values["dead_letter_message"])
    assert fields == list(DEAD_LETTER_FIELDS)


def test_a_message_s_text_is_json_with_its_fields_in_order() -> None:
    # The message text with each JSON_STRING(...) replaced by a JSON value: what Flink
    # produces for a row (the end-to-end tests read the real messages).
    text = payload_values()["payload_favorite_shop_daily"]
    pieces = re.findall(r"'((?:[^']|'')*)'", re.sub(r"COALESCE\(JSON_STRING\([^)]*\)+, 'null'\)", "'7'", text))
    message = json.loads("".join(piece.replace("''", "'") for piece in pieces if piece != "null"))
    assert list(message) == list(FEED_FIELDS)


def test_the_bench_reads_the_tables_by_the_same_definition() -> None:
    for name, (keys, values) in TABLES.items():
        output = OUTPUTS[name]
        assert ("mall_id", *keys) == output.key
        assert set(keys) | set(values) | {"mall_id"} == set(output.columns)
