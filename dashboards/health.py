"""Pipeline health, as DataFrames: how far the job is behind its input topics (Kafka),
how fast events arrive and are read, what was rejected and when each output was last
written (Redis), the job's state (Flink REST), and what the outputs hold for a mall and
day (ClickHouse). Plain functions of a client, so they are tested alone."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from clickhouse_driver import Client as ClickHouse
from kafka import KafkaConsumer, TopicPartition
from redis import Redis

from dashboards.data import day_bounds
from footfall import restatement
from footfall.flink import job_health, newest_job, rest_get, source_offsets, subtask_metrics, vertices
from footfall.outputs import DEAD_LETTER_COUNTS, INGEST_COUNTS, OUTPUT_UPDATES, OUTPUTS
from footfall.supervision import SupervisorState

LAG_COLUMNS = ["topic", "partition", "end_offset", "read", "committed", "lag"]
JOB_COLUMNS = ["state", "started", "uptime_seconds", "checkpoints", "failed_checkpoints", "last_checkpoint",
               "events_per_second", "restarts", "rows_waiting", "degraded"]
ACCOUNTING_COLUMNS = ["topic", "read", "accepted", "opted_out", "rejected", "in_flight", "late_for_windows"]
RESTART_COLUMNS = ["at", "reason", "restored_from"]


def consumer_lag(
    consumer: KafkaConsumer, topics: list[str], read: dict[tuple[str, int], int] | None = None
) -> pd.DataFrame:
    """Per partition of `topics`: the end offset (messages written to it so far: the
    broker's, or what was read or committed if that is further), the job's read position
    (`read`, from `read_positions`; None where unknown), the offset its consumer group
    committed (None before the first commit) and the lag: messages after the furthest of
    the two. The job
    commits on every checkpoint, so the committed offset trails what it has read by up to
    one checkpoint interval; Flink's REST metrics are a few seconds old in turn."""
    read = read or {}
    rows = []
    for topic in topics:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(parts) if parts else {}
        for part in parts:
            committed = consumer.committed(part)
            position = read.get((topic, part.partition))
            known = [offset for offset in (position, committed) if offset is not None]
            done = max(known) if known else None
            # Nothing can be read or committed past a partition's end, but some brokers
            # report the end a batch short: the end is at least what was read, and the lag
            # never negative.
            end = ends[part] if done is None else max(ends[part], done)
            rows.append((topic, part.partition, end, position, committed, end - (done or 0)))
    frame = pd.DataFrame(rows, columns=LAG_COLUMNS)
    frame[["read", "committed"]] = frame[["read", "committed"]].astype("Int64")
    return frame


@dataclass(frozen=True)
class FlinkJob:
    """One look at the metrics job through Flink's REST API: its overview entry and its
    source vertices, read once per refresh and shared by what the System page derives."""

    rest: str
    overview: dict[str, Any]
    vertices: list[dict[str, Any]]

    @property
    def jid(self) -> str:
        return str(self.overview["jid"])

    @property
    def sources(self) -> list[dict[str, Any]]:
        return [v for v in self.vertices if v["name"].startswith("Source:")]


def flink_job(rest: str) -> FlinkJob | None:
    """The newest run of the metrics job, or None when the cluster runs no such job.
    Raises OSError when the REST API does not answer."""
    job = newest_job(rest)
    if job is None:
        return None
    return FlinkJob(rest, job, vertices(rest, job["jid"]))


def read_positions(job: FlinkJob | None) -> dict[tuple[str, int], int]:
    """How far the running job's Kafka sources have read each partition (the offset after
    the last record they fetched), from Flink's `currentOffset` metrics; empty when no
    job runs."""
    if job is None or job.overview["state"] != "RUNNING":
        return {}
    read = source_offsets(job.rest, job.jid, job.sources)
    return {partition: offset + 1 for partition, offset in read.items() if offset >= 0}


@dataclass
class RateMeter:
    """Events/s per name from successive running totals (end offsets), one sample per
    refresh; a name's first sample has no rate yet."""

    previous: dict[str, tuple[float, int]] = field(default_factory=dict)

    def rates(self, totals: dict[str, int], at: float | None = None) -> dict[str, float | None]:
        at = time.monotonic() if at is None else at
        rates: dict[str, float | None] = {}
        for name, total in totals.items():
            before = self.previous.get(name)
            rates[name] = (
                max(total - before[1], 0) / (at - before[0]) if before is not None and at > before[0] else None
            )
            self.previous[name] = (at, total)
        return rates


def topic_totals(lag: pd.DataFrame) -> dict[str, int]:
    """Messages in each topic so far (the sum of its partitions' end offsets)."""
    return {topic: int(ends.sum()) for topic, ends in lag.groupby("topic")["end_offset"]}


def dead_letters(redis: Redis, topics: list[str], key: str = DEAD_LETTER_COUNTS) -> pd.DataFrame:
    """Messages rejected from `topics` so far, by reason: topic, reason, messages; most first."""
    rows = []
    for name, count in redis.hgetall(key).items():
        topic, _, reason = name.rpartition(":")
        if topic in topics:
            rows.append((topic, reason, int(count)))
    frame = pd.DataFrame(rows, columns=["topic", "reason", "messages"])
    return frame.sort_values(["messages", "topic", "reason"], ascending=[False, True, True], ignore_index=True)


def output_ages(redis: Redis, now: datetime | None = None, key: str = OUTPUT_UPDATES) -> pd.DataFrame:
    """When each output of the job was last written and how long ago: output,
    updated_at (UTC), age_seconds (None for an output never written)."""
    now = now or datetime.now(UTC)
    written = redis.hgetall(key)
    rows = []
    for output in OUTPUTS:
        stamp = written.get(output)
        at = datetime.fromisoformat(stamp) if stamp else None
        rows.append((output, at, (now - at).total_seconds() if at else None))
    return pd.DataFrame(rows, columns=["output", "updated_at", "age_seconds"])


def job_status(job: FlinkJob | None) -> pd.DataFrame:
    """The metrics job as Flink's REST API reports it, in one row (JOB_COLUMNS): state,
    start time, checkpoints, the events/s its sources read, its restarts, the rows its
    sinks hold, and `degraded`: which dependency it cannot reach and since when ("" when
    none); no row without a job."""
    if job is None:
        return pd.DataFrame(columns=JOB_COLUMNS)
    checkpoints = rest_get(job.rest, f"/jobs/{job.jid}/checkpoints")
    latest = (checkpoints.get("latest") or {}).get("completed") or {}
    reading = sum(
        m.get("sum", 0.0)
        for vertex in job.sources
        for m in subtask_metrics(job.rest, job.jid, vertex, ["numRecordsOutPerSecond"], agg="sum")
    )
    row = {
        "state": job.overview["state"],
        "started": datetime.fromtimestamp(job.overview["start-time"] / 1000, UTC),
        "uptime_seconds": job.overview.get("duration", 0) / 1000,
        "checkpoints": checkpoints["counts"]["completed"],
        "failed_checkpoints": checkpoints["counts"]["failed"],
        "last_checkpoint": (
            datetime.fromtimestamp(latest["latest_ack_timestamp"] / 1000, UTC)
            if latest.get("latest_ack_timestamp")
            else None
        ),
        "events_per_second": reading,
        "restarts": 0,
        "rows_waiting": 0,
        "degraded": "",
    }
    if job.overview["state"] == "RUNNING":
        health = job_health(job.rest, job.jid, job.vertices)
        row.update(
            restarts=health.restarts,
            rows_waiting=health.rows_waiting,
            degraded=health.describe() if health.degraded else "",
        )
    return pd.DataFrame([row], columns=JOB_COLUMNS)


def supervisor_restarts(state: SupervisorState | None) -> pd.DataFrame:
    """The embedded job's restarts by its supervisor, newest first (RESTART_COLUMNS): when,
    why its process ended, and the checkpoint it was started again from."""
    rows = [(datetime.fromisoformat(r.at), r.reason, r.restored_from or "the topics")
            for r in reversed(state.history)] if state else []
    return pd.DataFrame(rows, columns=RESTART_COLUMNS)


def accounting(redis: Redis, lag: pd.DataFrame, topics: list[str]) -> pd.DataFrame:
    """Every message accounted for, per input topic (ACCOUNTING_COLUMNS): read by the job
    (its sources' positions, from `lag`), accepted, opted out (reports of devices whose
    owner asked not to be tracked, dropped at once) and rejected (the job's counts in
    Redis), in flight (read, not yet counted: a mini-batch and a sink flush behind), and
    of those accepted, the ones too late for the event-time windows."""
    counts = redis.hgetall(INGEST_COUNTS)
    rejected = dead_letters(redis, topics).groupby("topic")["messages"].sum()
    rows = []
    for topic in topics:
        read_by_job = lag.loc[lag["topic"] == topic, "read"].dropna()
        read = int(read_by_job.sum()) if len(read_by_job) else None
        accepted = int(counts.get(f"{topic}:accepted", 0))
        opted_out = int(counts.get(f"{topic}:opted_out", 0))
        turned_away = int(rejected.get(topic, 0))
        in_flight = None if read is None else max(read - accepted - opted_out - turned_away, 0)
        rows.append((topic, read, accepted, opted_out, turned_away, in_flight,
                     int(counts.get(f"{topic}:late_for_windows", 0))))
    frame = pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
    frame[["read", "in_flight"]] = frame[["read", "in_flight"]].astype("Int64")
    return frame


def stored_rows(clickhouse: ClickHouse, mall_id: str, day: date, tz: str) -> pd.DataFrame:
    """Rows each ClickHouse output holds for the mall and local day (the versioned tables
    read with FINAL; `positions` by the day's seconds; `staff_detected`, the devices
    detected by then): output, rows."""
    start, end = day_bounds(day, ZoneInfo(tz))
    parts, names = [], []
    for output in OUTPUTS.values():
        if not output.columns:
            continue
        names.append(output.name)
        if not output.versioned:
            where = "ts >= toDateTime(%(a)s) AND ts < toDateTime(%(b)s)"
        else:
            where = "day = %(d)s" if "day" in output.columns else "qualified_day <= %(d)s"
        final = " FINAL" if output.versioned else ""
        parts.append(
            f"SELECT '{output.name}' AS output, count() AS rows FROM {output.name}{final} "
            f"WHERE mall_id = %(m)s AND {where}"
        )
    rows = dict(clickhouse.execute(" UNION ALL ".join(parts), {"m": mall_id, "d": day, "a": start, "b": end}))
    return pd.DataFrame([(name, int(rows.get(name, 0))) for name in names], columns=["output", "rows"])


def restatements(clickhouse: ClickHouse, limit: int = 20) -> pd.DataFrame:
    """The last restatements of closed days, newest first (footfall/restatement.py)."""
    return pd.DataFrame(restatement.recent(clickhouse, limit), columns=list(restatement.RECENT_COLUMNS))
