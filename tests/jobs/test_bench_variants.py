"""The bench's variants (bench/variant.py) are built on the job's own ingestion SQL, so a
change there can break them where no other test looks (`make bench` alone runs them):
each one must plan, down to its INSERTs."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("variant", ["ceiling", "baseline"])
def test_each_bench_variant_plans_on_the_job_s_ingestion(jvm_environment: str, settings, variant: str) -> None:  # type: ignore[no-untyped-def]
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    from bench.variant import build, configuration_overrides
    from footfall.jars import pipeline_jars

    config = Configuration()
    config.set_string("pipeline.jars", pipeline_jars(settings.flink.jars_dir))
    for key, value in configuration_overrides(variant).items():
        config.set_string(key, value)
    table_env = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment(config))
    plan = build(table_env, variant, settings, "bench-test-").explain()
    assert "LogicalSink" in plan
