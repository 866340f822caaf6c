"""How many source readers the job gives each input topic: its parallelism, but at most
one per partition, asked of the real broker."""

from __future__ import annotations

import json

import pytest

from footfall.settings import KafkaSettings, Settings
from footfall.stack.bootstrap import kafka_topics
from jobs.metrics.job import source_readers, sql_values

pytestmark = pytest.mark.integration


def test_readers_are_capped_by_each_topic_s_partitions(stack: Settings, unique: str, monkeypatch) -> None:
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    wifi, doors = f"wifi-probes-{unique}", f"door-sensors-{unique}"
    monkeypatch.setenv("FOOTFALL_KAFKA_TOPIC_PARTITIONS", json.dumps({wifi: 3, doors: 1}))
    kafka_topics(Settings().kafka)

    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    settings = Settings()
    assert source_readers(settings) == {wifi: 2, doors: 1}
    values = sql_values(settings, source_readers(settings))
    assert (values["wifi_probes_readers"], values["door_sensors_readers"]) == ("2", "1")

    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "4")
    assert source_readers(Settings()) == {wifi: 3, doors: 1}


def test_a_topic_the_broker_does_not_know_gets_the_parallelism(stack: Settings, unique: str, monkeypatch) -> None:
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    assert source_readers(Settings()) == {f"wifi-probes-{unique}": 2, f"door-sensors-{unique}": 2}


def test_at_parallelism_1_the_broker_is_not_asked(monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens there
    assert set(source_readers(Settings()).values()) == {1}


def test_a_broker_that_does_not_answer_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    with pytest.raises(RuntimeError, match="parallelism 2: could not ask the broker at 127.0.0.1:1"):
        source_readers(Settings())
