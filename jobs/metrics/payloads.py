"""The payload of each output in the job's SQL (11_outputs.sql), made from the output's
definition (footfall/outputs.py OUTPUTS), so that the table, the payload and the sinks
cannot drift apart.

- A payload is a JSON object of the output's fields, Date fields as ISO dates.
- A payload that is also a Kafka message (the favourite-shop feed, the dead letters) is
  that message's text, its fields in the contract's order, so that it is published as it
  is: Flink's JSON_OBJECT orders its fields by name, so the text is joined from
  JSON_STRING of each value.
"""

from __future__ import annotations

from footfall.outputs import DATE, DEAD_LETTER, OUTPUTS, Output
from jobs.sql import Fragment


def _value(name: str, kind: str) -> str:
    column = f"`{name}`"
    return f"CAST({column} AS STRING)" if kind == DATE else column


def json_object(fields: tuple[tuple[str, str], ...]) -> str:
    """A JSON object of `fields` ((name, type)) read from the columns of the same names."""
    return "JSON_OBJECT(" + ", ".join(f"'{name}' VALUE {_value(name, kind)}" for name, kind in fields) + ")"


def json_message(fields: tuple[tuple[str, str], ...]) -> str:
    """The JSON text of `fields` in their order, as Flink's json format writes a row: no
    spaces, a NULL as null."""
    parts = [
        f"'{'{' if i == 0 else ','}\"{name}\":' || COALESCE(JSON_STRING({_value(name, kind)}), 'null')"
        for i, (name, kind) in enumerate(fields)
    ]
    return " || ".join([*parts, "'}'"])


def payload(output: Output) -> str:
    fields = output.payload_fields
    return json_message(fields) if output.published else json_object(fields)


def payload_values() -> dict[str, Fragment]:
    """The ${placeholders} of 11_outputs.sql: `payload_<output>` for each output, and
    `dead_letter_message`."""
    values = {f"payload_{output.name}": Fragment(payload(output)) for output in OUTPUTS.values()}
    values["dead_letter_message"] = Fragment(json_message(DEAD_LETTER))
    return values
