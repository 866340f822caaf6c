"""`python -m bench.compare --before DIR`: the production job of another checkout (the
code before a change) against this one's, in one interleaved series on one input.

    python -m bench.compare --before ../before [--events 1000000] [--rounds 3]
                            [--python-mode process|thread]

`DIR` is a clone at the commit to compare with, set up by its own `make setup`. One
input of `--events` records is filled once (as `make bench` fills its 1x input); then
each round runs the job of both checkouts over it, one after the other, the order
alternating from round to round (before, after; after, before; ...) so that a drift of
the machine weighs on both alike. Each job runs from its own checkout's folder with its
own Python. Reported: each run's records/s, the mean of each side, after / before, and
whether the two produce the same metric values (a change of shape must not change them).
The result goes to bench/results/compare.json and is printed; date it into
bench/results/history.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import quiet
from bench.results import Metrics, differences
from bench.run import RESULTS, Bench, BenchConfig, Run, machine


def interpreter(checkout: Path) -> tuple[str, ...]:
    """The command that runs a module of `checkout` as its own `make setup` made it: its
    venv's Python, from its folder (so that no module of this checkout is imported)."""
    python = checkout / ".venv" / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"error: --before {checkout}: no .venv (run `make setup` there first)")
    return ("env", "-C", str(checkout), str(python))


def compare(bench: Bench, before: Path, rounds: int, python_mode: str) -> dict[str, object]:
    data = bench.prepare()["1x"]
    sides = {"before": interpreter(before), "after": interpreter(Path.cwd())}
    runs: dict[str, list[Run]] = {"before": [], "after": []}
    values: dict[str, Metrics | None] = {}
    for n in range(rounds):
        order = ("before", "after") if n % 2 == 0 else ("after", "before")
        for side in order:
            run, metrics = bench.throughput("ours", data, python_mode=python_mode, interpreter=sides[side],
                                            label=f"-{side}-{n}")
            runs[side].append(run)
            values.setdefault(side, metrics)
    means = {side: statistics.mean(r.events_per_s for r in done) for side, done in runs.items()}
    found = differences(values["before"], values["after"]) if values["before"] and values["after"] else ["no values"]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "before": str(before.resolve()),
        "records": data.records,
        "python_mode": python_mode,
        "runs": {side: [asdict(r) for r in done] for side, done in runs.items()},
        "events_per_s": {side: [r.events_per_s for r in done] for side, done in runs.items()},
        "mean_events_per_s": {side: round(mean) for side, mean in means.items()},
        "after_over_before": round(means["after"] / means["before"], 3),
        "same_values": not found,
        "differences": found,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="a set-up clone at the commit to compare with")
    parser.add_argument("--events", type=int, default=1_000_000, help="records of the input (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (default %(default)s)")
    parser.add_argument("--python-mode", choices=("process", "thread"), default="process",
                        help="where the job's Python functions run (default %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write compare.json")
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if (settings := quiet.settings_on_a_quiet_machine()) is None:
        return 2
    bench = Bench(BenchConfig(events=args.events, scales=(1,), baseline_events=1000), settings)
    if (result := bench.measure(lambda: compare(bench, args.before, args.rounds, args.python_mode))) is None:
        return 1
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("records", "events_per_s", "mean_events_per_s", "after_over_before",
                                              "same_values", "differences")}, indent=2))
    return 0 if result["same_values"] else 1


if __name__ == "__main__":
    sys.exit(main())
