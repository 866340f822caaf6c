"""The bench measures on a quiet machine: the stack's own metrics job (embedded or on
its standalone cluster) and the demo's simulator would share its two cores with every
job it times, and their figures would be theirs as much as the bench's."""

from __future__ import annotations

import sys

from footfall.settings import ConfigError, Settings
from ops.cluster import ClusterMetricsJob
from ops.demo import Demo
from ops.job import MetricsJob


def busy(settings: Settings) -> list[str]:
    """Which of the stack's own processes run: the metrics job, its cluster, the demo's simulator."""
    found = []
    if (pid := MetricsJob(settings).pid()) is not None:
        found.append(f"the metrics job (pid {pid})")
    if ClusterMetricsJob(settings).cluster.running():
        found.append("the standalone Flink cluster")
    if (pid := Demo(settings).simulator().pid()) is not None:
        found.append(f"the demo's simulator (pid {pid})")
    return found


def settings_on_a_quiet_machine() -> Settings | None:
    """The bench's settings, or None after a one-line error on stderr: a bad setting, or a
    machine that is not quiet (what a bench's command exits 2 for)."""
    try:
        settings = Settings()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
    if (problem := refusal(settings)) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return None
    return settings


def refusal(settings: Settings) -> str | None:
    """The one-line error when the machine is not quiet, or None."""
    found = busy(settings)
    if not found:
        return None
    them = "it" if len(found) == 1 else "them"
    return (f"{' and '.join(found)} would share the CPU with every run measured: stop {them} first "
            "(`footfall down`, then `footfall up --no-job`)")
