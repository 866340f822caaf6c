import zipfile

import pytest

from footfall import jars as pipeline
from ops import jars


def _fake_wheel(path, names):
    with zipfile.ZipFile(path, "w") as wheel:
        for name in names:
            wheel.writestr(f"pyflink/lib/{name}", f"jar:{name}")
        wheel.writestr("pyflink/lib/flink-core.jar", "must not be taken")


def test_only_the_connector_jars_are_extracted(tmp_path) -> None:
    wheel = tmp_path / "libs.whl"
    _fake_wheel(wheel, pipeline.JARS)
    target = tmp_path / "jars"
    jars.extract(wheel, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(pipeline.JARS)
    assert (target / "kafka-clients.jar").read_text() == "jar:kafka-clients.jar"
    assert not jars.ensure(target)  # all present: nothing to download


def test_pipeline_jars_lists_file_uris_and_names_what_is_missing(tmp_path) -> None:
    wheel = tmp_path / "libs.whl"
    _fake_wheel(wheel, pipeline.JARS)
    jars.extract(wheel, tmp_path / "jars")
    with pytest.raises(FileNotFoundError, match=pipeline.FUNCTIONS_JAR):
        pipeline.pipeline_jars(tmp_path / "jars")
    (tmp_path / "jars" / pipeline.FUNCTIONS_JAR).write_text("jar")
    uris = pipeline.pipeline_jars(tmp_path / "jars").split(";")
    assert len(uris) == 6 and all(uri.startswith("file:///") for uri in uris)
    (tmp_path / "jars" / "postgresql.jar").unlink()
    with pytest.raises(FileNotFoundError, match="postgresql.jar"):
        pipeline.pipeline_jars(tmp_path / "jars")


def test_the_set_up_environment_has_every_connector_jar(settings) -> None:
    assert [p.name for p in jars.present(settings.flink.jars_dir)] == list(pipeline.JARS)


def test_the_java_functions_are_built_once_from_their_sources(settings) -> None:
    built = settings.flink.jars_dir / pipeline.FUNCTIONS_JAR
    assert built.is_file()
    assert not jars.build_functions(settings.flink.jars_dir)  # up to date: nothing to do
    with zipfile.ZipFile(built) as jar:
        assert {"footfall/udf/EventMillis.class", "footfall/udf/ProbeLayout.class",
                "footfall/udf/MallZone.class"} <= set(jar.namelist())
