"""The accuracy benches' own metrics job (bench.accuracy, bench.positions, bench.visitors):
its own topics, consumer group, REST port, checkpoints, salt and a temporary var folder,
so the stack's job and data are left alone, over malls of its own that it loads and
removes; the whole simulated days they read, and the wait for what the job wrote to settle."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from footfall import clients
from footfall.settings import KafkaSettings, Settings
from ops.bootstrap import kafka_topics
from ops.job import MetricsJob
from ops.processes import free_port
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, Mall
from simulators.publish import KafkaSink, publish
from simulators.radio import RadioModel
from simulators.records import Record, probe_record
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig
from simulators.truth import TruthFile

SALT = "bench-accuracy-salt"
T = TypeVar("T")


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


def whole_days(malls: Sequence[Mall], first: date, days: int, behaviour: Behaviour, truth_path: Path, seed: int,
               radio: RadioModel | None = None) -> list[Record]:
    """`days` whole local days (the first mall's zone) from `first`, the ground truth
    written to `truth_path`, and one randomised report in each mall an hour after the
    last day, so the watermark passes every visit."""
    zone = malls[0].zone
    start = datetime.combine(first, datetime.min.time(), zone).timestamp()
    end = datetime.combine(first + timedelta(days=days), datetime.min.time(), zone).timestamp()
    config = SimulationConfig(start=start, end=end, seed=seed, behaviour=behaviour, radio=radio or RadioModel())
    truth = TruthFile(truth_path, behaviour.rotation_minutes * 60)
    records = list(Simulation(Layout(tuple(malls)), config, truth).records())
    closing = end + 3600
    for mall in malls:
        records.append(probe_record(f"closing-{mall.mall_id}", mall.probes[-1].ap_mac, "06:00:00:00:00:01", -50,
                                    int(closing * 1000), closing))
    return records


def settled(read: Callable[[], T], ready: Callable[[T], bool], timeout: float = 900) -> T | None:
    """What `read` returns once it is `ready` and has not changed for 20 s (polled every
    2 s); the last read at the timeout, or None if nothing was read."""
    deadline, stable, last = time.monotonic() + timeout, 0, None
    while time.monotonic() < deadline and stable < 10:
        time.sleep(2)
        now = read()
        stable = stable + 1 if now == last and ready(now) else 0
        last = now
    return last
