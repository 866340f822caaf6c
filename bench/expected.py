"""The expected footfall's backtest on the history the product holds (`make backtest`).

    python -m bench.expected [--weeks 4] [--min-visitors 10] [--at-hour 12] [--mall M ...]

For every mall and every past day with at least one earlier week of history, each hour's
expectation is worked out as footfall/expected.py does it, from the days before only,
and set against what the job counted (mall_hourly):

- at the day's start: the baseline of each hour (nothing of the day known);
- at `--at-hour` (noon): the hours after it, scaled by how the day ran until then.

MAPE (the mean absolute percentage error) per hour, over hours that counted at least
`--min-visitors` (a percentage of a handful is noise), and per day (the day's total),
with the share of hours inside the band. Prints the table and writes it, with the date
and what it ran on, to bench/results/expected.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from footfall import expected
from footfall.settings import Settings

RESULTS = Path(__file__).parent / "results" / "expected.md"


@dataclass
class Errors:
    """Absolute percentage errors, and whether each hour fell inside its band."""

    hours: list[float] = field(default_factory=list)
    days: list[float] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)

    def row(self, label: str) -> str:
        def mape(values: list[float]) -> str:
            return f"{100 * sum(values) / len(values):.1f} %" if values else "—"

        share = f"{100 * sum(self.inside) / len(self.inside):.0f} %" if self.inside else "—"
        return f"| {label} | {len(self.days)} | {len(self.hours)} | {mape(self.hours)} | {mape(self.days)} | {share} |"


def backtest(counts: dict[date, dict[expected.Key, int]], weeks: int, min_visitors: int, at_hour: int
             ) -> tuple[Errors, Errors]:
    """(at the day's start, at `at_hour`) errors of one mall's hourly visitor counts."""
    start, later = Errors(), Errors()
    mall = {d: {k: v for k, v in hours.items() if k[0] == ""} for d, hours in counts.items()}
    for day in sorted(mall):
        past = {d: mall[d] for d in expected.history_days(day, day, weeks) if d in mall}
        if not past:
            continue
        for errors, closed in ((start, 0), (later, at_hour)):
            known = {**past, day: {k: v for k, v in mall[day].items() if k[1] < closed}}
            hours = expected.expected_days(known, day, closed, 0, weeks)[day]
            actual_total = sum(v for k, v in mall[day].items() if k[1] >= closed)
            expected_total = sum(e for k, (_, e) in hours.items() if k[1] >= closed)
            if actual_total:
                errors.days.append(abs(expected_total - actual_total) / actual_total)
            for key, (band, value) in hours.items():
                actual = mall[day].get(key, 0)
                if key[1] < closed or actual < min_visitors:
                    continue
                errors.hours.append(abs(value - actual) / actual)
                factor = value / band.baseline if band.baseline else 1.0
                errors.inside.append(band.low * factor <= actual <= band.high * factor)
    return start, later


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.expected", description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=Settings().expected.weeks, help="past weeks per expectation")
    parser.add_argument("--min-visitors", type=int, default=10, help="hours with fewer visitors are not scored")
    parser.add_argument("--at-hour", type=int, default=12, help="the hour of the day the scaled forecast is made")
    parser.add_argument("--mall", action="append", help="only this mall (repeat for more; default: every mall)")
    args = parser.parse_args(argv)
    settings = Settings()
    start, later = Errors(), Errors()
    malls = [(m, tz) for m, tz in expected.malls(settings) if not args.mall or m in args.mall]
    for mall_id, tz in malls:
        today = datetime.now(ZoneInfo(tz)).date()  # not over: not scored
        counts = expected.hourly_counts(settings, mall_id, date(2000, 1, 1), today - timedelta(days=1))
        a, b = backtest(counts, args.weeks, args.min_visitors, args.at_hour)
        for total, part in ((start, a), (later, b)):
            total.hours += part.hours
            total.days += part.days
            total.inside += part.inside
    table = "\n".join([
        "| forecast | days | hours scored | MAPE per hour | MAPE per day | hours in the band |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        start.row("at the day's start (baseline)"),
        later.row(f"at {args.at_hour:02d}:00, the hours after (scaled)"),
    ])
    report = (f"# Expected footfall: backtest\n\n{datetime.now():%Y-%m-%d %H:%M}, malls "
              f"{', '.join(m for m, _ in malls)}, up to "
              f"{args.weeks} past weeks per expectation, hours of at least {args.min_visitors} visitors "
              f"scored (`python -m bench.expected`).\n\n{table}\n")
    print(report)
    RESULTS.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
