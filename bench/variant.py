"""The benchmark's other variants, each a Flink job of its own:

    python -m bench.variant ceiling|baseline --output-prefix PREFIX

Settings come from the environment exactly as for the production job (topics, consumer
group, parallelism, REST port, checkpoints), so the bench runs all three the same way.

- ceiling: read and parse the input topics as JSON into a blackhole (variants/ceiling.sql).
- baseline: the metrics written the straightforward way (variants/baseline.sql), on top
  of the production job's sources and ingestion SQL with its functions done naively
  (bench/naive.py: each message parsed and hashed in Python); results to upsert-kafka
  topics named PREFIX + output.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StatementSet, StreamTableEnvironment

from bench import naive as bench_naive
from footfall.settings import ConfigError, Settings
from jobs import sql
from jobs.metrics.hooks import run_statement
from jobs.metrics.job import FORK_AFTER, flink_configuration, sql_values, worker_environment
from jobs.metrics.plan import FOLDER as METRICS_FOLDER
from udfs import zones

VARIANTS_FOLDER = Path(__file__).resolve().parent / "variants"
#: The baseline's result topics, one per INSERT (PREFIX + name).
BASELINE_OUTPUTS = (
    "mall_daily", "new_visitors", "mall_hourly", "peak_hour_daily", "shop_daily", "shop_hourly", "top_shops_daily",
    "favorite_shop_daily", "repeat_shops_daily", "positions", "dead_letter_counts",
)
log = logging.getLogger("bench.variant")


def baseline_topics(prefix: str) -> dict[str, str]:
    return {name: f"{prefix}{name}" for name in BASELINE_OUTPUTS}


def statements(variant: str, settings: Settings, output_prefix: str) -> list[str]:
    """The variant's rendered statements, in order."""
    values = sql_values(settings)
    own = sql.split((VARIANTS_FOLDER / f"{variant}.sql").read_text())
    if variant == "ceiling":
        return [sql.render(s, values) for s in own]
    values.update({
        # Windows straight on event_time: the watermark at the metrics' full delay.
        "position_delay": values["watermark_delay"],
        **{f"{name}_topic": topic for name, topic in baseline_topics(output_prefix).items()},
    })
    ingest = [p.name for p in sql.numbered_files(METRICS_FOLDER) if p.name <= FORK_AFTER]
    return sql.load(METRICS_FOLDER, values, ingest) + [sql.render(s, values) for s in own]


def configuration_overrides(variant: str) -> dict[str, str]:
    overrides = {"pipeline.name": f"bench-{variant}"}
    if variant == "baseline":
        overrides.update({
            # Each INSERT reads the topics and runs its whole plan itself.
            "table.optimizer.reuse-source-enabled": "false",
            "table.optimizer.reuse-sub-plan-enabled": "false",
            # No state TTL: a plain group aggregation keeps everything.
            "table.exec.state.ttl": "0 ms",
            # One update per input row, as a group aggregation emits by default.
            "table.exec.mini-batch.enabled": "false",
        })
    return overrides


def build(table_env: StreamTableEnvironment, variant: str, settings: Settings, output_prefix: str) -> StatementSet:
    """The variant's functions, tables and views in `table_env`, and its INSERTs as one
    statement set."""
    zones.register(table_env)
    inserts = table_env.create_statement_set()
    naive = variant != "baseline"  # whether bench.naive's functions are in place
    for statement in statements(variant, settings, output_prefix):
        if not naive and not statement.upper().startswith("CREATE TEMPORARY FUNCTION"):
            # Once 00_functions.sql has created the Java functions they replace, before
            # any view binds them.
            bench_naive.register(table_env)
            naive = True
        if statement.upper().startswith("INSERT"):
            inserts.add_insert_sql(statement)
        else:
            run_statement(table_env, statement)
    return inserts


def run(variant: str, settings: Settings, output_prefix: str) -> None:
    os.environ.update(worker_environment(settings))
    config = flink_configuration(settings)
    for key, value in configuration_overrides(variant).items():
        config.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    inserts = build(StreamTableEnvironment.create(env), variant, settings, output_prefix)
    log.info("submitting bench-%s", variant)
    inserts.execute().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.variant", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", choices=("ceiling", "baseline"))
    parser.add_argument("--output-prefix", default="bench-baseline-", help="the baseline's result topics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(args.variant, Settings(), args.output_prefix)
    except (ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
