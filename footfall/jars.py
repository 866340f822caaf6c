"""The jars a Flink pipeline of the project needs (`pipeline.jars`): the connectors, which
`make setup` extracts, and the project's Java functions, which it compiles (ops/jars.py)."""

from __future__ import annotations

from pathlib import Path

JARS = (
    "flink-connector-kafka.jar",
    "kafka-clients.jar",
    "flink-connector-jdbc-core.jar",
    "flink-connector-jdbc-postgres.jar",
    "postgresql.jar",
)
#: The project's Java functions, built from udfs/java by ops/jars.py.
FUNCTIONS_JAR = "footfall-functions.jar"


def pipeline_jars(jars_dir: Path) -> str:
    """The value of Flink's `pipeline.jars` option: the connectors and our functions."""
    names = (*JARS, FUNCTIONS_JAR)
    missing = [name for name in names if not (jars_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"jars missing from {jars_dir}: {', '.join(missing)} (run make setup)")
    return ";".join((jars_dir / name).resolve().as_uri() for name in names)
