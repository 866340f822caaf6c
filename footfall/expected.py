"""Expected footfall: for every mall (and shop), day and hour, the visitors that hour
usually brings, with a band, for today and the next days (docs/design.md §4, Expected
footfall).

The baseline of an hour is the median of the same weekday and hour over the last
`weeks` complete weeks the product holds (mall_hourly, shop_hourly): with three weeks or
more, one odd day (a holiday, an outage) moves it little. Its band is the baseline plus
or minus two spreads, the spread being the larger of the weeks' scaled median absolute
deviation and the square root of the baseline (a count's own Poisson noise, which is all
there is to go on with one or two weeks).

Today is then scaled by how it is running: over the hours the job has closed, today's
visitors against their baseline, trusted in proportion to the share of the day's
baseline that has passed (`day_factor`), so one early hour barely moves the rest of the
day and a day half gone with a third fewer visitors expects a third fewer for the rest.

`refresh` writes the table `expected_hourly` (the supervisor runs it every
FOOTFALL_EXPECTED_EVERY_MINUTES, `footfall expected refresh` on demand); the pages read
it, and compare what a day has counted so far with the baseline of the same hours.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from footfall import clients
from footfall.settings import Settings

#: A hour's key: (shop_code, hour); the mall itself is shop_code ''.
Key = tuple[str, int]
#: Spreads either side of the baseline that make the band.
BAND_SPREADS = 2.0
#: The median absolute deviation of a normal sample times this is its standard deviation.
MAD_TO_SIGMA = 1.4826
#: Below this many weeks the weeks' own spread says little: the band rests on Poisson noise.
WEEKS_FOR_SPREAD = 3
#: The table the pages read.
TABLE = "expected_hourly"
COLUMNS = ("mall_id", "day", "shop_code", "hour", "baseline", "low", "high", "expected", "weeks", "computed_at")


@dataclass(frozen=True)
class Expectation:
    baseline: float
    low: float
    high: float
    #: How many past weeks it rests on (0: none, nothing is expected yet).
    weeks: int


def expectation(history: Sequence[float]) -> Expectation:
    """An hour's expectation from its counts on the same weekday of past weeks (newest first)."""
    if not history:
        return Expectation(0.0, 0.0, 0.0, 0)
    baseline = float(statistics.median(history))
    spread = math.sqrt(baseline)
    if len(history) >= WEEKS_FOR_SPREAD:
        mad = statistics.median(abs(v - baseline) for v in history)
        spread = max(spread, MAD_TO_SIGMA * mad)
    return Expectation(baseline, max(0.0, baseline - BAND_SPREADS * spread), baseline + BAND_SPREADS * spread,
                       len(history))


def day_factor(counted_so_far: float, baseline_so_far: float, baseline_day: float) -> float:
    """How today is running, as a factor on the rest of its baseline: the ratio of what it
    counted to what its closed hours usually bring, weighted by the share of the day's
    baseline those hours hold (1 when nothing is known)."""
    if baseline_so_far <= 0 or baseline_day <= 0:
        return 1.0
    weight = min(baseline_so_far / baseline_day, 1.0)
    return 1.0 + weight * (counted_so_far / baseline_so_far - 1.0)


def history_days(target: date, first_open: date, weeks: int) -> list[date]:
    """The same weekday in each of the `weeks` weeks before `target`, newest first, that are
    complete (before `first_open`, the mall's current local day)."""
    days = [target - timedelta(days=7 * n) for n in range(1, weeks + 1 + (target - first_open).days // 7 + 1)]
    return [d for d in days if d < first_open][:weeks]


def expected_days(
    counts: Mapping[date, Mapping[Key, int]], today: date, closed_hours: int, ahead: int, weeks: int
) -> dict[date, dict[Key, tuple[Expectation, float]]]:
    """Each key's expectation and expected count for `today` and the `ahead` days after it,
    from the hourly `counts` of past days; today's expected counts scaled by how it runs
    over its first `closed_hours` hours (counts[today] holds what it counted so far)."""
    keys = {key for day_counts in counts.values() for key in day_counts}
    out: dict[date, dict[Key, tuple[Expectation, float]]] = {}
    for offset in range(ahead + 1):
        target = today + timedelta(days=offset)
        past = history_days(target, today, weeks)
        found = [d for d in past if d in counts]
        expectations = {k: expectation([counts[d].get(k, 0) for d in found]) for k in keys}
        factors: dict[str, float] = defaultdict(lambda: 1.0)
        if offset == 0:
            for shop in {k[0] for k in keys}:
                hours = [(e.baseline, counts.get(today, {}).get(k, 0), k[1] < closed_hours)
                         for k, e in expectations.items() if k[0] == shop]
                factors[shop] = day_factor(sum(c for _, c, closed in hours if closed),
                                           sum(b for b, _, closed in hours if closed), sum(b for b, _, _ in hours))
        out[target] = {k: (e, e.baseline * factors[k[0]]) for k, e in expectations.items()}
    return out


#: The job closes an hour two minutes after it ends (docs/metrics-job.md "Outputs"): an
#: hour counts as closed once it is this far behind, so today is never compared short.
HOUR_CLOSED = timedelta(minutes=5)


def closed_hours(day: date, now: datetime) -> int:
    """How many of `day`'s hours, from midnight, are closed at `now` (in the mall's zone):
    the hours the job has closed of today, every hour of any other day (gone by, or
    simulated ahead of the clock)."""
    if day != now.date():
        return 24
    closed = now - HOUR_CLOSED
    return closed.hour if closed.date() == day else 0


def hourly_counts(settings: Settings, mall_id: str, since: date, until: date) -> dict[date, dict[Key, int]]:
    """Visitors per hour of the mall (shop '') and of each shop, days in [since, until]."""
    ch = clients.clickhouse(settings.clickhouse)
    params = {"m": mall_id, "a": since, "b": until}
    rows = ch.execute("SELECT day, '', hour, visitors FROM mall_hourly FINAL "
                      "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", params)
    rows += ch.execute("SELECT day, shop_code, hour, visitors FROM shop_hourly FINAL "
                       "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", params)
    counts: dict[date, dict[Key, int]] = defaultdict(dict)
    for day, shop, hour, visitors in rows:
        counts[day][(shop, int(hour))] = int(visitors)
    return counts


def malls(settings: Settings) -> list[tuple[str, str]]:
    """Every mall and its time zone."""
    schema = settings.postgres.schema_name
    with clients.postgres(settings.postgres) as conn:
        return [(m, tz) for m, tz in conn.execute(f'SELECT mall_id, tz FROM "{schema}".malls ORDER BY mall_id')]


def rows_for(mall_id: str, days: Mapping[date, Mapping[Key, tuple[Expectation, float]]],
             computed_at: datetime) -> Iterable[tuple[object, ...]]:
    for day, keys in days.items():
        for (shop, hour), (e, expected) in sorted(keys.items()):
            yield (mall_id, day, shop, hour, e.baseline, e.low, e.high, expected, e.weeks, computed_at)


def refresh(settings: Settings, now: datetime | None = None, only: Sequence[tuple[str, str]] | None = None) -> int:
    """Write every mall's (or `only` these malls', with their zones) expectations for its
    today and the days after it; returns the rows written. `now` (the clock by default) is
    the moment today is scaled at."""
    config = settings.expected
    now = now or datetime.now(UTC)
    written = 0
    ch = clients.clickhouse(settings.clickhouse)
    for mall_id, tz in malls(settings) if only is None else only:
        local = now.astimezone(ZoneInfo(tz))
        today = local.date()
        counts = hourly_counts(settings, mall_id, today - timedelta(days=7 * config.weeks), today)
        days = expected_days(counts, today, closed_hours(today, local), config.days_ahead, config.weeks)
        rows = list(rows_for(mall_id, days, now.astimezone(UTC).replace(tzinfo=None)))
        if rows:
            ch.execute(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES", rows)
            written += len(rows)
    return written
