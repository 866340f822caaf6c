"""`footfall`: the project's command. Run `footfall --help`.

Every failure a user can cause (a bad setting, a port taken, a service down) ends in
one line on stderr naming what to change, and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

import clickhouse_driver.errors
import psycopg
import redis
from kafka.errors import KafkaError

from footfall.settings import ConfigError, Settings
from footfall.stack import bootstrap, manager
from footfall.stack.services import StackError

#: A service that answers with an error, or not at all, while a command runs.
SERVICE_ERRORS = (clickhouse_driver.errors.Error, psycopg.Error, redis.RedisError, KafkaError)


def _up(settings: Settings, args: argparse.Namespace) -> int:
    manager.up(settings)
    if not args.no_bootstrap:
        bootstrap.bootstrap(settings)
    return 0


def _down(settings: Settings, args: argparse.Namespace) -> int:
    if not manager.down(settings):
        print("nothing of the project's was running")
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

    _up(settings, argparse.Namespace(no_bootstrap=False))
    written = load_layout(default_layout(), settings.postgres)
    print(f"demo mall loaded into PostgreSQL: {written['shops']} shops, {written['probes']} probes")
    print(manager.format_rows(manager.status(settings)))
    print(
        "\nThe demo currently starts only the stack and loads the demo mall: the metrics job and the "
        "dashboards have not landed yet.\n`make simulate` streams simulated shoppers into Kafka; "
        "`make down` stops everything."
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="footfall", description="Real-time footfall analytics for shopping malls.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="start the local services that are not running, wait, create the schema")
    up.add_argument("--no-bootstrap", action="store_true", help="do not create the schema and topics")
    up.set_defaults(run=_up)
    commands.add_parser("down", help="stop the local services the project started").set_defaults(run=_down)
    commands.add_parser("status", help="each component with its state, address and version").set_defaults(
        run=_status
    )
    commands.add_parser("bootstrap", help="create missing tables and topics (idempotent)").set_defaults(
        run=_bootstrap
    )
    commands.add_parser("demo", help="run the product with its embedded defaults").set_defaults(run=_demo)
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
