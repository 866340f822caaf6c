"""`python -m simulators` (also `footfall simulate`): drive demo, test and load traffic.

    run     real time, or sped up with --speedup; bounded by --duration / --max-events
    load    pre-fill the topics as fast as the broker accepts, from several processes
    layout  export the default layout to JSON, or load a layout into PostgreSQL

A bad argument gets one line naming it, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from kafka.errors import KafkaError

from footfall.settings import ConfigError, KafkaSettings, PostgresSettings, load
from simulators.faults import Faults
from simulators.layout import DENSITIES, Layout, LayoutError, default_layout
from simulators.publish import FileSink, KafkaSink, Pacer, Progress, load_state, publish
from simulators.radio import RadioModel
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig
from simulators.truth import TruthFile

T = TypeVar("T")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """'90', '90s', '15m', '2h', '7d' -> seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 2h or 7d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _number(text: str, ok: Callable[[float], bool], requirement: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
    return value


def positive_float(text: str) -> float:
    return _number(text, lambda v: v > 0, "above 0")


def non_negative_float(text: str) -> float:
    return _number(text, lambda v: v >= 0, "0 or more")


def share(text: str) -> float:
    return _number(text, lambda v: 0 <= v <= 1, "between 0 and 1")


def seconds_range(text: str) -> tuple[float, float]:
    parts = text.split("-")
    try:
        low, high = (float(parts[0]), float(parts[-1]))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range like 20-120") from None
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of positive seconds like 20-120")
    return low, high


def start_time(text: str) -> str:
    if text in ("now", "today"):
        return text
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'now', 'today' or an ISO date/time") from None
    return text


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _generation_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("mall and shoppers")
    g.add_argument("--layout", type=Path, help="layout JSON file (default: the built-in demo malls)")
    g.add_argument("--malls", type=positive_int, default=1, help="how many built-in malls (default 1)")
    g.add_argument("--seed", type=int, default=42, help="same seed, same events (default 42)")
    g.add_argument("--start", type=start_time, default="now",
                   help="simulated start: 'now', 'today' (opening time in the first mall's zone) "
                        "or ISO date/time in that zone")  # fmt: skip
    g.add_argument(
        "--visitors-per-day", type=positive_int, default=Behaviour.visitors_per_day, help="per mall on a weekday"
    )
    g.add_argument("--return-share", type=share, default=Behaviour.return_share, help="visitors seen on an earlier day")
    g.add_argument(
        "--randomized-share", type=share, default=Behaviour.randomized_share, help="phones with rotating random MACs"
    )
    g.add_argument(
        "--phoneless-share", type=share, default=Behaviour.phoneless_share, help="visitors whose phone never probes"
    )
    g.add_argument(
        "--revisit-share", type=share, default=Behaviour.revisit_share, help="visits that return to a shop the same day"
    )
    g.add_argument(
        "--staff",
        dest="staff_per_mall",
        type=int,
        default=Behaviour.staff_per_mall,
        help="all-day staff devices per mall",
    )
    g.add_argument("--street-passers", dest="street_passers_per_visitor", type=non_negative_float,
                   default=Behaviour.street_passers_per_visitor,
                   help="people walking past the front outside, per visitor (default 0.6)")  # fmt: skip
    g.add_argument("--probe-interval", type=seconds_range, default=Behaviour.probe_interval, metavar="MIN-MAX",
                   help="seconds between a phone's probe requests (default 20-120)")  # fmt: skip
    g.add_argument("--reentry-share", type=share, default=Behaviour.reentry_share,
                   help="visits that go out for a while and come back the same day (default 0.08)")
    g.add_argument("--group-share", type=share, default=Behaviour.group_share,
                   help="visits of a party with one probing phone between them (default 0.15)")
    g.add_argument("--door-error", type=share, default=Behaviour.door_error,
                   help="each door counter counts high or low by up to this share (default 0.04)")
    g.add_argument("--density", choices=tuple(DENSITIES), default="shop",
                   help="the built-in malls' access points: one per shop, or one every 20 or 15 m (default shop)")
    r = parser.add_argument_group("radio")
    r.add_argument("--path-loss-exponent", dest="exponent", type=positive_float, default=RadioModel.exponent)
    r.add_argument("--shadowing", type=float, default=RadioModel.shadowing, help="dB")
    r.add_argument("--wall-loss", type=float, default=RadioModel.wall_loss, help="dB per shop wall")
    r.add_argument("--sensitivity", type=float, default=RadioModel.sensitivity, help="dBm; probes hear nothing weaker")
    f = parser.add_argument_group("faults (each a probability per record)")
    f.add_argument("--duplicate-rate", type=share, default=0.0)
    f.add_argument("--out-of-order-rate", type=share, default=0.0)
    f.add_argument("--late-rate", type=share, default=0.0)
    f.add_argument("--malformed-rate", type=share, default=0.0)
    f.add_argument("--skewed-probe-share", type=share, default=0.0, help="probes whose clock is off")
    f.add_argument("--max-skew", dest="max_skew_seconds", type=duration, default=Faults.max_skew_seconds,
                   help="largest clock skew (default 30s)")  # fmt: skip
    o = parser.add_argument_group("output")
    o.add_argument("--truth", type=Path, help="write the ground truth (JSON Lines) to this file")
    o.add_argument("--output", type=Path, help="write records as JSON Lines here ('-' for stdout) instead of to Kafka")


def parser() -> argparse.ArgumentParser:
    root = OneLineParser(prog="simulators", description="Footfall mall simulator and load generator.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)

    run = commands.add_parser("run", help="produce events in (sped-up) real time")
    _generation_options(run)
    run.add_argument(
        "--history",
        type=positive_int,
        metavar="DAYS",
        help="start DAYS days before today, at the first local midnight of the malls (instead of --start)",
    )
    run.add_argument(
        "--speedup",
        type=positive_float,
        default=1.0,
        help="simulated seconds per real second until the simulation reaches now (default 1)",
    )
    run.add_argument("--as-fast-as-possible", action="store_true", help="no real-time pacing at all")
    run.add_argument("--duration", type=duration, help="simulated period, e.g. 2h or 1d (default: until stopped)")
    run.add_argument("--max-events", type=positive_int, help="stop after this many records")
    run.add_argument("--rate", type=positive_float, help="at most this many records per second")
    run.add_argument("--state-file", type=Path, help="keep the simulated time reached here (JSON, every few seconds)")
    run.add_argument(
        "--resume",
        action="store_true",
        help="go on from the simulated time in --state-file, if it has one (instead of --start/--history)",
    )
    run.set_defaults(handler=_run)

    load_ = commands.add_parser("load", help="pre-fill the topics as fast as the broker accepts")
    _generation_options(load_)
    load_.add_argument("--events", type=positive_int, default=1_000_000, help="records to produce (default 1,000,000)")
    load_.add_argument("--processes", type=positive_int, default=2, help="producer processes (default 2)")
    load_.set_defaults(handler=_load)

    layout = commands.add_parser("layout", help="export the built-in layout, or load a layout into PostgreSQL")
    layout.add_argument("action", choices=("export", "load"))
    layout.add_argument(
        "file", nargs="?", type=Path, help="export: where to write; load: layout to load (default built-in)"
    )
    layout.add_argument("--malls", type=positive_int, default=1, help="how many built-in malls (default 1)")
    layout.add_argument("--density", choices=tuple(DENSITIES), default="shop",
                        help="the built-in malls' access points: one per shop, or one every 20 or 15 m (default shop)")
    layout.set_defaults(handler=_layout)
    return root


def _the_layout(args: argparse.Namespace) -> Layout:
    return Layout.load(args.layout) if args.layout else default_layout(args.malls, args.density)


def history_start(layout: Layout, days: int, now: float) -> float:
    """The earliest of the malls' local midnights `days` days before today, so every mall
    has whole days of history (malls further west get a few more hours)."""
    starts = []
    for mall in layout.malls:
        today = datetime.fromtimestamp(now, mall.zone).date()
        starts.append(datetime.combine(today - timedelta(days=days), datetime.min.time(), mall.zone).timestamp())
    return min(starts)


def _start(args: argparse.Namespace, layout: Layout) -> float:
    zone = layout.malls[0].zone
    if getattr(args, "history", None):
        return history_start(layout, args.history, time.time())
    if args.start == "now":
        return time.time()
    if args.start == "today":
        now = datetime.now(zone)
        return now.replace(hour=layout.malls[0].opening_hour, minute=0, second=0, microsecond=0).timestamp()
    when = datetime.fromisoformat(args.start)
    return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()


def _from_args(cls: Any, args: argparse.Namespace) -> Any:
    """A settings dataclass from the options named after its fields (the rest keep defaults)."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def _config(args: argparse.Namespace, layout: Layout, end_after: float | None = None) -> SimulationConfig:
    start = _start(args, layout)
    return SimulationConfig(
        start=start,
        end=start + end_after if end_after else None,
        seed=args.seed,
        behaviour=_from_args(Behaviour, args),
        radio=_from_args(RadioModel, args),
        faults=_from_args(Faults, args),
    )


def _run(args: argparse.Namespace) -> int:
    layout = _the_layout(args)
    config = _config(args, layout, args.duration)
    if args.resume and not args.state_file:
        raise ValueError("--resume needs --state-file")
    saved = (load_state(args.state_file) if args.resume else None) or {}
    if saved:  # people in the mall at that moment are not carried over
        start = float(saved["simulated_until"])
        # --duration is the period simulated from there (not from --start's default, now:
        # a week-old state file would otherwise simulate the whole week up to now).
        end = start + args.duration if args.duration else None
        # Event ids of their own: the job drops an id it has seen as a duplicate.
        config = dataclasses.replace(config, start=start, end=end, run=f"r{int(start):x}")
    # A resumed run goes on counting (records sent, hourly marks) where the last one stopped.
    progress = Progress(total=args.max_events, state_file=args.state_file, count=int(saved.get("records", 0)),
                        marks=[(float(t), int(n)) for t, n in saved.get("marks", [])])
    truth = TruthFile(args.truth, config.behaviour.rotation_minutes * 60) if args.truth else None
    simulation = Simulation(layout, config, truth)
    for sig in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: flush the producer, close the truth
        signal.signal(sig, lambda *_: simulation.stop())
    sink = FileSink(args.output) if args.output else KafkaSink(load(KafkaSettings))
    # To Kafka, nothing is sent ahead of the wall clock: a sped-up run catches up with now,
    # then goes on in real time.
    pacer = Pacer(
        config.start,
        speedup=None if args.as_fast_as_possible else args.speedup,
        rate=args.rate,
        wall=None if args.output else time.time,
    )
    outcome = publish(simulation.records(), sink, pacer, args.max_events, progress)
    if progress.last_time is not None:
        progress.save(progress.last_time)
    print(f"sent {outcome.events:,} records in {outcome.seconds:,.1f}s ({outcome.rate:,.0f}/s)", file=sys.stderr)
    return 0


def _load(args: argparse.Namespace) -> int:
    from simulators.load import LoadPlan, run_load

    if args.output:
        raise ValueError("--output is for `run`; load mode always produces to Kafka")
    layout = _the_layout(args)
    plan = LoadPlan(events=args.events, processes=args.processes, truth=args.truth)
    config = _config(args, layout)
    # Load mode fills the topics with what already happened: never past now.
    now = time.time()
    if config.start >= now:
        raise ValueError("--start must be in the past for load (it produces what already happened, as fast as it can)")
    config = dataclasses.replace(config, end=min(config.end or now, now))
    outcome = run_load(layout, config, load(KafkaSettings), plan)
    print(
        f"load: {outcome.events:,} records in {outcome.seconds:,.1f}s = {outcome.rate:,.0f} records/s", file=sys.stderr
    )
    return 0


def _layout(args: argparse.Namespace) -> int:
    if args.action == "export":
        if args.file is None:
            print(default_layout(args.malls, args.density).to_json())
        else:
            default_layout(args.malls, args.density).save(args.file)
            print(f"wrote {args.malls} mall(s) to {args.file}")
        return 0
    from simulators.dimensions import load_layout

    layout = Layout.load(args.file) if args.file else default_layout(args.malls, args.density)
    written = load_layout(layout, load(PostgresSettings))
    print("loaded " + ", ".join(f"{n} {table}" for table, n in written.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ConfigError, LayoutError, ValueError, OSError, RuntimeError) as err:
        print(f"simulators: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, (ConfigError, LayoutError, ValueError)) else 1
    except (KafkaError, psycopg.Error) as err:
        print(f"simulators: error: {type(err).__name__}: {err}; is the stack up? (make up)", file=sys.stderr)
        return 1
