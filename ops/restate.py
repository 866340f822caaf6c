"""`footfall restate --mall M --from DAY [--to DAY]`: make closed days final after a
correction (a probe moved, a staff phone marked late, a backlog uploaded); `footfall
restate due`: the closed days the supervisor would restate now (a cluster's CronJob, where
no supervisor runs). Every day is
checked first (the mall, closed, still held by the input topics), so a span is refused
whole with one line naming the day and why; then the restatement runs
(jobs/metrics/restate.py, its own process at a lower priority) and prints a line per day
and a bar. Restatements queue: one at a time on this machine."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import date
from typing import Any

from footfall import restatement
from footfall.settings import ROOT, Settings
from ops.processes import end_with_parent


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("restate", help="restate closed days of a mall with the job's SQL: final numbers")
    parser.add_argument("action", nargs="?", choices=("due",),
                        help="due: every closed day not yet final that the supervisor would restate now (what a "
                             "cluster's CronJob runs); without it, the days of --mall from --from to --to")
    parser.add_argument("--mall", help="the mall's id")
    parser.add_argument("--from", dest="first", type=day, metavar="DAY", help="first local day")
    parser.add_argument("--to", dest="last", type=day, metavar="DAY", help="last local day (default: --from)")
    parser.set_defaults(run=run)


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def command(mall_id: str, first: date, last: date) -> list[str]:
    """The restatement's process (what the supervisor runs too)."""
    return [sys.executable, "-m", "jobs.metrics.restate", "--mall", mall_id, "--from", first.isoformat(),
            "--to", last.isoformat()]


def restate(mall_id: str, first: date, last: date, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the restatement in a session of its own, so the CPU it may take is its own
    session's lowest share (jobs/metrics/restate.py `background`); it ends with its caller,
    however that ends (the supervisor stopped by `footfall down`, say)."""
    process = subprocess.Popen(command(mall_id, first, last), cwd=ROOT, start_new_session=True, text=True,
                               stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
                               preexec_fn=end_with_parent)
    try:
        out, err = process.communicate()
    except BaseException:
        process.terminate()
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def due(settings: Settings) -> list[str]:
    """Restate every day `restatement.due` names, a mall's days in one run: what was said
    of each (its line, or why it was not restated)."""
    by_mall: dict[str, list[date]] = {}
    for mall_day in restatement.due(settings):
        by_mall.setdefault(mall_day.mall_id, []).append(mall_day.day)
    said = []
    for mall_id, days in by_mall.items():
        done = restate(mall_id, min(days), max(days), capture=True)
        lines = [line for line in done.stdout.splitlines() if ": final: " in line]
        said += lines or [f"{mall_id} {min(days)}..{max(days)} not restated: "
                          f"{(done.stderr.strip().splitlines() or ['exit ' + str(done.returncode)])[-1]}"]
    return said


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "due":
        said = due(settings)
        print("\n".join(said) if said else "no closed day is waiting to be restated")
        return 1 if any(" not restated: " in line for line in said) else 0
    if args.mall is None or args.first is None:
        raise ValueError("restate: --mall and --from are needed (or `footfall restate due`)")
    last = args.last or args.first
    for mall_day in restatement.mall_days(settings, args.mall, args.first, last):
        try:
            restatement.check(mall_day, settings)
        except restatement.Refused as err:
            raise ValueError(str(err)) from None
    return restate(args.mall, args.first, last).returncode
