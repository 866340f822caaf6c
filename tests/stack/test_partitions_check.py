"""At parallelism P the job wants P partitions in each input topic (every source reader
with a partition of its own), asked of the real broker before it starts."""

from __future__ import annotations

import json

import pytest

from footfall.settings import ConfigError, KafkaSettings, Settings
from jobs.metrics.partitions import check_partitions
from ops.bootstrap import kafka_topics


def test_a_topic_with_fewer_partitions_than_the_parallelism_is_refused(stack: Settings, unique: str,
                                                                         monkeypatch) -> None:
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    wifi, doors, tills = f"wifi-probes-{unique}", f"door-sensors-{unique}", f"pos-transactions-{unique}"
    monkeypatch.setenv("FOOTFALL_KAFKA_TOPIC_PARTITIONS", json.dumps({wifi: 3, doors: 2, tills: 3}))
    kafka_topics(Settings().kafka)

    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    check_partitions(Settings())
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "3")
    with pytest.raises(ConfigError, match=f"FOOTFALL_JOB_PARALLELISM=3 needs at least 3 partitions in each input "
                                          rf"topic \({doors} has 2\)"):
        check_partitions(Settings())


def test_a_topic_the_broker_does_not_know_is_not_checked(stack: Settings, unique: str, monkeypatch) -> None:
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    check_partitions(Settings())


def test_at_parallelism_1_the_broker_is_not_asked(monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens there
    check_partitions(Settings())


def test_a_broker_that_does_not_answer_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("FOOTFALL_JOB_PARALLELISM", "2")
    with pytest.raises(ConnectionError, match="parallelism 2: could not ask the broker at 127.0.0.1:1"):
        check_partitions(Settings())
