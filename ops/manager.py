"""Start, stop and report on the local stack.

`up` starts only what is not already running (ours, by pid file), refuses a port that
something else holds, starts the rest in parallel and waits until each answers.
`down` stops only the processes `up` started. Services not listed in
FOOTFALL_LOCAL_SERVICES are someone else's: `up` only checks they answer.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version

from footfall import jars as footfall_jars
from footfall.settings import FlinkSettings, Settings
from ops import jars
from ops.processes import port_in_use, spawn, stop
from ops.services import Service, StackError, all_services

Report = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    component: str
    state: str  # running | degraded | restarting | external | starting | stopped | unreachable | embedded
    address: str
    version: str

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "external", "embedded")


def _try_probe(service: Service) -> str | None:
    try:
        return service.probe()
    except Exception:  # noqa: BLE001 - any failure means "not answering yet"
        return None


def _local(settings: Settings) -> list[Service]:
    return [s for s in all_services(settings) if s.name in settings.stack.local_services]


def _external(settings: Settings) -> list[Service]:
    return [s for s in all_services(settings) if s.name not in settings.stack.local_services]


def _check_ports(services: list[Service]) -> None:
    for service in services:
        for spec in service.ports():
            if port_in_use(spec.host, spec.port):
                raise StackError(
                    f"port {spec.port} ({service.name}) is already taken by another process: "
                    f"stop it or set {spec.variable} to a free port"
                )


def up(settings: Settings, report: Report = print) -> list[str]:
    """Start what is not running and wait until every service answers. Returns what it started."""
    local = _local(settings)
    to_start = [s for s in local if not s.pidfile.read()]
    _check_ports(to_start)
    for service in local:
        if service not in to_start:
            report(f"{service.name:<11} already running (pid {service.pidfile.read()})")
    processes = {}
    for service in to_start:
        service.prepare()
        process = spawn(service.argv(), service.log, cwd=service.home, user=service.run_as)
        service.pidfile.write(process.pid)
        processes[service.name] = process
        report(f"{service.name:<11} starting (pid {process.pid}, log {service.log})")
    deadline = time.monotonic() + settings.stack.start_timeout
    for service in [*to_start, *(s for s in local if s not in to_start), *_external(settings)]:
        _wait(service, processes.get(service.name), deadline)
    for service in to_start:
        service.started()
    return [s.name for s in to_start]


def _wait(service: Service, process: subprocess.Popen[bytes] | None, deadline: float) -> None:
    while True:
        found = _try_probe(service)
        if found is not None:
            return
        if process is not None and process.poll() is not None:
            service.pidfile.remove()
            raise StackError(f"{service.name} exited during start-up (code {process.returncode}): see {service.log}")
        if time.monotonic() > deadline:
            where = f"see {service.log}" if process is not None else "check the address in the settings"
            raise StackError(f"{service.name} at {service.address} did not answer in time: {where}")
        time.sleep(0.25)


def down(settings: Settings, report: Report = print, only: list[str] | None = None) -> list[str]:
    """Stop the processes `up` started (every service with a live pid file, or those named)."""
    stopped = []
    for service in reversed(all_services(settings)):
        if only is not None and service.name not in only:
            continue
        pid = service.pidfile.read()
        if pid is None:
            service.pidfile.remove()
            continue
        ok = stop(pid, service.stop_signal, timeout=30)
        report(f"{service.name:<11} {'stopped' if ok else 'did NOT stop'} (pid {pid})")
        if ok:
            service.pidfile.remove()
            stopped.append(service.name)
    return stopped


def status(settings: Settings) -> list[Row]:
    rows = []
    for service in all_services(settings):
        pid = service.pidfile.read()
        found = _try_probe(service)
        if pid and found:
            state = "running"
        elif pid:
            state = "starting"
        elif found:
            state = "external"
        else:
            state = "stopped" if service.name in settings.stack.local_services else "unreachable"
        suffix = f" (pid {pid})" if pid else ""
        rows.append(Row(service.name, state, service.address, (found or "-") + suffix))
    rows.append(_flink_row(settings.flink))
    rows.append(_job_row(settings))
    return rows


def _job_row(settings: Settings) -> Row:
    from ops.job import MetricsJob

    job = MetricsJob(settings)
    pid, overview = job.pid(), job.overview()
    state = overview["state"] if overview else None
    health = job.health(overview) if state == "RUNNING" else None
    if pid and state == "RUNNING":
        row_state = "degraded" if health is not None and health.degraded else "running"
    elif pid:
        row_state = "starting"
    elif (orphan := job.orphan()) is not None:
        row_state, pid = "unsupervised", orphan
    else:
        row_state = "stopped"
    detail = f"Flink job {state or '-'}" + (f" (pid {pid})" if pid else "")
    if row_state == "unsupervised":
        detail += ": its supervisor is gone; `footfall up` stops it and starts it again under one"
    if health is not None:
        detail += f": {health.describe()}"
    supervisor = job.running_supervisor()
    if supervisor is not None:
        detail += f"; {supervisor.describe()}"
        if supervisor.state == "restarting":
            row_state = "restarting"
    return Row("metrics", row_state, job.rest, detail)


def _flink_row(settings: FlinkSettings) -> Row:
    present = jars.present(settings.jars_dir)
    functions = (settings.jars_dir / footfall_jars.FUNCTIONS_JAR).is_file()
    state = "embedded" if len(present) == len(footfall_jars.JARS) and functions else "incomplete"
    return Row(
        "flink",
        state,
        "in-process mini-cluster",
        f"apache-flink {package_version('apache-flink')}, connector jars {len(present)}/{len(footfall_jars.JARS)}, "
        f"java functions {'built' if functions else 'missing (make setup)'}",
    )


def format_rows(rows: list[Row]) -> str:
    header = Row("component", "state", "address", "version")
    widths = [max(len(getattr(r, f)) for r in [header, *rows]) for f in ("component", "state", "address")]
    return "\n".join(
        f"{r.component:<{widths[0]}}  {r.state:<{widths[1]}}  {r.address:<{widths[2]}}  {r.version}"
        for r in [header, *rows]
    )
