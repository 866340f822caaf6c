"""The job's one rule for the input topics' partitions, checked before it is submitted
(by the launcher, and by `footfall cluster start` for a message at once). No PyFlink
import."""

from __future__ import annotations

from kafka.errors import KafkaError

from footfall import clients
from footfall.settings import ConfigError, Settings


def check_partitions(settings: Settings) -> None:
    """At parallelism P, every input topic must have at least P partitions (raises
    ConfigError otherwise).

    Each source reader then has a partition of its own. A reader without one emits no
    watermark and would hold every window back for good; letting it go idle
    (FOOTFALL_JOB_IDLE_TIMEOUT_SECONDS) lost live positions: when the busy reader came
    back from a pause, the window operators took the idle reader's watermark before the
    busy reader's records arrived (one run in four of the two-task-manager test). Fewer
    readers than the parallelism is no way out either: Flink would deal each reader's
    rows round-robin to the operators between it and the per-partition time rules
    (02_ingest.sql), losing the partition's order, on which those rules, and a replay
    deciding as before, depend. A topic the broker does not know yet is not checked."""
    parallelism = settings.job.parallelism
    if parallelism == 1:
        return
    topics = settings.kafka.input_topics
    try:
        consumer = clients.kafka_consumer(settings.kafka)
        try:
            partitions = {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in topics}
        finally:
            consumer.close()
    except KafkaError as err:
        raise ConnectionError(
            f"parallelism {parallelism}: could not ask the broker at {settings.kafka.servers} how many "
            f"partitions {' and '.join(topics)} have ({err!r})"
        ) from err
    short = {topic: n for topic, n in partitions.items() if 0 < n < parallelism}
    if short:
        listed = ", ".join(f"{topic} has {n}" for topic, n in short.items())
        raise ConfigError(
            f"FOOTFALL_JOB_PARALLELISM={parallelism} needs at least {parallelism} partitions in each input "
            f"topic ({listed}): add partitions, or lower the parallelism"
        )
