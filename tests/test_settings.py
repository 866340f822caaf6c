import os
import re

import pytest

from footfall.settings import (
    ROOT,
    AlertSettings,
    ClickHouseSettings,
    ConfigError,
    DashboardSettings,
    ExpectedSettings,
    FlinkSettings,
    JobSettings,
    KafkaSettings,
    MetricSettings,
    PostgresSettings,
    PrivacySettings,
    RedisSettings,
    Settings,
    StackSettings,
    load,
)


def test_defaults_are_the_documented_local_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FOOTFALL_"):
            monkeypatch.delenv(name)
    assert load(KafkaSettings).servers == "127.0.0.1:9092"
    clickhouse = load(ClickHouseSettings)
    assert (clickhouse.host, clickhouse.port, clickhouse.http_port, clickhouse.user) == (
        "127.0.0.1",
        9000,
        8123,
        "default",
    )
    assert load(RedisSettings).port == 6379
    postgres = load(PostgresSettings)
    assert postgres.conninfo()["dbname"] == "footfall"
    assert (postgres.port, postgres.user, postgres.password.get_secret_value()) == (5432, "footfall", "footfall")
    assert postgres.schema_name == "footfall"


def test_every_address_and_port_moves_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_PORT", "19092")
    monkeypatch.setenv("FOOTFALL_CLICKHOUSE_HTTP_PORT", "18123")
    monkeypatch.setenv("FOOTFALL_REDIS_HOST", "127.0.0.2")
    monkeypatch.setenv("FOOTFALL_POSTGRES_SCHEMA", "other")
    assert load(KafkaSettings).servers == "127.0.0.1:19092"
    assert load(ClickHouseSettings).http_port == 18123
    assert load(RedisSettings).host == "127.0.0.2"
    assert load(PostgresSettings).schema_name == "other"


def test_a_bootstrap_server_list_replaces_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    assert load(KafkaSettings).servers == "kafka-1:9092,kafka-2:9092"


def test_partitions_per_topic_fall_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_PARTITIONS", "3")
    monkeypatch.setenv("FOOTFALL_KAFKA_TOPIC_PARTITIONS", '{"wifi-probes": 8}')
    kafka = load(KafkaSettings)
    assert (kafka.partitions_of("wifi-probes"), kafka.partitions_of("dead-letters")) == (8, 3)


@pytest.mark.parametrize(
    ("variable", "value", "cls"),
    [
        ("FOOTFALL_REDIS_PORT", "abc", RedisSettings),
        ("FOOTFALL_KAFKA_PORT", "70000", KafkaSettings),
        ("FOOTFALL_KAFKA_PARTITIONS", "0", KafkaSettings),
        ("FOOTFALL_LOCAL_SERVICES", "kafka,zookeeper", StackSettings),
        ("FOOTFALL_JOB_POSITION_DELAY_SECONDS", "121", JobSettings),  # beyond the watermark delay
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch, variable, value, cls) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load(cls)
    message = str(raised.value)
    assert variable in message and "\n" not in message


def test_local_services_is_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_LOCAL_SERVICES", "redis, postgres")
    assert load(StackSettings).local_services == ("redis", "postgres")


def test_secrets_never_show_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_POSTGRES_PASSWORD", "s3cret-value")
    monkeypatch.setenv("FOOTFALL_CLICKHOUSE_PASSWORD", "other-s3cret")
    assert "s3cret-value" not in repr(load(PostgresSettings))
    assert "other-s3cret" not in repr(load(ClickHouseSettings))


def test_relative_folders_are_relative_to_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOOTFALL_VAR_DIR", "./state")
    assert load(StackSettings).var_dir == ROOT / "state"


def test_env_example_lists_every_variable() -> None:
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    declared = set()
    for cls in (
        KafkaSettings,
        ClickHouseSettings,
        RedisSettings,
        PostgresSettings,
        FlinkSettings,
        DashboardSettings,
        StackSettings,
        MetricSettings,
        JobSettings,
        PrivacySettings,
        ExpectedSettings,
        AlertSettings,
    ):
        for field, info in cls.model_fields.items():
            declared.add(info.alias or cls.env_name(field))
    assert declared <= listed, declared - listed
    assert listed - declared <= {"PYTHON"}, listed - declared


def test_settings_of_an_environment_are_read_from_it_and_leave_ours_alone(monkeypatch) -> None:
    monkeypatch.delenv("FOOTFALL_REDIS_DB", raising=False)
    settings = Settings.of({"FOOTFALL_REDIS_DB": "15", "FOOTFALL_KAFKA_WIFI_PROBES_TOPIC": "wifi-probes-other"})
    assert settings.redis.db == 15 and settings.kafka.wifi_probes_topic == "wifi-probes-other"
    assert "FOOTFALL_REDIS_DB" not in os.environ and Settings().redis.db == 0


@pytest.mark.parametrize(("variable", "value"), [("FOOTFALL_FEED_CONSENT", "maybe"),
                                                  ("FOOTFALL_RETENTION_DEVICE_DAYS", "0"),
                                                  ("FOOTFALL_MIN_GROUP_SIZE", "-1")])
def test_a_bad_privacy_setting_is_one_line_naming_it(monkeypatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load(PrivacySettings)
