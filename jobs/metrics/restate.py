"""Restatement: a closed mall-day's numbers made final with the job's own SQL.

For each day asked (`python -m jobs.metrics.restate --mall M --from DAY [--to DAY]`, what
`footfall restate` and the supervisor run): the day's reports are read from the input
topics (jobs/metrics/excerpt.py), the job's SQL files run over them as a bounded stream
with the layout and staff as they are now, and the day's rows of every RESTATED output
(footfall/restatement.py) replace the live ones in ClickHouse with a final version.
Nothing is written before the bounded run has finished, so a day is restated whole or not
at all; the same reports give the same rows.

What differs from the live job is said here and nowhere else:
- the sources (restatement_sources.sql in place of 01_sources.sql): the excerpt, and the
  visitor history from ClickHouse for new against returning;
- the watermark trails by HOLD_S, longer than any excerpt spans, so every report within
  the allowed lateness is `on_time` and in its visit (live, a report more than the
  watermark delay behind counts in the day's devices only), and the windows close when
  the input ends;
- one task, no checkpoints, no restarts: a failure fails the day, which stays as it was.
Restatements queue: one at a time on this machine (a lock in the stack's folder), at the
lowest CPU priority, in a session of their own (`background`).
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pyflink.common import RowKind
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from footfall import clients
from footfall.outputs import latest
from footfall.restatement import (
    FAILED,
    FINAL,
    FINAL_DAYS_REFRESH_S,
    FINAL_VERSION_BASE,
    PER_DEVICE,
    RESTATED,
    RESTATING,
    MallDay,
    Refused,
    check,
    erased_devices,
    mall_days,
    mark,
)
from footfall.settings import ConfigError, Settings
from jobs import sql
from jobs.metrics import excerpt
from jobs.metrics.job import (
    build,
    embedded_python_path,
    end_group,
    flink_configuration,
    mini_batch,
    worker_environment,
)
from jobs.metrics.plan import FOLDER
from jobs.metrics.sinks.clickhouse import replace_day

log = logging.getLogger("footfall-restatement")

#: The restatement's watermark delay: the most an INTERVAL literal holds, far more than an
#: excerpt spans (a day and a few hours), so no window closes before the input ends.
HOLD_S = 99 * 86400
SOURCES = FOLDER / "restatement_sources.sql"
#: Per topic setting, the ${placeholder} of its excerpt's folder in SOURCES.
PATHS = {"wifi_probes_topic": "wifi_probes_path", "door_sensors_topic": "door_sensors_path",
         "pos_transactions_topic": "pos_transactions_path"}


def restated_settings(settings: Settings, scratch: Path) -> Settings:
    """`settings` as a restatement runs the SQL: the watermark held back (HOLD_S), no idle
    partitions, one task, and the layout's snapshot (kept for a PostgreSQL outage) of its own.
    A copy, not settings loaded anew: the live rule that the allowed lateness is at least the
    watermark delay (JobSettings) is the one this breaks on purpose, the late rule staying
    the live job's while the windows wait for the whole excerpt."""
    restated = copy.copy(settings)
    restated.__dict__["job"] = settings.job.model_copy(update={
        "watermark_delay_seconds": HOLD_S, "idle_timeout_seconds": 0, "parallelism": 1,
        "checkpoint_dir": scratch / "checkpoints"})
    return restated


def configuration(settings: Settings) -> Any:
    config = flink_configuration(settings)
    config.set_string("pipeline.name", "footfall-restatement")
    config.set_string("rest.port", "0")  # beside the live job's
    config.set_string("restart-strategy.type", "none")
    config.remove_config("execution.checkpointing.interval")
    return config


def visitor_history(settings: Settings, mall_day: MallDay, path: Path) -> int:
    """The days before `mall_day`, over the history TTL, on which each device was a visitor
    of its mall (a mall visit of the minimum dwell, as loyalty_daily reads them), as JSON
    lines for SOURCES; how many."""
    client = clients.clickhouse(settings.clickhouse)
    try:
        rows = client.execute(
            "SELECT DISTINCT device_id, day FROM visits FINAL WHERE mall_id = %(m)s AND shop_code = '' "
            "AND dwell_seconds >= %(dwell)s AND day < %(d)s AND day >= toDate(%(d)s) - %(days)s",
            {"m": mall_day.mall_id, "d": mall_day.day, "dwell": settings.metrics.mall_min_dwell_seconds,
             "days": settings.metrics.history_days})
    finally:
        client.disconnect()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for device_id, day in rows:
            out.write(json.dumps({"mall_id": mall_day.mall_id, "device_id": device_id, "day": day.isoformat()}) + "\n")
    return len(rows)


def read_excerpts(settings: Settings, mall_day: MallDay, scratch: Path) -> tuple[dict[str, object], int]:
    """Every input topic's excerpt for `mall_day` under `scratch`: SOURCES' values, and how
    many reports they hold."""
    first, last = mall_day.reads_ms(settings)
    window = excerpt.Window(first, last, settings.job.future_tolerance_seconds * 1000)
    values: dict[str, object] = {}
    reports = 0
    for topic_field, placeholder in PATHS.items():
        topic = getattr(settings.kafka, topic_field)
        folder = scratch / topic
        reports += excerpt.write(settings.kafka.servers, topic, window, folder)
        values[placeholder] = str(folder)
    history = scratch / "visitor_history" / "days.json"
    visitor_history(settings, mall_day, history)
    values["visitor_history_path"] = str(history.parent)
    return values, reports


def run_bounded(settings: Settings, mall_day: MallDay, values: dict[str, object]) -> dict[str, list[dict[str, Any]]]:
    """The job's SQL over the excerpts: the final rows of `mall_day` of every RESTATED output."""
    env = StreamExecutionEnvironment.get_execution_environment(configuration(settings))
    table_env = StreamTableEnvironment.create(env)
    build(table_env, settings, (SOURCES, values))
    for key, value in mini_batch(settings.job).items():
        table_env.get_config().set(key, value)
    keys = ", ".join(sql.literal(f"{output}/{mall_day.mall_id}") for output in RESTATED)
    query = table_env.sql_query(f"SELECT sink_key, payload FROM outputs WHERE sink_key IN ({keys})")
    day = mall_day.day.isoformat()
    changes: dict[str, list[tuple[bool, dict[str, Any]]]] = {output: [] for output in RESTATED}
    with query.execute().collect() as rows:
        for row in rows:
            kind = row.get_row_kind()
            if kind == RowKind.UPDATE_BEFORE:
                continue
            payload = json.loads(row[1])
            if payload["day"] == day:
                changes[row[0].split("/", 1)[0]].append((kind == RowKind.DELETE, payload))
    return {output: latest(found, output)[0] for output, found in changes.items()}


@contextmanager
def queued(settings: Settings) -> Iterator[None]:
    """One restatement at a time on this machine: wait for the one under way."""
    settings.stack.var_dir.mkdir(parents=True, exist_ok=True)
    with (settings.stack.var_dir / "restate.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("waiting for the restatement under way to finish", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder for the excerpts, in memory where the machine has it (/dev/shm): the
    reports hold the phones' MACs as sent, which the product keeps on no disk."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="footfall-restate-", dir=shm if shm.is_dir() else None))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Restated:
    """What restating a day took: reports read, rows written, and seconds per step."""

    reports: int = 0
    rows: int = 0
    reading_s: float = 0.0
    job_s: float = 0.0
    writing_s: float = 0.0

    def __str__(self) -> str:
        total = self.reading_s + self.job_s + self.writing_s
        return (f"{self.reports:,} reports read, {self.rows:,} rows written in {total:.1f} s (reading the topics "
                f"{self.reading_s:.1f} s, the job {self.job_s:.1f} s, ClickHouse {self.writing_s:.1f} s)")


def restate(settings: Settings, mall_day: MallDay, scratch: Path) -> Restated:
    """Restate one mall-day, its excerpts under `scratch`."""
    check(mall_day, settings)
    done = Restated()
    version = FINAL_VERSION_BASE + time.time_ns()
    client = clients.clickhouse(settings.clickhouse)
    try:
        mark(client, mall_day, RESTATING, version - 1)  # from now on the live sinks leave the day alone
        marked = step = time.monotonic()
        try:
            day_folder = scratch / f"{mall_day.mall_id}-{mall_day.day.isoformat()}"
            try:
                values, done.reports = read_excerpts(settings, mall_day, day_folder)
                done.reading_s, step = time.monotonic() - step, time.monotonic()
                rows = run_bounded(restated_settings(settings, scratch), mall_day, values)
                done.job_s, step = time.monotonic() - step, time.monotonic()
            finally:
                shutil.rmtree(day_folder, ignore_errors=True)
            erased = erased_devices(settings)
            for output in PER_DEVICE:
                rows[output] = [row for row in rows[output] if row["device_id"] not in erased]

            def ready() -> None:  # the live sinks have read the mark (FinalDays)
                time.sleep(max(0.0, marked + 2 * FINAL_DAYS_REFRESH_S - time.monotonic()))

            replace_day(client, mall_day.mall_id, mall_day.day, rows, version, ready)
            done.writing_s, done.rows = time.monotonic() - step, sum(len(r) for r in rows.values())
        except BaseException:
            mark(client, mall_day, FAILED, version)
            raise
        mark(client, mall_day, FINAL, version + 1, done.reports, time.monotonic() - marked)
    finally:
        client.disconnect()
    return done


def background() -> None:
    """The live job first: the lowest CPU priority. Linux shares the CPU between sessions
    (autogroups) before it looks at a process's nice value, so a restatement started in a
    session of its own (ops/restate.py) lowers its session's share too, where it may."""
    os.nice(19)
    try:
        Path("/proc/self/autogroup").write_text("19")
    except OSError:
        pass  # no autogroups here (or not ours to change): the nice value is what counts


def bar(done: int, total: int, width: int = 30) -> str:
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.metrics.restate", description=__doc__.splitlines()[0])
    parser.add_argument("--mall", required=True)
    parser.add_argument("--from", dest="first", required=True, type=date.fromisoformat, metavar="DAY")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, metavar="DAY")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        days = mall_days(settings, args.mall, args.first, args.last or args.first)
        for mall_day in days:
            check(mall_day, settings)  # every day before any: never half a span
    except (Refused, ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    background()
    if os.getpgrp() == os.getpid():  # leads a session of its own (ops/restate.py): take its JVM along on SIGTERM
        signal.signal(signal.SIGTERM, end_group)
    with queued(settings), scratch_folder() as scratch:
        # Before the JVM starts, which the workers inherit it from (as jobs/metrics/job.py).
        (scratch / "checkpoints").mkdir()
        os.environ.update(worker_environment(restated_settings(settings, scratch)))
        if settings.job.python_execution_mode == "thread":
            embedded_python_path()
        for n, mall_day in enumerate(days, 1):
            try:
                done = restate(settings, mall_day, scratch)
            except Refused as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(f"{mall_day}: final: {done}", flush=True)
            print(bar(n, len(days)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
