"""Timing a Flink job through its REST API: when it started reading, when its sources
reached the end of every partition, and when the last record passed its last operator."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from footfall.flink import job_health, newest_job, rest_get, source_offsets, vertices

#: After a nap, how long to give the REST API's background refresh that the first call
#: starts (a fetch of every metric; well under a second here).
REFRESH_WAIT_S = 0.75


class BenchError(RuntimeError):
    """A run that cannot be measured (a job that failed or never finished)."""


@dataclass(frozen=True)
class Timing:
    """Seconds on the monotonic clock."""

    submitted: float
    first_read: float
    done: float

    @property
    def startup_s(self) -> float:
        return self.first_read - self.submitted

    @property
    def seconds(self) -> float:
        return self.done - self.first_read


class JobWatch:
    """Samples one job: its sources' read positions and every vertex's record counters."""

    def __init__(self, rest: str, name: str) -> None:
        self.rest, self.name = rest, name
        self.jid: str | None = None
        self.offset_names: dict[str, list[str]] = {}

    def job(self) -> dict[str, Any] | None:
        try:
            return newest_job(self.rest, self.name)
        except (OSError, ValueError, KeyError):
            return None

    def vertices(self) -> list[dict[str, Any]]:
        assert self.jid is not None
        return vertices(self.rest, self.jid)

    def positions(self, vertex: dict[str, Any]) -> dict[tuple[str, int], int]:
        """(topic, partition) -> offset of the last record this source vertex read."""
        assert self.jid is not None
        return source_offsets(self.rest, self.jid, [vertex], self.offset_names)

    def time(self, last_offsets: dict[tuple[str, int], int], submitted: float, *, timeout_s: float,
             settle_s: float, interval_s: float = 0.25, max_nap_s: float = 8.0) -> Timing:
        """Wait until every source vertex has read its topic to `last_offsets` and no
        vertex's record counters have moved for `settle_s`; the run ends at the sample
        where they took their final values.

        Each REST call may make the job serialise every metric it has (thousands, more with
        each operator and subtask), and that work shares the job's cores: polled all along,
        the observer slowed the job it measured the more the bigger its plan. So it polls
        closely only at the two ends it times (the first record read, the last one passed
        on) and in between naps for part of the time the read rate says is left."""
        deadline = submitted + timeout_s
        first_read = None
        counters: tuple[Any, ...] = ()
        changed_at = submitted
        progress: list[tuple[float, int]] = []
        while time.monotonic() < deadline:
            time.sleep(interval_s)
            now = time.monotonic()
            job = self.job()
            if job is None:
                continue
            if job["state"] in ("FAILED", "CANCELED", "FINISHED"):
                raise BenchError(f"job {self.name} is {job['state']}: see its log")
            if job["state"] != "RUNNING":
                continue
            self.jid = job["jid"]
            try:
                vertices = self.vertices()
                reads = [self.positions(v) for v in vertices if v["name"].startswith("Source:")]
            except (OSError, ValueError, KeyError):
                continue
            self.forget_unseen(reads, last_offsets)
            if first_read is None and any(offset >= 0 for r in reads for offset in r.values()):
                first_read = now
            now_counters = tuple((v["metrics"]["read-records"], v["metrics"]["write-records"]) for v in vertices)
            if now_counters != counters:
                counters, changed_at = now_counters, now
            if first_read is None or not reads or not all(r and self.read_all(r, last_offsets) for r in reads):
                if first_read is not None and reads:
                    progress.append((now, self.left(reads, last_offsets)))
                    self.nap(progress, deadline, max_nap_s)
                continue
            if now - changed_at >= settle_s:
                return Timing(submitted, first_read, changed_at)
        raise BenchError(f"job {self.name} did not finish within {timeout_s:.0f} s")

    def nap(self, progress: list[tuple[float, int]], deadline: float, max_nap_s: float) -> None:
        """Sleep for `nap_seconds`, then ask once for fresh metrics: the REST API answers
        from its last refresh and refreshes in the background, so the next sample is of
        the moment it is taken, not of the moment before the nap."""
        nap_s = min(nap_seconds(progress, max_nap_s), deadline - time.monotonic())
        if nap_s < 1.0:
            return
        time.sleep(nap_s)
        try:
            self.vertices()
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(REFRESH_WAIT_S)

    def forget_unseen(self, reads: list[dict[tuple[str, int], int]], last_offsets: dict[tuple[str, int], int]) -> None:
        """Forget the sources' offset metric names when a partition is missing from `reads`:
        they are cached from the first call that found any, and a source registers each
        partition's metric when it is assigned the partition, so a name list made in
        between would leave that partition unread for ever (the run then never ended)."""
        seen = {key for read in reads for key in read}
        if not set(last_offsets) <= seen:
            self.offset_names.clear()

    @staticmethod
    def left(reads: list[dict[tuple[str, int], int]], last_offsets: dict[tuple[str, int], int]) -> int:
        """Records the sources have still to read, summed over their partitions."""
        read = {key: offset for r in reads for key, offset in r.items()}
        return sum(max(0, offset - read.get(key, -1)) for key, offset in last_offsets.items())

    def drained(self, timeout_s: float, interval_s: float = 1.1) -> None:
        """After `time`: wait for a checkpoint triggered after now to complete, then until
        the job's sinks hold no rows (their rowsWaiting gauge) and no vertex has sent or
        taken a record, on three reads each more than a metrics refresh apart.

        The values are read from the stores once the job is stopped. Mini-batch bundles
        behind a row-time batch assigner can hold the input's last rows with no counter
        moving until a watermark crosses the next batch or a checkpoint barrier flushes
        them (issue 20: about one run in six read a few of the last hour's first-sightings
        short, and one the closing record); the checkpoint flushes every bundle, and the
        sinks write on a timer."""
        deadline = time.monotonic() + timeout_s
        since_ms = int(time.time() * 1000)
        while self.last_checkpoint_triggered_ms() < since_ms:
            if time.monotonic() > deadline:
                raise BenchError(f"job {self.name} completed no checkpoint within {timeout_s:.0f} s")
            time.sleep(0.5)
        quiet, counters = 0, None
        while quiet < 3:
            if time.monotonic() > deadline:
                raise BenchError(f"job {self.name}'s sinks still held rows after {timeout_s:.0f} s")
            time.sleep(interval_s)
            try:
                now = tuple((v["metrics"]["read-records"], v["metrics"]["write-records"]) for v in self.vertices())
                empty = job_health(self.rest, self.jid or "").rows_waiting == 0
            except (OSError, ValueError, KeyError):
                quiet, counters = 0, None
                continue
            quiet = quiet + 1 if empty and now == counters else (1 if empty else 0)
            counters = now

    def last_checkpoint_triggered_ms(self) -> int:
        """When the newest completed checkpoint was triggered (epoch ms; 0 for none yet)."""
        try:
            latest = rest_get(self.rest, f"/jobs/{self.jid}/checkpoints").get("latest") or {}
        except (OSError, ValueError):
            return 0
        return int((latest.get("completed") or {}).get("trigger_timestamp") or 0)

    def wait_running(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.job()
            if job is not None and job["state"] == "RUNNING":
                return
            if job is not None and job["state"] in ("FAILED", "CANCELED", "FINISHED"):
                break
            time.sleep(0.5)
        raise BenchError(f"job {self.name} did not reach RUNNING within {timeout_s:.0f} s")

    @staticmethod
    def read_all(read: dict[tuple[str, int], int], last_offsets: dict[tuple[str, int], int]) -> bool:
        """Whether a source read every partition of its topic up to its last offset."""
        topics = {topic for topic, _ in read}
        return all(read.get(key, -1) >= offset for key, offset in last_offsets.items() if key[0] in topics)


def nap_seconds(progress: list[tuple[float, int]], max_nap_s: float) -> float:
    """How long the observer may look away: a third of the time the records left would
    take at the read rate of the last few samples ((monotonic time, records left) each),
    at most `max_nap_s`; 0 until the rate is known. A third, so that a run whose rate
    triples as the JIT warms up is still caught at its end."""
    if len(progress) < 2:
        return 0.0
    (t0, left0), (t1, left1) = progress[max(0, len(progress) - 4)], progress[-1]
    if t1 <= t0 or left0 <= left1:
        return 0.0
    remaining_s = left1 / ((left0 - left1) / (t1 - t0))
    return min(remaining_s / 3, max_nap_s)
