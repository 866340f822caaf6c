"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ops.processes import free_port

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "footfall", "free_port", "own_mall", "read_topic", "second_stack_environment"]


def second_stack_environment(var_dir: Path) -> dict[str, str]:
    """The environment of a whole second stack beside the test stack: its own folder and
    checkpoints, and free ports for every service, the job's REST API and the dashboards."""
    return {
        "FOOTFALL_VAR_DIR": str(var_dir),
        **{variable: str(free_port()) for variable in (
            "FOOTFALL_KAFKA_PORT", "FOOTFALL_CLICKHOUSE_PORT", "FOOTFALL_CLICKHOUSE_HTTP_PORT", "FOOTFALL_REDIS_PORT",
            "FOOTFALL_POSTGRES_PORT", "FOOTFALL_JOB_REST_PORT", "FOOTFALL_DASHBOARD_PORT")},
        "FOOTFALL_JOB_CHECKPOINT_DIR": str(var_dir / "checkpoints"),
    }


def footfall(*args: str, env: dict[str, str] | None = None, timeout: float = 180,
             cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the project's command as a user would, with extra environment variables, from
    `cwd` (the project's folder unless given)."""
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def own_mall(index: int, tag: str = ""):  # type: ignore[no-untyped-def]
    """A built-in mall under an id of its own (and probe MACs of its own, from `index`);
    `tag` makes the id unique to one run, so no earlier run's rows or keys share it."""
    from simulators.layout import standalone_mall

    return standalone_mall(index, f"mall-test-{index}{tag}")


def read_topic(settings, topic: str) -> list:  # type: ignore[no-untyped-def]
    """Every message on `topic` so far, all partitions, from the beginning."""
    from kafka import TopicPartition

    from footfall import clients

    consumer = clients.kafka_consumer(settings.kafka, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    consumer.seek_to_beginning()
    messages = list(consumer)
    consumer.close()
    return messages
