"""`footfall`: the project's command. Run `footfall --help`.

Every failure a user can cause (a bad setting, a port taken, a service down) ends in
one line on stderr naming what to change, and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import date

import clickhouse_driver.errors
import psycopg
import redis
from kafka.errors import KafkaError

from footfall import expected
from footfall.settings import ConfigError, Settings
from ops import alerts, bootstrap, manager, pos, privacy, restate
from ops.cluster import ClusterMetricsJob
from ops.demo import (
    BackfillWatch,
    Demo,
    DemoPlan,
    dashboard_answers,
    dashboard_argv,
    demo_dashboard,
    follow,
)
from ops.job import MetricsJob
from ops.processes import port_in_use
from ops.services import Postgres, StackError

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
    cluster = ClusterMetricsJob(settings)
    if cluster.cluster.running():  # the job runs on a standalone cluster of ours
        done = cluster.recover()
        for line in done or ["running"]:
            print(f"{'metrics job':<11} on the Flink cluster: {line}")
        return
    job = MetricsJob(settings)
    if job.pid() is not None:
        print(f"{'metrics job':<11} already running (pid {job.pid()})")
        return
    orphan = job.orphan()
    if orphan is not None:
        # Its supervisor was killed and it was left to run unsupervised: stopped and started
        # again under a supervisor, from its newest checkpoint (nothing lost: the sinks'
        # writes are idempotent and the feed is at least once).
        print(f"{'metrics job':<11} found running without its supervisor (pid {orphan}): stopping it")
        job.stop_orphan(orphan)
    # A broker started just now is empty (Tansu keeps topics in memory): the offsets in an
    # old checkpoint would point past its end, so the job then starts afresh.
    pid = job.start(resume=resume)
    print(f"{'metrics job':<11} running (supervisor pid {pid}, log {job.log}, Flink REST {job.rest})")


def _down(settings: Settings, args: argparse.Namespace) -> int:
    for name, process in (("dashboard", demo_dashboard(settings)), ("simulator", Demo(settings).simulator())):
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


def _clean(settings: Settings, args: argparse.Namespace) -> int:
    """Stop everything, then delete what the local stack keeps on disk: its var folder and
    PostgreSQL's data folder when that lives outside it."""
    _down(settings, args)
    outside = Postgres(settings.stack.var_dir, settings.postgres).remove_outside()
    if outside is not None:
        print(f"{'postgres':<11} data deleted ({outside})")
    shutil.rmtree(settings.stack.var_dir, ignore_errors=True)
    print(f"{'var':<11} deleted ({settings.stack.var_dir})")
    return 0


def _cluster(settings: Settings, args: argparse.Namespace) -> int:
    if args.parallelism is not None:  # the job reads it from its environment, as every setting
        os.environ["FOOTFALL_JOB_PARALLELISM"] = str(args.parallelism)
        settings = Settings()
    job = ClusterMetricsJob(settings, args.taskmanagers)
    if args.action == "stop":
        was_running = job.cluster.running()
        job.stop()
        print(f"{'flink':<11} {'cluster stopped' if was_running else 'no cluster of ours was running'}")
        return 0
    if MetricsJob(settings).pid() is not None:
        raise StackError("the embedded metrics job is running (`footfall down` stops it): run one or the other")
    job.start(resume=args.resume)
    print(
        f"{'metrics job':<11} running on a standalone Flink cluster of {args.taskmanagers} task manager(s), "
        f"parallelism {settings.job.parallelism} (Flink REST {job.rest}, logs {job.cluster.home / 'log'})"
    )
    return 0


def _job(settings: Settings, args: argparse.Namespace) -> int:
    from ops import lifecycle

    if args.action == "status":
        found = lifecycle.status(settings)
        if found is None:
            print("no metrics job answers (`footfall job start` starts one)")
            return 1
        print("\n".join(found.lines()))
        return 0
    if args.action == "list":
        kept = lifecycle.snapshots(settings)
        print("\n".join(s.line() for s in kept) if kept else "no checkpoint or savepoint kept")
        return 0
    if args.action == "savepoint":
        print(f"savepoint   {lifecycle.savepoint(settings)}")
        return 0
    if args.action == "stop":
        if args.savepoint:
            print(f"stopped with savepoint {lifecycle.savepoint(settings, stop=True)}")
        else:
            lifecycle.current(settings).stop()
            print("metrics job stopped (its checkpoints are kept)")
        return 0
    if args.action == "start":
        job, restored = lifecycle.start(settings, args.source)
        print(f"{'metrics job':<11} running (Flink REST {job.rest}), "
              + (f"restored from {restored}" if restored else "reading the topics from the start"))
        return 0
    done = lifecycle.upgrade(settings, replay=args.replay)
    how = ("from the topics (the plan changed)" if done.replayed else "from it")
    print(f"upgraded plan {done.old_plan} -> {done.new_plan}: stopped with savepoint {done.savepoint}, started {how}")
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    rows = manager.status(settings)
    print(manager.format_rows(rows))
    return 0 if all(row.healthy for row in rows) else 1


def _bootstrap(settings: Settings, args: argparse.Namespace) -> int:
    bootstrap.bootstrap(settings)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from footfall import clients
    from simulators.dimensions import load_layout
    from simulators.layout import default_layout

    demo = Demo(settings)
    asked = DemoPlan(args.malls, args.days, args.visitors_per_day)
    plan = demo.saved_plan()
    if plan is None:
        plan = asked
        demo.save_plan(plan)
    elif plan != asked and args.explicit:
        raise StackError(
            f"a demo of {plan.malls} malls and {plan.days} days of history is already here "
            f"({demo.home}): `footfall reset` removes it first"
        )
    started = manager.up(settings)
    bootstrap.bootstrap(settings)
    # The layout goes in before the job starts, so its first lookups find the probes.
    written = load_layout(default_layout(plan.malls), settings.postgres)
    print(
        f"demo malls loaded into PostgreSQL: {plan.malls} malls, {written['shops']} shops, {written['probes']} probes"
    )
    if "kafka" in started and demo.state() is not None:
        print(
            f"{'note':<11} the broker started empty: the job starts afresh, so devices seen before count as "
            "new once more (`footfall reset` starts the whole demo again)"
        )
    _start_job(settings, resume="kafka" not in started)
    simulator = demo.simulator(plan)
    if simulator.pid() is None:
        resumed = demo.state()
        pid = simulator.start().pid
        what = (
            f"resuming from {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(resumed['simulated_until']))}"
            if resumed
            else f"{plan.days} days of history, then live"
        )
        print(f"{'simulator':<11} streaming shoppers: {what} (pid {pid}, log {simulator.log})")
    else:
        print(f"{'simulator':<11} already running (pid {simulator.pid()})")
    _start_dashboard(settings)
    if not args.no_wait:
        began = time.monotonic()
        redis = clients.redis_client(settings.redis)
        try:
            reading = follow(BackfillWatch(demo, plan, redis))
        finally:
            redis.close()
        if reading is not None and reading.caught_up:
            print(f"the job has reached now: {time.monotonic() - began:,.0f} s in this command")
    print(manager.format_rows(manager.status(settings)))
    print(
        f"\nThe dashboards: http://127.0.0.1:{settings.dashboard.port} (portfolio, overview, live map, shops, "
        "customers, system). Live numbers: `redis-cli hgetall ff:mall-001:today`, and in ClickHouse "
        "`SELECT * FROM footfall.mall_daily FINAL`. `make down` stops everything, `make reset` empties it."
    )
    return 0


def _start_dashboard(settings: Settings) -> None:
    dashboard = demo_dashboard(settings)
    if dashboard.pid() is not None:
        print(f"{'dashboard':<11} already running (pid {dashboard.pid()})")
    elif dashboard_answers(settings.dashboard.port):
        print(f"{'dashboard':<11} already answers on http://127.0.0.1:{settings.dashboard.port} (started elsewhere)")
    else:
        _check_dashboard_port(settings)
        pid = dashboard.start().pid
        print(f"{'dashboard':<11} http://127.0.0.1:{settings.dashboard.port} (pid {pid}, log {dashboard.log})")


def _reset(settings: Settings, args: argparse.Namespace) -> int:
    from ops.reset import reset

    if not args.yes:
        if not sys.stdin.isatty():
            raise StackError("reset removes every stored row, key, message and checkpoint: confirm with --yes")
        answer = input("Remove everything Footfall stored (ClickHouse, Redis, Kafka, PostgreSQL, checkpoints)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    for name, process in (("simulator", Demo(settings).simulator()), ("metrics job", MetricsJob(settings))):
        pid = process.pid()
        if pid is not None and process.stop():
            print(f"{name:<11} stopped (pid {pid})")
    manager.up(settings, report=lambda line: None)
    reset(settings)
    print("reset done: `footfall demo` starts the demo from nothing, `footfall up` the job on empty topics")
    return 0


def _check_dashboard_port(settings: Settings) -> None:
    if port_in_use("127.0.0.1", settings.dashboard.port):
        raise StackError(
            f"port {settings.dashboard.port} (dashboard) is already taken by another process: "
            "stop it or set FOOTFALL_DASHBOARD_PORT to a free port"
        )


def _staff(settings: Settings, args: argparse.Namespace) -> int:
    from footfall import staff

    if args.action == "list":
        rows = staff.staff_list(settings.postgres, args.mall)
        for row in rows:
            print(staff.describe(row))
        print(f"{len(rows)} device{'s' if len(rows) != 1 else ''}")
        return 0
    if not args.mall or not args.device:
        raise ValueError(f"staff {args.action}: give --mall and --device")
    if args.action == "clear":
        found = staff.clear_override(settings.postgres, args.mall, args.device)
        print("override removed" if found else "no override for that device")
        return 0
    if args.as_what is None:
        raise ValueError("staff set: give --as staff or --as visitor")
    if args.since is not None and args.as_what == "visitor":
        raise ValueError("staff set: --since is for --as staff")
    staff.set_override(settings.postgres, staff.Override(
        args.mall, args.device, args.as_what == "staff", args.since, args.note))
    print(f"{args.device} of {args.mall}: {args.as_what}; the job applies it at its next layout reload "
          f"(within {settings.job.lookup_cache_seconds} s)")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """The dashboards in the foreground (Ctrl-C stops)."""
    _check_dashboard_port(settings)
    print(f"dashboard on http://127.0.0.1:{settings.dashboard.port} (Ctrl-C stops)", flush=True)
    return subprocess.call(dashboard_argv(settings))


def _expected(settings: Settings, args: argparse.Namespace) -> int:
    written = expected.refresh(settings)
    print(f"expected footfall refreshed: {written:,} mall and shop hours for today and the "
          f"{settings.expected.days_ahead} days after it")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="footfall", description="Real-time footfall analytics for shopping malls.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="start the local services that are not running, wait, create the schema")
    up.add_argument("--no-bootstrap", action="store_true", help="do not create the schema and topics")
    up.add_argument("--no-job", action="store_true", help="do not start the metrics job")
    up.set_defaults(run=_up)
    commands.add_parser("down", help="stop the local services the project started").set_defaults(run=_down)
    commands.add_parser(
        "clean", help="stop everything and delete the local stack's data (FOOTFALL_VAR_DIR, PostgreSQL's data)"
    ).set_defaults(run=_clean)
    commands.add_parser("status", help="each component with its state, address and version").set_defaults(run=_status)
    commands.add_parser("bootstrap", help="create missing tables and topics (idempotent)").set_defaults(run=_bootstrap)
    demo = commands.add_parser("demo", help="run the product with its embedded defaults: history, then live")
    demo.add_argument("--malls", type=int, default=DemoPlan.malls, help=f"built-in malls (default {DemoPlan.malls})")
    demo.add_argument(
        "--days", type=int, default=DemoPlan.days, help=f"days of history before today (default {DemoPlan.days})"
    )
    demo.add_argument(
        "--visitors-per-day",
        type=int,
        default=DemoPlan.visitors_per_day,
        help=f"weekday visitors of the largest mall (default {DemoPlan.visitors_per_day})",
    )
    demo.add_argument("--no-wait", action="store_true", help="do not follow the history until it reaches now")
    demo.set_defaults(run=_demo)
    reset = commands.add_parser("reset", help="remove everything the product stored, in every store and topic")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(run=_reset)
    commands.add_parser("dashboard", help="the Streamlit dashboards, in the foreground").set_defaults(run=_dashboard)
    cluster = commands.add_parser(
        "cluster", help="run the metrics job on a local standalone Flink cluster (flink run -py) instead"
    )
    cluster.add_argument("action", choices=("start", "stop"), help="start the cluster and submit the job, or stop both")
    cluster.add_argument("--resume", action="store_true", help="resume from the newest checkpoint")
    cluster.add_argument("--taskmanagers", type=int, default=1, metavar="N",
                         help="task managers to start (each its own JVM; default 1)")
    cluster.add_argument("--parallelism", type=int, metavar="P",
                         help="the job's parallelism (sets FOOTFALL_JOB_PARALLELISM, default 1); each input topic "
                              "needs at least P partitions, which with the sinks' keys spread the work over the slots")
    cluster.set_defaults(run=_cluster)
    job = commands.add_parser("job", help="the metrics job's lifecycle: status, savepoints, stop, start, upgrade")
    job.add_argument("action", choices=("status", "list", "savepoint", "stop", "start", "upgrade"),
                     help="status; list the checkpoints and savepoints kept; take a savepoint; stop "
                          "(--savepoint: with one); start (--from); upgrade to the job as the files now are")
    job.add_argument("--savepoint", action="store_true", help="stop: take a savepoint and stop")
    job.add_argument("--from", dest="source", default="latest", metavar="latest|topics|PATH",
                     help="start: the newest checkpoint or savepoint of this plan (default), the topics "
                          "(no state), or a checkpoint or savepoint folder")
    job.add_argument("--replay", action="store_true",
                     help="upgrade: when the SQL changed, start the new version from the topics")
    job.set_defaults(run=_job)
    staff = commands.add_parser("staff", help="staff and fixed devices: list them, or override a classification")
    staff.add_argument("action", choices=("list", "set", "clear"),
                       help="list the detected and overridden devices; set an override; clear one")
    staff.add_argument("--mall", help="a mall id (list: only this mall)")
    staff.add_argument("--device", help="a device id (as the outputs show it)")
    staff.add_argument("--as", dest="as_what", choices=("staff", "visitor"), help="set: what the device is")
    staff.add_argument("--since", type=_day, metavar="YYYY-MM-DD",
                       help="set --as staff: from this local day on (default: every day)")
    staff.add_argument("--note", default="", help="set: why, for the list")
    staff.set_defaults(run=_staff)
    privacy.add_parser(commands)
    alerts.add_parser(commands)
    pos.add_parser(commands)
    restate.add_parser(commands)
    expectation = commands.add_parser(
        "expected", help="expected footfall: work out every mall's expected visitors per hour again now")
    expectation.add_argument("action", choices=("refresh",), help="work out today and the next days again")
    expectation.set_defaults(run=_expected)
    # Listed for --help only: main() hands everything after `simulate` to the simulator.
    commands.add_parser("simulate", help="the mall simulator (same as python -m simulators)", add_help=False)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:  # everything after it, --help included, is the simulator's
        from simulators.cli import main as simulators_main

        return simulators_main(argv[1:])
    args = parser().parse_args(argv)
    # Whether the demo's plan was asked for, or is just the defaults.
    args.explicit = any(a.startswith(("--malls", "--days", "--visitors-per-day")) for a in argv)
    # Client libraries log every refused connection with a traceback; while we poll a
    # starting service those are expected, and real failures are reported by us in one line.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    for noisy in ("clickhouse_driver", "kafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return int(args.run(Settings(), args))
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
