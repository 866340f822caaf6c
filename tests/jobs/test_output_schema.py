"""Each output's columns are defined once (footfall/outputs.py OUTPUTS); the
ClickHouse DDL, the job's SQL projection and the bench's reading of the tables must
agree with that definition, and this fails the moment one of them drifts."""

from __future__ import annotations

import re

from bench.results import TABLES
from footfall.outputs import FEED_FIELDS, OUTPUTS
from jobs.metrics.plan import FOLDER
from ops.bootstrap import render


def ddl() -> dict[str, tuple[list[str], list[str], str]]:
    """Table -> (columns, ORDER BY columns, engine) from the schema file."""
    tables = {}
    for statement in render("clickhouse.sql", database="db", mall_min_dwell_seconds="300"):
        match = re.match(r"CREATE TABLE IF NOT EXISTS db\.(\w+) \((.*)\) ENGINE = (\w+)\(.*ORDER BY \(([^)]*)\)",
                         statement, re.DOTALL)
        if match:
            columns = [line.split()[0] for line in match[2].strip().splitlines() if line.strip()]
            tables[match[1]] = (columns, [c.strip() for c in match[4].split(",")], match[3])
    return tables


def projections() -> dict[str, list[str]]:
    """Output -> the fields of its JSON payload in 10_outputs.sql."""
    text = (FOLDER / "10_outputs.sql").read_text()
    view = text[text.index("CREATE TEMPORARY VIEW outputs"):]
    fields = {}
    for block in re.split(r"\bUNION ALL\b", view):
        name = re.search(r"SELECT '(\w+)", block)
        if name:
            fields[name[1]] = re.findall(r"'(\w+)' VALUE", block)
    return fields


def test_the_clickhouse_tables_are_the_outputs_columns_with_their_keys() -> None:
    tables = ddl()
    stored = {o.name: o for o in OUTPUTS.values() if o.columns}
    assert set(tables) == set(stored)
    for name, output in stored.items():
        columns, order_by, engine = tables[name]
        # `version` closes a table's first release; columns added since come after it.
        assert [c for c in columns if c != "version"] == list(output.columns), name
        assert ("version" in columns) == output.versioned, name
        assert order_by == list(output.key), name
        assert engine == ("ReplacingMergeTree" if output.versioned else "MergeTree"), name


def test_the_job_projects_every_output_with_exactly_its_columns() -> None:
    projected = projections()
    for name, output in OUTPUTS.items():
        fields = projected[name]
        if output.columns:
            extra = {"updated_at"} if name == "favorite_shop_daily" else set()
            assert fields == [*output.columns, *sorted(extra)], name  # the contract's order
        else:
            assert set(output.key) <= set(fields), name
    assert projected["favorite_shop_daily"] == list(FEED_FIELDS)


def test_the_bench_reads_the_tables_by_the_same_definition() -> None:
    for name, (keys, values) in TABLES.items():
        output = OUTPUTS[name]
        assert ("mall_id", *keys) == output.key
        assert set(keys) | set(values) | {"mall_id"} == set(output.columns)
