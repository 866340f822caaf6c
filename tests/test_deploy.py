"""deploy/: what runs the job on Kubernetes with the Apache Flink Kubernetes Operator,
checked against the project's settings (there is no cluster or Docker engine here to
apply or build them): every variable the job and its task managers read is provided and
valid, every secret comes from the Secret, and the image runs the entry point that
`flink run -py` runs."""

from __future__ import annotations

import re

import pytest
import yaml

from footfall.settings import (
    AlertSettings,
    ClickHouseSettings,
    ExpectedSettings,
    JobSettings,
    KafkaSettings,
    MetricSettings,
    PostgresSettings,
    PrivacySettings,
    RedisSettings,
    RestateSettings,
    Settings,
)
from jobs.metrics.job import worker_environment
from ops.cli import parser
from ops.cluster import JOB_SCRIPT
from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"
READ_BY_THE_JOB = (KafkaSettings, ClickHouseSettings, RedisSettings, PostgresSettings, MetricSettings, JobSettings,
                   PrivacySettings)


def documents() -> list[dict]:
    return [document for path in sorted(DEPLOY.glob("*.yaml")) for document in yaml.safe_load_all(path.read_text())]


def manifests() -> dict[str, dict]:
    """One manifest of each kind but the CronJobs (cron_jobs)."""
    return {document["kind"]: document for document in documents() if document["kind"] != "CronJob"}


def cron_jobs() -> dict[str, dict]:
    return {document["metadata"]["name"]: document for document in documents() if document["kind"] == "CronJob"}


def test_every_manifest_parses_as_what_the_operator_and_kubernetes_expect() -> None:
    kinds = manifests()
    assert set(kinds) == {"FlinkDeployment", "ConfigMap", "Secret", "PersistentVolumeClaim"}
    deployment = kinds["FlinkDeployment"]
    assert deployment["apiVersion"] == "flink.apache.org/v1beta1" and deployment["spec"]["flinkVersion"] == "v2_0"
    assert deployment["spec"]["job"]["upgradeMode"] == "savepoint"


def test_every_setting_the_job_reads_is_provided_and_valid_and_secrets_come_from_the_secret() -> None:
    kinds = manifests()
    config, secret = kinds["ConfigMap"]["data"], kinds["Secret"]["stringData"]
    secret_names = {cls.env_name(name) for cls in READ_BY_THE_JOB for name, field in cls.model_fields.items()
                    if "Secret" in str(field.annotation)}
    assert "FOOTFALL_SALT" in secret_names
    assert secret_names <= set(secret) and not secret_names & set(config)
    wanted = {cls.env_name(name) for cls in READ_BY_THE_JOB for name in cls.model_fields}
    missing = wanted - set(config) - set(secret)
    assert not missing, f"not provided to the job: {sorted(missing)}"
    workers = set(worker_environment(Settings.of({**config, **secret})))
    assert workers <= set(config) | set(secret), sorted(workers - set(config) - set(secret))
    assert "FOOTFALL_LAYOUT_PASSWORD" in secret
    # Valid: the settings load from exactly these values (a typo would fail here).
    settings = Settings.of({**config, **secret})
    assert settings.kafka.servers.startswith("kafka-0.kafka:9092")
    assert str(settings.job.checkpoint_dir).startswith("/flink-data/")
    assert settings.privacy.feed_consent == "required"  # a cluster is production: the feed asks consent
    pod = kinds["FlinkDeployment"]["spec"]["podTemplate"]["spec"]["containers"][0]
    assert {next(iter(ref.values()))["name"] for ref in pod["envFrom"]} == {"footfall-config", "footfall-secrets"}


def test_the_image_runs_the_entry_point_of_flink_run_py() -> None:
    job = manifests()["FlinkDeployment"]["spec"]["job"]
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert re.fullmatch(r"local:///opt/flink/opt/flink-python-2\.0\.\d+\.jar", job["jarURI"])
    args = job["args"]
    assert args[args.index("-py") + 1] == f"/opt/footfall/{JOB_SCRIPT}"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM flink:2\.0\.\d+-scala_2\.12-java17$", dockerfile, re.MULTILINE)
    assert "COPY --from=build /opt/footfall /opt/footfall" in dockerfile
    assert "FOOTFALL_FLINK_JARS_DIR=/opt/footfall/flink-jars" in dockerfile


@pytest.mark.parametrize(("name", "command", "minutes"), [
    ("footfall-retention", ["privacy", "enforce"], None), ("footfall-expected", ["expected", "refresh"], "*/15"),
    ("footfall-alerts", ["alerts", "evaluate"], "*"), ("footfall-restate", ["restate", "due"], "*/10")])
def test_the_chores_the_supervisor_does_locally_are_cron_jobs_on_a_cluster_with_the_jobs_image_and_settings(
        name: str, command: list[str], minutes: str | None) -> None:
    cron = cron_jobs()[name]
    assert cron["apiVersion"] == "batch/v1" and len(cron["spec"]["schedule"].split()) == 5
    assert cron["spec"]["schedule"].split()[2:] == ["*", "*", "*"]  # every day
    if minutes:
        assert cron["spec"]["schedule"].split()[:2] == [minutes, "*"]
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == manifests()["FlinkDeployment"]["spec"]["image"]
    assert container["command"][0] == "footfall" and container["command"][1:] == command
    parsed = parser().parse_args(command)
    assert (parsed.command, parsed.action) == tuple(command)
    assert {next(iter(ref.values()))["name"] for ref in container["envFrom"]} == {"footfall-config", "footfall-secrets"}
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    config = manifests()["ConfigMap"]["data"]
    for read in (ExpectedSettings, AlertSettings, RestateSettings):
        assert {read.env_name(name) for name in read.model_fields} <= set(config)
