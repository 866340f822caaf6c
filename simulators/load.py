"""Load mode: pre-fill the topics as fast as the broker accepts, from several processes.

Each process simulates its own share of the shoppers (`worker`/`workers` in the config),
so together they produce one consistent simulation: door counts add up across processes
and event ids never collide.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from footfall.settings import KafkaSettings
from simulators.layout import Layout
from simulators.publish import KafkaSink, Outcome, Progress, publish
from simulators.source import Simulation, SimulationConfig
from simulators.truth import TruthFile


@dataclass(frozen=True)
class LoadPlan:
    events: int
    processes: int
    truth: Path | None = None

    def __post_init__(self) -> None:
        if self.events < 1:
            raise ValueError(f"--events must be at least 1, got {self.events}")
        if not 1 <= self.processes <= 64:
            raise ValueError(f"--processes must be between 1 and 64, got {self.processes}")

    def share(self, worker: int) -> int:
        base, extra = divmod(self.events, self.processes)
        return base + (1 if worker < extra else 0)


class _SharedCount(Progress):
    """Adds a worker's progress to the parent's counter in steps, not per record."""

    STEP = 5000

    def __init__(self, counter) -> None:  # type: ignore[no-untyped-def]
        super().__init__(every=float("inf"))
        self.counter = counter

    def tick(self, record, n: int = 1) -> None:  # type: ignore[no-untyped-def]
        self.count += n
        if self.count % self.STEP == 0:
            self._add(self.STEP)

    def finish(self) -> None:
        self._add(self.count % self.STEP)

    def _add(self, n: int) -> None:
        with self.counter.get_lock():
            self.counter.value += n


def _worker(layout: Layout, config: SimulationConfig, kafka: KafkaSettings, plan: LoadPlan, counter) -> None:  # type: ignore[no-untyped-def]
    truth = None
    if plan.truth is not None:
        truth = TruthFile(plan.truth.with_suffix(f".w{config.worker}.jsonl"), config.behaviour.rotation_minutes * 60)
    progress = _SharedCount(counter)
    publish(
        Simulation(layout, config, truth).records(),
        KafkaSink(kafka),
        max_events=plan.share(config.worker),
        progress=progress,
    )
    progress.finish()


def run_load(layout: Layout, config: SimulationConfig, kafka: KafkaSettings, plan: LoadPlan) -> Outcome:
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    started = time.monotonic()
    workers = [
        ctx.Process(
            target=_worker,
            args=(layout, dataclasses.replace(config, worker=w, workers=plan.processes), kafka, plan, counter),
            name=f"load-{w}",
        )
        for w in range(plan.processes)
    ]
    for process in workers:
        process.start()
    progress = Progress(total=plan.events, every=5.0)
    try:
        while any(p.is_alive() for p in workers):
            time.sleep(0.5)
            progress.count = counter.value
            progress.tick(None, n=0)
    except KeyboardInterrupt:
        for process in workers:
            process.terminate()
        raise
    for process in workers:
        process.join()
    failed = [p.name for p in workers if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"load worker(s) {', '.join(failed)} failed; see the messages above")
    seconds = time.monotonic() - started
    sys.stderr.write(progress.line() + "\n")
    return Outcome(counter.value, seconds)
