"""CPU and memory of every component while a phase runs, sampled with psutil.

A component is a process with everything it started (PostgreSQL's backends, a Flink
job's JVM and its Python workers). CPU is in cores (1.0 = one core busy all the time),
averaged over the phase; memory is the largest resident set seen.
"""

from __future__ import annotations

import threading
import time

import psutil


class ResourceSampler(threading.Thread):
    """Samples {component: root pid} every `interval_s` until stopped."""

    def __init__(self, roots: dict[str, int], interval_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval_s = roots, interval_s
        self.stopping = threading.Event()
        self.cpu_seconds: dict[str, dict[int, float]] = {name: {} for name in roots}
        self.peak_rss: dict[str, int] = dict.fromkeys(roots, 0)
        self.start_cpu: dict[str, dict[int, float]] = {}
        self.began = self.ended = time.monotonic()

    @staticmethod
    def tree(pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self) -> None:
        for name, pid in self.roots.items():
            rss = 0
            for process in self.tree(pid):
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        # Per process, the latest total: a process that exits keeps what it used.
                        self.cpu_seconds[name][process.pid] = times.user + times.system
                        rss += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_rss[name] = max(self.peak_rss[name], rss)

    def run(self) -> None:
        self.began = time.monotonic()
        self.sample()
        self.start_cpu = {name: dict(per_pid) for name, per_pid in self.cpu_seconds.items()}
        while not self.stopping.wait(self.interval_s):
            self.sample()

    def stop(self) -> dict[str, dict[str, float]]:
        """Stop; per component, average cores used and peak memory in MiB."""
        self.stopping.set()
        self.join(10)
        self.sample()
        self.ended = time.monotonic()
        elapsed = max(self.ended - self.began, 1e-9)
        usage = {}
        for name, per_pid in self.cpu_seconds.items():
            before = self.start_cpu.get(name, {})
            used = sum(total - before.get(pid, 0.0) for pid, total in per_pid.items())
            usage[name] = {"cpu_cores": round(used / elapsed, 2), "rss_mib": round(self.peak_rss[name] / 2**20)}
        return usage
