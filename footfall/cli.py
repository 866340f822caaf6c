"""`footfall`: the project's command. Run `footfall --help`.

Every failure a user can cause (a bad setting, a port taken, a service down) ends in
one line on stderr naming what to change, and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys

import clickhouse_driver.errors
import psycopg
import redis
from kafka.errors import KafkaError

from footfall.settings import ConfigError, Settings
from footfall.stack import bootstrap, manager
from footfall.stack.cluster import ClusterMetricsJob
from footfall.stack.job import (
    MetricsJob,
    dashboard_argv,
    demo_dashboard,
    demo_simulator,
)
from footfall.stack.processes import port_in_use
from footfall.stack.services import StackError

#: A service that answers with an error, or not at all, while a command runs.
SERVICE_ERRORS = (clickhouse_driver.errors.Error, psycopg.Error, redis.RedisError, KafkaError)


def _up(settings: Settings, args: argparse.Namespace) -> int:
    started = manager.up(settings)
    if not args.no_bootstrap:
        bootstrap.bootstrap(settings)
    if not args.no_job:
        _start_job(settings, resume="kafka" not in started)
    return 0


def _start_job(settings: Settings, resume: bool) -> None:
    job = MetricsJob(settings)
    if job.pid() is not None:
        print(f"{'metrics job':<11} already running (pid {job.pid()})")
        return
    # A broker started just now is empty (Tansu keeps topics in memory): the offsets in an
    # old checkpoint would point past its end, so the job then starts afresh.
    pid = job.start(resume=resume)
    print(f"{'metrics job':<11} running (pid {pid}, log {job.log}, Flink REST {job.rest})")


def _down(settings: Settings, args: argparse.Namespace) -> int:
    for name, process in (("dashboard", demo_dashboard(settings)), ("simulator", demo_simulator(settings))):
        process_pid = process.pid()
        if process_pid is not None and process.stop():
            print(f"{name:<11} stopped (pid {process_pid})")
    job = MetricsJob(settings)
    pid = job.pid()
    if pid is not None and job.stop():
        print(f"{'metrics job':<11} stopped (pid {pid})")
    cluster = ClusterMetricsJob(settings)
    on_cluster = cluster.cluster.running()
    if on_cluster:
        cluster.stop()
        print(f"{'flink':<11} cluster stopped")
    if not manager.down(settings) and pid is None and not on_cluster:
        print("nothing of the project's was running")
    return 0


def _cluster(settings: Settings, args: argparse.Namespace) -> int:
    job = ClusterMetricsJob(settings)
    if args.action == "stop":
        was_running = job.cluster.running()
        job.stop()
        print(f"{'flink':<11} {'cluster stopped' if was_running else 'no cluster of ours was running'}")
        return 0
    if MetricsJob(settings).pid() is not None:
        raise StackError("the embedded metrics job is running (`footfall down` stops it): run one or the other")
    job.start(resume=args.resume)
    print(f"{'metrics job':<11} running on a standalone Flink cluster (Flink REST {job.rest}, logs {job.cluster.home / 'log'})")
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    rows = manager.status(settings)
    print(manager.format_rows(rows))
    return 0 if all(row.healthy for row in rows) else 1


def _bootstrap(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap.bootstrap(settings)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from simulators.dimensions import load_layout
    from simulators.layout import default_layout

    # The layout goes in before the job starts, so its first lookups find the probes.
    _up(settings, argparse.Namespace(no_bootstrap=False, no_job=True))
    written = load_layout(default_layout(), settings.postgres)
    print(f"demo mall loaded into PostgreSQL: {written['shops']} shops, {written['probes']} probes")
    _start_job(settings, resume=False)
    simulator = demo_simulator(settings)
    if simulator.pid() is None:
        pid = simulator.start().pid
        print(f"{'simulator':<11} streaming shoppers (pid {pid}, log {simulator.log})")
    dashboard = demo_dashboard(settings)
    if dashboard.pid() is None:
        _check_dashboard_port(settings)
        pid = dashboard.start().pid
        print(f"{'dashboard':<11} http://127.0.0.1:{settings.dashboard.port} (pid {pid}, log {dashboard.log})")
    print(manager.format_rows(manager.status(settings)))
    print(
        f"\nThe dashboards: http://127.0.0.1:{settings.dashboard.port} (overview, live map, shops, customers, "
        "system). Live numbers: "
        "`redis-cli hgetall ff:mall-001:today`, and in ClickHouse `SELECT * FROM footfall.mall_daily FINAL`. "
        "`make down` stops everything."
    )
    return 0


def _check_dashboard_port(settings: Settings) -> None:
    if port_in_use("127.0.0.1", settings.dashboard.port):
        raise StackError(f"port {settings.dashboard.port} (dashboard) is already taken by another process: "
                         "stop it or set FOOTFALL_DASHBOARD_PORT to a free port")


def _dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """The dashboards in the foreground (Ctrl-C stops)."""
    _check_dashboard_port(settings)
    print(f"dashboard on http://127.0.0.1:{settings.dashboard.port} (Ctrl-C stops)", flush=True)
    return subprocess.call(dashboard_argv(settings))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="footfall", description="Real-time footfall analytics for shopping malls.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="start the local services that are not running, wait, create the schema")
    up.add_argument("--no-bootstrap", action="store_true", help="do not create the schema and topics")
    up.add_argument("--no-job", action="store_true", help="do not start the metrics job")
    up.set_defaults(run=_up)
    commands.add_parser("down", help="stop the local services the project started").set_defaults(run=_down)
    commands.add_parser("status", help="each component with its state, address and version").set_defaults(
        run=_status
    )
    commands.add_parser("bootstrap", help="create missing tables and topics (idempotent)").set_defaults(
        run=_bootstrap
    )
    commands.add_parser("demo", help="run the product with its embedded defaults").set_defaults(run=_demo)
    commands.add_parser("dashboard", help="the Streamlit dashboards, in the foreground").set_defaults(run=_dashboard)
    cluster = commands.add_parser(
        "cluster", help="run the metrics job on a local standalone Flink cluster (flink run -py) instead"
    )
    cluster.add_argument("action", choices=("start", "stop"), help="start the cluster and submit the job, or stop both")
    cluster.add_argument("--resume", action="store_true", help="resume from the newest checkpoint")
    cluster.set_defaults(run=_cluster)
    # Listed for --help only: main() hands everything after `simulate` to the simulator.
    commands.add_parser("simulate", help="the mall simulator (same as python -m simulators)", add_help=False)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:  # everything after it, --help included, is the simulator's
        from simulators.cli import main as simulators_main

        return simulators_main(argv[1:])
    args = parser().parse_args(argv)
    # Client libraries log every refused connection with a traceback; while we poll a
    # starting service those are expected, and real failures are reported by us in one line.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    for noisy in ("clickhouse_driver", "kafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return args.run(Settings(), args)
    except (ConfigError, StackError, ValueError, OSError) as err:
        print(f"footfall: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1
    except SERVICE_ERRORS as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        hint = "; `make up` starts the local stack, `make status` shows what answers"
        print(f"footfall: error: {type(err).__name__}: {first_line}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
