"""The bench's variants (bench/variant.py) are built on the job's own ingestion SQL, so a
change there can break them where no other test looks (`make bench` alone runs them):
each one must plan, down to its INSERTs."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("variant", ["ceiling", "baseline"])
def test_each_bench_variant_plans_on_the_job_s_ingestion(jvm_environment: str, settings, variant: str) -> None:  # type: ignore[no-untyped-def]
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from bench.variant import build, configuration_overrides
    from footfall.stack.jars import pipeline_jars

    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = table_env.get_config()
    config.set("pipeline.jars", pipeline_jars(settings.flink.jars_dir))
    for key, value in configuration_overrides(variant).items():
        config.set(key, value)
    plan = build(table_env, variant, settings, "bench-test-").explain()
    assert "LogicalSink" in plan
