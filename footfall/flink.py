"""Flink's REST API as the stack, the dashboards and the bench read it: the job's state,
its vertices, how far its Kafka sources have read, and its own health gauges. The same
calls serve the embedded mini-cluster and a standalone cluster (both answer on
FOOTFALL_JOB_REST_PORT)."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

#: The metrics job's name in Flink (`pipeline.name`), by which its runs are found.
JOB_NAME = "metrics"

#: A Kafka source's read position metric: the offset of the last record it read.
SOURCE_OFFSET_METRIC = re.compile(
    r"KafkaSourceReader\.topic\.(?P<topic>.+)\.partition\.(?P<partition>\d+)\.currentOffset$"
)


def rest_get(rest: str, path: str, timeout: float = 2) -> Any:
    """GET a Flink REST resource as JSON; OSError when it does not answer."""
    with urllib.request.urlopen(f"{rest}{path}", timeout=timeout) as response:
        return json.load(response)


def rest_patch(rest: str, path: str, timeout: float = 5) -> None:
    """PATCH a Flink REST resource (cancelling a job); OSError when it does not answer."""
    urllib.request.urlopen(urllib.request.Request(f"{rest}{path}", method="PATCH"), timeout=timeout).close()


def newest_job(rest: str, name: str = JOB_NAME) -> dict[str, Any] | None:
    """The newest run of the job called `name` in /jobs/overview (any state), or None."""
    mine = [j for j in rest_get(rest, "/jobs/overview")["jobs"] if j.get("name") == name]
    return max(mine, key=lambda j: j.get("start-time", 0)) if mine else None


def vertices(rest: str, jid: str) -> list[dict[str, Any]]:
    graph: list[dict[str, Any]] = rest_get(rest, f"/jobs/{jid}")["vertices"]
    return graph


def subtask_metrics(
    rest: str, jid: str, vertex: dict[str, Any], names: list[str] | None = None, agg: str = "max"
) -> list[dict[str, Any]]:
    """A vertex's subtask metrics: their names (without `names`), or those values aggregated."""
    base = f"/jobs/{jid}/vertices/{vertex['id']}/subtasks/metrics"
    query = "" if names is None else f"?get={urllib.parse.quote(','.join(names))}&agg={agg}"
    metrics: list[dict[str, Any]] = rest_get(rest, base + query)
    return metrics


def source_offsets(
    rest: str,
    jid: str,
    graph: list[dict[str, Any]],
    names: dict[str, list[str]] | None = None,
) -> dict[tuple[str, int], int]:
    """(topic, partition) -> offset of the last record the job's Kafka sources read (-1
    before the first), from their `currentOffset` metrics. `names` caches each source
    vertex's metric names between calls (they do not change while the job runs)."""
    names = {} if names is None else names
    read: dict[tuple[str, int], int] = {}
    for vertex in graph:
        if not vertex["name"].startswith("Source:"):
            continue
        if not names.get(vertex["id"]):
            names[vertex["id"]] = [
                m["id"] for m in subtask_metrics(rest, jid, vertex) if m["id"].endswith(".currentOffset")
            ]
        if not names[vertex["id"]]:
            continue
        for metric in subtask_metrics(rest, jid, vertex, names[vertex["id"]]):
            match = SOURCE_OFFSET_METRIC.search(metric["id"])
            if match:
                read[(match["topic"], int(match["partition"]))] = int(metric.get("max", -1))
    return read


@dataclass(frozen=True)
class JobHealth:
    """What the running job says about its dependencies (its own gauges, see
    jobs/metrics/sinks.py and udfs/java Layout.java) and about itself."""

    #: Times Flink restarted the job (from a checkpoint) since it was submitted.
    restarts: int
    #: Result rows held by the sinks, not yet written to their store.
    rows_waiting: int
    #: Dependency (clickhouse, redis, postgres) -> since when (epoch ms) the job has
    #: failed to reach it; only those failing now.
    failing: dict[str, int] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return bool(self.failing)

    def describe(self, now_ms: int | None = None) -> str:
        """One line, e.g. 'clickhouse unreachable since 10:42:07 UTC (95 s), 1,204 rows
        waiting, 0 restarts'."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        parts = [
            f"{name} unreachable since {time.strftime('%H:%M:%S', time.gmtime(since / 1000))} UTC "
            f"({max(now_ms - since, 0) / 1000:.0f} s)"
            for name, since in sorted(self.failing.items())
        ]
        parts.append(f"{self.rows_waiting:,} rows waiting")
        parts.append(f"{self.restarts} restart{'s' if self.restarts != 1 else ''}")
        return ", ".join(parts)


#: Metrics asked for in one REST request (their names make its request line).
METRICS_PER_REQUEST = 10
#: The gauges the job's own code registers: (metric name suffix, dependency it is about).
_FAILING_GAUGES = {
    "footfall_sink.clickhouseFailingSince": "clickhouse",
    "footfall_sink.redisFailingSince": "redis",
    "footfall_sink.postgresFailingSince": "postgres",
    "footfall_layout.failingSince": "postgres",
}


def job_health(rest: str, jid: str, graph: list[dict[str, Any]] | None = None) -> JobHealth:
    """Read the job's restarts and its sinks' and layout's gauges from Flink's REST API
    (metrics are as old as FOOTFALL_JOB_METRICS_INTERVAL_MS); `graph`, the job's vertices
    when the caller has read them already. Raises OSError when the API does not answer."""
    restarts = 0
    for metric in rest_get(rest, f"/jobs/{jid}/metrics?get=numRestarts"):
        restarts = int(float(metric.get("value", 0)))
    rows_waiting, failing = 0, dict[str, int]()
    for vertex in graph if graph is not None else vertices(rest, jid):
        if "sinks" not in vertex["name"] and "Correlate" not in vertex["name"]:
            continue
        # Only the gauges read here, a few at a time: a chained vertex names every metric
        # after each of its operators, and a request for all of them at once outgrows the
        # length Flink's REST server accepts for a request line (it then answers 404).
        wanted = (*_FAILING_GAUGES, "footfall_sink.rowsWaiting")
        names = [m["id"] for m in subtask_metrics(rest, jid, vertex) if m["id"].endswith(wanted)]
        found = [metric for first in range(0, len(names), METRICS_PER_REQUEST)
                 for metric in subtask_metrics(rest, jid, vertex, names[first:first + METRICS_PER_REQUEST],
                                               agg="max,sum")]
        for metric in found:
            name, since = metric["id"], int(metric.get("max", 0))
            if name.endswith("footfall_sink.rowsWaiting"):
                rows_waiting += int(metric.get("sum", 0))
            for suffix, dependency in _FAILING_GAUGES.items():
                if name.endswith(suffix) and since > 0:
                    failing[dependency] = max(failing.get(dependency, 0), since)
    return JobHealth(restarts, rows_waiting, failing)


def rest_post(rest: str, path: str, body: dict[str, Any], timeout: float = 10) -> Any:
    """POST JSON to a Flink REST resource; its JSON answer. OSError when it does not answer."""
    request = urllib.request.Request(f"{rest}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class SavepointError(RuntimeError):
    """A savepoint Flink could not take (its reason, from the REST API)."""


def trigger_savepoint(rest: str, jid: str, target: str, stop: bool = False) -> str:
    """Ask for a savepoint into `target` (a URI); with `stop`, the job stops once it is
    taken (stop-with-savepoint, no drain: event-time windows stay open in the state). The
    trigger id, for `await_savepoint`."""
    if stop:
        answer = rest_post(rest, f"/jobs/{jid}/stop", {"targetDirectory": target, "drain": False})
    else:
        answer = rest_post(rest, f"/jobs/{jid}/savepoints", {"target-directory": target, "cancel-job": False})
    return str(answer["request-id"])


def await_savepoint(rest: str, jid: str, trigger: str, timeout: float = 300) -> str:
    """Wait for a triggered savepoint; its location. SavepointError when it failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = rest_get(rest, f"/jobs/{jid}/savepoints/{trigger}")
        if status["status"]["id"] == "COMPLETED":
            operation = status.get("operation") or {}
            if "location" in operation:
                return str(operation["location"])
            cause = operation.get("failure-cause") or {}
            raise SavepointError(str(cause.get("stack-trace", cause)).strip().splitlines()[0])
        time.sleep(0.5)
    raise SavepointError(f"no savepoint within {timeout:.0f} s")


def plan_of(rest: str, jid: str) -> str | None:
    """The plan version a running job was started with (its `plan_version` job parameter)."""
    config = rest_get(rest, f"/jobs/{jid}/config")
    user = (config.get("execution-config") or {}).get("user-config") or {}
    version = user.get("plan_version")
    return str(version) if version else None
