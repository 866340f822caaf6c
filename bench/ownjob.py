"""The accuracy benches' own metrics job (bench.accuracy, bench.positions, bench.visitors):
its own topics, consumer group, REST port, checkpoints, salt and a temporary var folder,
so the stack's job and data are left alone, over malls of its own that it loads and
removes."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from footfall import clients
from footfall.settings import KafkaSettings, Settings
from footfall.stack.bootstrap import kafka_topics
from footfall.stack.job import MetricsJob
from footfall.stack.processes import free_port
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, Mall
from simulators.publish import KafkaSink, publish
from simulators.source import Record

SALT = "bench-accuracy-salt"


def own_settings(unique: str, var_dir: str) -> Settings:
    """The stack's services, with topics, group, port, folders and salt of this run."""
    os.environ.update({
        "FOOTFALL_VAR_DIR": var_dir,
        "FOOTFALL_SALT": SALT,
        "FOOTFALL_JOB_REST_PORT": str(free_port()),
        "FOOTFALL_JOB_CHECKPOINT_DIR": os.path.join(var_dir, "checkpoints"),
        "FOOTFALL_JOB_GROUP_ID": f"bench-accuracy-{unique}",
        "FOOTFALL_KAFKA_PARTITIONS": "1",
        **KafkaSettings.topics_environment(f"bench-{unique}"),
    })
    return Settings()


@contextmanager
def own_mall(mall: Mall | Sequence[Mall], tables: Iterable[str]) -> Iterator[tuple[Settings, Path]]:
    """Settings of a run of its own and its var folder, with `mall` (or several) loaded into
    PostgreSQL and their earlier rows gone from the ClickHouse `tables`; the malls are
    removed after. Raises ConfigError for a bad setting."""
    malls = (mall,) if isinstance(mall, Mall) else tuple(mall)
    mall_ids = [m.mall_id for m in malls]
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as var_dir:
        settings = own_settings(uuid.uuid4().hex[:8], var_dir)
        client = clients.clickhouse(settings.clickhouse)
        try:
            for table in tables:
                client.execute(f"ALTER TABLE {table} DELETE WHERE mall_id IN %(m)s", {"m": tuple(mall_ids)})
        finally:
            client.disconnect()
        load_layout(Layout(malls), settings.postgres)
        kafka_topics(settings.kafka)
        try:
            yield settings, Path(var_dir)
        finally:
            remove_malls(mall_ids, settings.postgres)


@contextmanager
def job_over(settings: Settings, records: list[Record]) -> Iterator[None]:
    """The metrics job running, with `records` published to its topics; stopped after."""
    job = MetricsJob(settings)
    try:
        job.start()
        publish(records, KafkaSink(settings.kafka))
        yield
    finally:
        job.stop()
