"""`footfall job`: the metrics job's lifecycle over Flink's REST API, the same for the
embedded mini-cluster and a standalone cluster (`footfall cluster start`).

- status: state, uptime, restarts, plan version, last checkpoint and savepoint, lag per
  partition;
- savepoint: take one and wait for it; stop --savepoint: stop with one;
- start --from latest|topics|PATH: from the newest checkpoint or savepoint of this plan,
  from the topics (no state), or from a given snapshot;
- upgrade: stop with a savepoint and start the job as the files now are from it; when the
  SQL changed, its state cannot be mapped to the new plan, which is said, and only with
  `--replay` is the new version started from the topics (the sinks' upserts make the
  replay safe).

Every snapshot is kept under the plan version that wrote it (jobs/metrics/plan.py), and
listed with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from footfall import clients
from footfall.flink import (
    SavepointError,
    await_savepoint,
    job_health,
    plan_of,
    source_offsets,
    trigger_savepoint,
    vertices,
)
from footfall.settings import Settings
from jobs.metrics.plan import plan_of_path, plan_version
from ops.cluster import ClusterMetricsJob
from ops.job import FlinkJob, MetricsJob
from ops.services import StackError


def current(settings: Settings) -> FlinkJob:
    """The job as it runs here: on our standalone cluster when that runs, else embedded."""
    cluster = ClusterMetricsJob(settings)
    return cluster if cluster.cluster.running() else MetricsJob(settings)


@dataclass(frozen=True)
class Snapshot:
    kind: str  # checkpoint | savepoint
    plan: str | None
    path: Path
    taken: float  # epoch seconds

    def line(self) -> str:
        when = datetime.fromtimestamp(self.taken, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.kind:<10} plan {self.plan or '?':<12} {when}  {self.path}"


def snapshots(settings: Settings) -> list[Snapshot]:
    """Every complete checkpoint and savepoint kept, oldest first."""
    found = []
    for kind, root, pattern in (("checkpoint", settings.job.checkpoint_dir, "plan-*/*/chk-*/_metadata"),
                                ("savepoint", settings.job.savepoint_dir, "plan-*/savepoint-*/_metadata")):
        for metadata in root.glob(pattern):
            found.append(Snapshot(kind, plan_of_path(metadata.parent), metadata.parent, metadata.stat().st_mtime))
    return sorted(found, key=lambda s: s.taken)


def newest(settings: Settings, plan: str) -> Snapshot | None:
    mine = [s for s in snapshots(settings) if s.plan == plan]
    return mine[-1] if mine else None


@dataclass(frozen=True)
class Status:
    state: str
    started: datetime
    restarts: int
    plan: str | None
    last_checkpoint: str | None
    last_savepoint: str | None
    #: (topic, partition) -> messages not read yet
    lag: dict[tuple[str, int], int] = field(default_factory=dict)
    #: The embedded job's supervisor: its restarts of the job's process and why
    supervisor: str | None = None

    def lines(self) -> list[str]:
        uptime = datetime.now(UTC) - self.started
        hours, rest = divmod(int(uptime.total_seconds()), 3600)
        lines = [
            f"state       {self.state} for {hours}h{rest // 60:02d}m (since {self.started:%Y-%m-%d %H:%M:%S} UTC), "
            f"{self.restarts} restart{'s' if self.restarts != 1 else ''}",
            f"plan        {self.plan or '?'} (the files here: {plan_version()})",
            f"checkpoint  {self.last_checkpoint or 'none yet'}",
            f"savepoint   {self.last_savepoint or 'none'}",
        ]
        if self.supervisor:
            lines.append(f"supervisor  {self.supervisor}")
        lines += [f"lag         {topic}[{partition}] {lag:,}" for (topic, partition), lag in sorted(self.lag.items())]
        return lines


def status(settings: Settings) -> Status | None:
    """What Flink says about the newest run of the job; None when no job answers."""
    job = current(settings)
    overview = job.overview()
    if overview is None:
        return None
    jid, rest = overview["jid"], job.rest
    checkpoints = job.checkpoints() or {}
    latest = checkpoints.get("latest") or {}

    def described(entry: dict | None) -> str | None:  # type: ignore[type-arg]
        if not entry:
            return None
        when = datetime.fromtimestamp(entry.get("latest_ack_timestamp", 0) / 1000, UTC)
        return f"#{entry.get('id')} at {when:%H:%M:%S} UTC, {entry.get('external_path', '')}"

    running = overview["state"] == "RUNNING"
    graph = vertices(rest, jid) if running else []
    health = job_health(rest, jid, graph) if running else None
    return Status(
        state=overview["state"],
        started=datetime.fromtimestamp(overview["start-time"] / 1000, UTC),
        restarts=health.restarts if health else 0,
        plan=plan_of(rest, jid),
        last_checkpoint=described(latest.get("completed")),
        last_savepoint=described(latest.get("savepoint")),
        lag=_lag(settings, source_offsets(rest, jid, graph)) if running else {},
        supervisor=_supervisor(job),
    )


def _supervisor(job: FlinkJob) -> str | None:
    state = job.running_supervisor() if isinstance(job, MetricsJob) else None
    return state.describe() if state is not None else None


def _lag(settings: Settings, read: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    from kafka import TopicPartition

    consumer = clients.kafka_consumer(settings.kafka)
    try:
        ends = consumer.end_offsets([TopicPartition(t, p) for t, p in read])
        # `read` holds the offset of the last record read: the next to read is one on.
        return {(tp.topic, tp.partition): max(end - read[(tp.topic, tp.partition)] - 1, 0) for tp, end in ends.items()}
    finally:
        consumer.close()


def _running(job: FlinkJob) -> dict:  # type: ignore[type-arg]
    overview = job.overview()
    if overview is None or overview["state"] != "RUNNING":
        raise StackError("no metrics job is running (`footfall job start` starts one)")
    return overview


def savepoint(settings: Settings, stop: bool = False, timeout: float = 300) -> Path:
    """Take a savepoint of the running job (and stop it, with `stop`); its folder."""
    job = current(settings)
    jid = _running(job)["jid"]
    plan = plan_of(job.rest, jid) or "unknown"
    target = settings.job.savepoint_dir / f"plan-{plan}"
    target.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        # A savepoint needs every task running: not while a task is still being deployed
        # or restarted (Flink then refuses it); wait for that, and try again once.
        while not all(v["status"] == "RUNNING" for v in vertices(job.rest, jid)):
            if time.monotonic() > deadline:
                raise StackError(f"not every task of the job was running within {timeout:.0f} s: no savepoint")
            time.sleep(1)
        before = complete_savepoints(target)
        try:
            trigger = trigger_savepoint(job.rest, jid, target.as_uri(), stop)
            location = Path(await_savepoint(job.rest, jid, trigger, max(deadline - time.monotonic(), 1))
                            .removeprefix("file:"))
            break
        except SavepointError as err:
            if "not being executed" not in str(err) or time.monotonic() > deadline:
                raise StackError(f"Flink took no savepoint: {err}") from None
            time.sleep(2)
        except OSError as err:
            # The embedded job's process, and its REST API with it, ends as soon as the job
            # has stopped: the answer about the savepoint may be lost with it. What is on
            # disk decides, never the lost answer.
            if stop:
                await_end(job, time.monotonic() + timeout)
            written = sorted(complete_savepoints(target) - before)
            if not written:
                raise StackError(f"the job's REST API went away ({err}) and no complete savepoint was "
                                 f"written under {target}") from None
            location = written[-1]
            break
    if stop:
        await_end(job, time.monotonic() + timeout)
        job.finished()
    return location


def complete_savepoints(folder: Path) -> set[Path]:
    """The savepoint folders under `folder` that Flink completed (their _metadata is
    written last)."""
    return {metadata.parent for metadata in folder.glob("savepoint-*/_metadata")}


def await_end(job: FlinkJob, deadline: float) -> None:
    """Until a job told to stop has ended, or `deadline` (monotonic) has passed."""
    while not ended(job) and time.monotonic() < deadline:
        time.sleep(0.5)


#: The states a job stopped with a savepoint can be left in.
ENDED = ("FINISHED", "CANCELED", "FAILED")


def ended(job: FlinkJob) -> bool:
    """Whether a job told to stop has ended: a cluster reports it ended; the embedded job's
    process (and its REST API) ends with it. A REST call that fails meanwhile (a timeout on
    a busy machine) is no answer, not an end: taken for one, the stop would return while
    the job still runs (on a cluster, not yet FINISHED)."""
    state = job.state()
    if state in ENDED:
        return True
    return state is None and isinstance(job, MetricsJob) and job.pid() is None


def resolve(settings: Settings, source: str) -> Path | None:
    """What `start --from` restores: None for `topics`; for `latest`, the newest snapshot
    of this plan (None without one); otherwise a snapshot folder this plan can restore."""
    plan = plan_version()
    if source == "topics":
        return None
    if source == "latest":
        found = newest(settings, plan)
        return found.path if found else None
    path = Path(source).expanduser().resolve()
    if not (path / "_metadata").is_file():
        raise StackError(f"--from {source}: not a checkpoint or savepoint folder (no _metadata)")
    written_by = plan_of_path(path)
    if written_by is not None and written_by != plan:
        raise StackError(f"--from {source}: written by plan {written_by}, and this job is plan {plan}: its state "
                         "cannot be mapped to the changed SQL; `--from topics` replays the topics instead")
    return path


def start(settings: Settings, source: str = "latest") -> tuple[FlinkJob, Path | None]:
    job = current(settings)
    if job.state() == "RUNNING":
        raise StackError("the metrics job is already running (`footfall job status`)")
    restore = resolve(settings, source)
    job.start(restore_from=restore)
    return job, restore


@dataclass(frozen=True)
class Upgrade:
    savepoint: Path
    old_plan: str | None
    new_plan: str
    replayed: bool


def upgrade(settings: Settings, replay: bool = False) -> Upgrade:
    """Stop the running job with a savepoint and start the job as the files now are: from
    the savepoint when the plan is unchanged; from the topics, only with `replay`, when
    the SQL changed (the savepoint is kept either way)."""
    job = current(settings)
    old_plan = plan_of(job.rest, _running(job)["jid"])
    new_plan = plan_version()
    if old_plan != new_plan and not replay:
        raise StackError(f"the job's SQL changed (plan {old_plan} -> {new_plan}): the running job's state cannot be "
                         "mapped to the new plan. `footfall job upgrade --replay` stops it with a savepoint and "
                         "starts the new version from the topics (the stores' upserts make the replay safe)")
    location = savepoint(settings, stop=True)
    job.start(restore_from=None if old_plan != new_plan else location)
    return Upgrade(location, old_plan, new_plan, replayed=old_plan != new_plan)
