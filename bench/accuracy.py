"""Accuracy against the simulator's ground truth, across radio settings (`make accuracy`).

    python -m bench.accuracy [--malls 2] [--visitors-per-day 1000] [--radio 2.7/6,2.2/4,...]
                             [--densities 20m,15m]

For each radio setting (path-loss exponent / shadowing in dB; the simulator allows
2.2-3.0 and 4-8 dB) on the built-in malls' one probe per shop, and for each denser
layout (simulators.layout.DENSITIES) at the default radio, a metrics job of its own
(bench.ownjob: own topics, group, REST port, checkpoints) reads one whole simulated day
of `--malls` malls of its own, with people who walk (simulators/paths.py), street
passers-by, window shoppers, staff, randomised and phoneless visitors, parties with one
phone, re-entries and door counters a few per cent off, and no faults. The job's
estimator is the same for every run: it is never told the simulator's radio or layout
density. Then the report compares what the job wrote with what happened:

- mall visitors: `mall_daily.visitors` against the people with a stable-MAC phone who
  came in, staff left out (phones: what the job can count);
- shop visitors: `shop_daily.visitors` against the stable-MAC people who stayed a shop's
  minimum dwell, summed over the shops, and the mean absolute error per shop;
- walk-bys: `shop_daily.walk_bys` against the stable-MAC people who walked past a shop's
  door or stepped in for less than its dwell and were not its visitors (the same two);
- estimated people: `people_daily.estimated_people` against everyone who came in (each
  mall-day alone too), and `shop_people_daily.estimated_people` against everyone who
  stayed a shop's dwell (design §4 item 15; the share of shop-days within 15 %);
- positions: every second the job placed a visitor matched with where the simulator put
  that phone at that probe request (staff left out: they are no visitors, and the job
  leaves them out once it has detected them, design §4 item 14, which one day is too
  short for): the median and 90th-percentile error in metres and the
  share of seconds in the right zone;
- dwell (design §4 items 6, 11): the median of the job's shop visits of at least the
  shop's minimum dwell against the median stay of as long in the truth (the visitors'
  stable phones), and the same for mall visits of at least the mall's minimum dwell
  against the truth's stretches inside (from a passage in to the next out);
- journeys (item 12): each visitor's transitions from one shop to another, the job's
  (its shop visits in order) against the truth's (its stays in order): precision (the
  job's that happened) and recall (those that happened that the job found);
- sales (design §4 item 18): the transactions the job counted against every purchase made
  (the tills offline for an hour sent some of them never); conversion, the job's
  transactions over its shop visitors and over its shops' estimated people, against the
  purchases over everyone who stayed a shop's dwell; sales per visitor, the job's net
  sales over its mall visitors and over its estimated people, against the net sales over
  everyone who came in; and the mean absolute error of each shop's conversion of
  estimated people (shops with 20 people or more).

Errors are signed fractions of the truth, over all malls together. Prints the table
and writes it, with the machine and the date, to bench/results/accuracy.md (and every
figure to accuracy.json).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.ownjob import SALT, job_over, own_mall, settled, whole_days
from bench.stats import error, mean_abs_error, percentile
from footfall import clients
from footfall.settings import ConfigError, MetricSettings, Settings
from simulators.layout import DENSITIES as LAYOUT_DENSITIES
from simulators.layout import standalone_mall
from simulators.radio import RadioModel
from simulators.shoppers import Behaviour
from simulators.source import unused_past_day
from udfs.identity import device_id

RESULTS = Path(__file__).resolve().parent / "results"
#: The built-in mall layouts the report's malls are copies of (the same site and week:
#: one local day is the same stretch of time for all of them).
MALL_INDEXES = (240, 236, 232, 228)
#: (path-loss exponent, shadowing dB): the simulator's default, its gentlest and harshest
#: corners, and the two mixed ones.
RADIO = ((2.7, 6.0), (2.2, 4.0), (2.2, 8.0), (3.0, 4.0), (3.0, 8.0))
TABLES = ("mall_daily", "shop_daily", "visits", "positions", "sales_hourly")
#: The layouts besides one probe per shop, run at the default radio.
DENSITIES = ("20m", "15m")
#: The default radio setting (the simulator's RadioModel).
DEFAULT_RADIO = (RadioModel.exponent, RadioModel.shadowing)
#: A shop-day's estimated people is scored within this share of the truth.
SHOP_PEOPLE_WITHIN = 0.15
#: A shop's conversion is scored only where this many people stayed its dwell.
SHOP_MIN_PEOPLE = 20


@dataclass
class Truth:
    """What the report scores against, from the simulator's truth file."""

    #: The summaries per mall.
    summaries: dict[str, dict[str, Any]]
    #: Where each phone was at each probe request: (device id, second) -> (x, y, zone).
    where: dict[tuple[str, int], tuple[float, float, str]]
    #: The visitors' (stable phone, not staff) stays in shops: device id -> [(start, shop, seconds)].
    stays: dict[str, list[tuple[float, str, float]]]
    #: The seconds each of those visitors spent inside from a passage in to the next out.
    inside: list[float]


def read_truth(path: Path) -> Truth:
    truth = Truth({}, {}, defaultdict(list), [])
    stable: set[str] = set()  # visitors with a stable-MAC phone (staff left out)
    staff: set[str] = set()  # the staff's MACs: not visitors, whose places are not scored
    with path.open() as lines:
        for line in lines:
            row = json.loads(line)
            if row["type"] == "summary":
                truth.summaries[row["mall_id"]] = row
            elif row["type"] == "trip" and row["staff"]:
                staff.update(row["macs"])
            elif row["type"] == "position" and row["mac"] not in staff:
                truth.where.setdefault((device_id(SALT, row["mac"]), int(row["t"])), (row["x"], row["y"], row["zone"]))
            elif row["type"] == "trip" and not (row["staff"] or row["phoneless"] or row["randomized"]):
                stable.add(row["person"])
                times = [t for t, _, _ in row["passages"]]
                truth.inside += [out - came for came, out in zip(times[::2], times[1::2], strict=False)]
            elif row["type"] == "visit" and row["person"] in stable:
                truth.stays[device_id(SALT, row["mac"])].append((row["start"], row["shop_code"],
                                                                  row["end"] - row["start"]))
    truth.stays = {device: sorted(stays) for device, stays in truth.stays.items()}
    return truth


def wait_for_outputs(settings: Settings, mall_ids: list[str], day: date,
                     timeout: float = 900) -> dict[str, list[tuple[Any, ...]]]:
    """What the job wrote for the malls' `day`, once it has stopped changing for 20 s.
    (The closing reports make a next day of their own, with nobody in it.)"""
    where = "mall_id IN %(m)s AND day = %(d)s"
    queries = {
        "mall": f"SELECT mall_id, visitors FROM mall_daily FINAL WHERE {where}",
        "shops": f"SELECT mall_id, shop_code, visitors FROM shop_daily FINAL WHERE {where}",
        "walk_bys": f"SELECT mall_id, shop_code, walk_bys FROM shop_daily FINAL WHERE {where}",
        "people": f"SELECT mall_id, estimated_people FROM people_daily WHERE {where}",
        "shop_people": f"SELECT mall_id, shop_code, estimated_people FROM shop_people_daily WHERE {where}",
        "positions": "SELECT device_id, toUnixTimestamp(ts), x, y, zone FROM positions WHERE mall_id IN %(m)s",
        "sales": f"SELECT mall_id, shop_code, sum(transactions), sum(sales_minor) FROM sales_hourly FINAL "
                 f"WHERE {where} GROUP BY mall_id, shop_code",
        "visits": f"SELECT shop_code, device_id, toUnixTimestamp(started_at), dwell_seconds FROM visits FINAL "
                  f"WHERE {where}",
    }
    client = clients.clickhouse(settings.clickhouse)
    try:
        last = settled(lambda: {name: sorted(client.execute(query, {"m": tuple(mall_ids), "d": day}), key=repr)
                                for name, query in queries.items()},
                       lambda now: {row[0] for row in now["mall"]} == set(mall_ids), timeout)
        return last or {name: [] for name in queries}
    finally:
        client.disconnect()


def score(outputs: dict[str, list[tuple[Any, ...]]], truth: Truth) -> dict[str, Any]:
    """Every figure of the report for one run, over all its malls."""
    summaries, where = truth.summaries, truth.where
    visitors = sum(v for _, v in outputs["mall"])
    people = [p for _, p in outputs["people"]]
    shops = {(m, s): v for m, s, v in outputs["shops"]}
    shop_people = {(m, s): p for m, s, p in outputs["shop_people"] if p is not None}
    true_shops = {(m, s): n for m, t in summaries.items() for s, n in t["shop_dwell_visitors"].items()}
    walk_bys = {(m, s): n for m, s, n in outputs["walk_bys"]}
    true_walk_bys = {(m, s): n for m, t in summaries.items() for s, n in t.get("shop_walk_bys", {}).items()}
    true_shop_people = {(m, s): n for m, t in summaries.items() for s, n in t["shop_dwell_people"].items()}
    true_visitors = sum(t["visitors"] for t in summaries.values())
    true_people = sum(t["people"] for t in summaries.values())
    errors, zone_hits = [], 0
    for device, second, x, y, zone in outputs["positions"]:
        where_then = where.get((device, second))
        if where_then is not None:
            errors.append(math.hypot(x - where_then[0], y - where_then[1]))
            zone_hits += zone == where_then[2]
    errors.sort()
    scored_shops = [key for key, n in true_shop_people.items() if n]
    return {
        "mall_visitors": [visitors, true_visitors, error(visitors, true_visitors)],
        "shop_visitors": [sum(shops.values()), sum(true_shops.values()),
                          error(sum(shops.values()), sum(true_shops.values()))],
        "shop_visitors_mean_abs_error": mean_abs_error(shops, true_shops),
        "walk_bys": [sum(walk_bys.values()), sum(true_walk_bys.values()),
                     error(sum(walk_bys.values()), sum(true_walk_bys.values()))],
        "walk_bys_mean_abs_error": mean_abs_error(walk_bys, true_walk_bys),
        "people": [None if None in people else sum(people), true_people,
                   None if None in people else error(sum(people), true_people)],
        "people_per_mall": {m: error(p, summaries[m]["people"]) if p is not None else None
                            for m, p in outputs["people"]},
        "door_entries": {m: [t["entries_counted"], t["entries"], t["people"]] for m, t in summaries.items()},
        "shop_people": [sum(shop_people.values()), sum(true_shop_people.values()),
                        error(sum(shop_people.values()), sum(true_shop_people.values()))],
        "shop_people_mean_abs_error": mean_abs_error(shop_people, true_shop_people),
        "shop_people_within": round(sum(abs(shop_people.get(key, 0) - true_shop_people[key])
                                        <= SHOP_PEOPLE_WITHIN * true_shop_people[key] for key in scored_shops)
                                    / max(1, len(scored_shops)), 4),
        "positions_matched": len(errors),
        "position_error_p50_m": round(statistics.median(errors), 2) if errors else None,
        "position_error_p90_m": round(percentile(errors, 0.9), 2) if errors else None,
        "zone_accuracy": round(zone_hits / len(errors), 4) if errors else None,
        **dwell_scores(outputs["visits"], truth),
        **journey_scores(outputs["visits"], truth),
        **sales_scores(outputs, summaries),
    }


def dwell_scores(visits: list[tuple[Any, ...]], truth: Truth) -> dict[str, Any]:
    """The median dwell of shop visits and of mall visits of at least their minimum
    dwell, the job's against the truth's: [job, truth, error] in seconds."""
    shop_min, mall_min = (MetricSettings.model_fields[name].default
                          for name in ("shop_min_dwell_seconds", "mall_min_dwell_seconds"))
    job_shop = [d for shop, device, _, d in visits if shop and device in truth.stays and d >= shop_min]
    job_mall = [d for shop, device, _, d in visits if not shop and device in truth.stays and d >= mall_min]
    true_shop = [d for stays in truth.stays.values() for _, _, d in stays if d >= shop_min]
    true_mall = [d for d in truth.inside if d >= mall_min]

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    def scored(job: list[float], true: list[float]) -> list[Any]:
        got, want = median(job), median(true)
        return [got, want, error(got, want) if want else None]

    return {"shop_dwell_median_s": scored(job_shop, true_shop), "mall_dwell_median_s": scored(job_mall, true_mall)}


def transitions(shops: list[str]) -> Counter[tuple[str, str]]:
    """The steps from one shop to a different one along a journey (design §4 item 12)."""
    return Counter((a, b) for a, b in zip(shops, shops[1:], strict=False) if a != b)


def journey_scores(visits: list[tuple[Any, ...]], truth: Truth) -> dict[str, Any]:
    """Precision and recall of the visitors' transitions between shops, per device: the
    job's (its shop visits in the order they started, ties by shop) against the truth's."""
    job: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for shop, device, started, _ in visits:
        if shop and device in truth.stays:
            job[device].append((int(started), shop))
    found = made = true_steps = 0
    for device, stays in truth.stays.items():
        want = transitions([shop for _, shop, _ in stays])
        got = transitions([shop for _, shop in sorted(job.get(device, []))])
        found += sum((want & got).values())
        made += sum(got.values())
        true_steps += sum(want.values())
    return {"transitions": [made, true_steps],
            "transition_precision": round(found / made, 4) if made else None,
            "transition_recall": round(found / true_steps, 4) if true_steps else None}


def sales_scores(outputs: dict[str, list[tuple[Any, ...]]], summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sales figures of the report (each [job, truth, error]), over all malls, and the
    same for each mall alone (`per_mall`)."""
    scores = mall_sales_scores(outputs, summaries)
    if len(summaries) > 1:
        scores["per_mall"] = {
            mall: mall_sales_scores({name: [row for row in rows if row[0] == mall] for name, rows in outputs.items()},
                                    {mall: summary})
            for mall, summary in sorted(summaries.items())}
    return scores


def mall_sales_scores(outputs: dict[str, list[tuple[Any, ...]]], summaries: dict[str, dict[str, Any]]
                      ) -> dict[str, Any]:
    """The sales figures over the malls of `summaries` (the outputs filtered to them)."""
    sold = {(m, s): (int(t), int(n)) for m, s, t, n in outputs["sales"]}
    transactions = sum(t for t, _ in sold.values())
    net = sum(n for _, n in sold.values())
    shop_visitors = sum(v for _, _, v in outputs["shops"])
    shop_people = {(m, s): p for m, s, p in outputs["shop_people"] if p is not None}
    visitors = sum(v for _, v in outputs["mall"])
    people = [p for _, p in outputs["people"]]
    estimated = None if None in people or not people else sum(people)
    true_sales = {(m, s): f for m, t in summaries.items() for s, f in t.get("shop_sales", {}).items()}
    true_shop_people = {(m, s): n for m, t in summaries.items() for s, n in t["shop_dwell_people"].items()}
    purchases = sum(f["transactions"] for f in true_sales.values())
    true_net = sum(f["sales_minor"] for f in true_sales.values())
    true_conversion = purchases / sum(true_shop_people.values()) if true_shop_people else None
    true_per_person = true_net / sum(t["people"] for t in summaries.values())

    def scored(value: float | None, truth: float | None) -> list[Any]:
        if value is None or truth is None:
            return [value, truth, None]
        return [round(value, 4), round(truth, 4), error(value, truth)]

    per_shop = {key: sold.get(key, (0, 0))[0] / p for key, p in shop_people.items()
                if p and true_shop_people.get(key, 0) >= SHOP_MIN_PEOPLE}
    true_per_shop = {key: true_sales.get(key, {}).get("transactions", 0) / true_shop_people[key] for key in per_shop}
    return {
        "transactions": [transactions, purchases, error(transactions, purchases)],
        "unsent_transactions": sum(f["unsent"] for f in true_sales.values()),
        "conversion_of_visitors": scored(transactions / shop_visitors if shop_visitors else None, true_conversion),
        "conversion_of_people": scored(
            transactions / sum(shop_people.values()) if shop_people else None, true_conversion),
        "shop_conversion_mean_abs_error": mean_abs_error(per_shop, true_per_shop),
        "shops_scored": len(per_shop),
        "sales_per_visitor": scored(net / visitors if visitors else None, true_per_person),
        "sales_per_person": scored(net / estimated if estimated else None, true_per_person),
    }


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def label(run: dict[str, Any]) -> str:
    """A run's radio setting and layout density, as the tables name it."""
    density = {"shop": "one probe per shop"}.get(run["density"], f"a probe every {run['density'][:-1]} m")
    return f"{run['exponent']} / {run['shadowing_db']:g} dB, {density}"


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| radio (exponent / shadowing), layout | mall visitors | shop visitors (sum; per shop) "
        "| walk-bys (sum; per shop) "
        "| people (all; each mall-day) | shop people (sum; per shop; shop-days within 15 %) "
        "| position error p50 / p90 | zone accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        s = run["scores"]
        per_mall = ", ".join(percent(e) for _, e in sorted(s["people_per_mall"].items()))
        lines.append(
            f"| {label(run)} | {percent(s['mall_visitors'][2])} "
            f"| {percent(s['shop_visitors'][2])}; {s['shop_visitors_mean_abs_error'] or 0:.1%} "
            f"| {percent(s['walk_bys'][2])}; {s['walk_bys_mean_abs_error'] or 0:.1%} "
            f"| {percent(s['people'][2])}; {per_mall} "
            f"| {percent(s['shop_people'][2])}; {s['shop_people_mean_abs_error'] or 0:.1%}; "
            f"{s['shop_people_within']:.0%} "
            f"| {s['position_error_p50_m']} / {s['position_error_p90_m']} m | {s['zone_accuracy'] or 0:.1%} |"
        )
    return "\n".join(lines)


def visits_table(runs: list[dict[str, Any]]) -> str:
    """Dwell and journeys against the truth."""
    lines = [
        "| radio, layout | median shop visit (job / truth) | median mall visit (job / truth) "
        "| transitions between shops: precision / recall (job's / truth's) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for run in runs:
        s = run["scores"]
        shop, mall = s["shop_dwell_median_s"], s["mall_dwell_median_s"]
        lines.append(
            f"| {label(run)} | {shop[0]} / {shop[1]} s ({percent(shop[2])}) "
            f"| {mall[0]} / {mall[1]} s ({percent(mall[2])}) "
            f"| {s['transition_precision'] or 0:.1%} / {s['transition_recall'] or 0:.1%} "
            f"({s['transitions'][0]} / {s['transitions'][1]}) |"
        )
    return "\n".join(lines)


def sales_table(runs: list[dict[str, Any]]) -> str:
    """The sales figures: each error against the simulator's truth (purchases over
    everyone who stayed a shop's dwell, net sales over everyone who came in)."""
    lines = [
        "| radio | transactions counted (unsent: till offline) | conversion of visitors | conversion of estimated "
        "people (per shop) | sales per visitor | sales per estimated person |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        for name, s in (("", run["scores"]), *((f", {m}", p) for m, p in run["scores"].get("per_mall", {}).items())):
            lines.append(sales_row(f"{label(run)}{name}", s))
    return "\n".join(lines)


def sales_row(label: str, s: dict[str, Any]) -> str:
    return (f"| {label} | {percent(s['transactions'][2])} "
            f"({s['unsent_transactions']} unsent) | {percent(s['conversion_of_visitors'][2])} "
            f"| {percent(s['conversion_of_people'][2])} ({s['shop_conversion_mean_abs_error'] or 0:.1%} over "
            f"{s['shops_scored']} shops) | {percent(s['sales_per_visitor'][2])} "
            f"| {percent(s['sales_per_person'][2])} |")


def report(runs: list[dict[str, Any]], when: str, machine: str, options: str) -> str:
    """The report in Markdown: its tables and what they compare."""
    return (f"# Accuracy against the simulator's truth\n\n{when} on {machine}: `python -m bench.accuracy "
            f"{options}`, one simulated day per radio setting and layout.\n\n{table(runs)}\n\n"
            f"Dwell and journeys against the truth (design §4 items 6, 11 and 12): visits of at least the minimum "
            f"dwell (shop 2 min, mall 5 min), the visitors' stable phones; transitions per device.\n\n"
            f"{visits_table(runs)}\n\n"
            f"Sales against the truth (design §4 item 18): the truth's conversion is purchases over everyone who "
            f"stayed a shop's dwell, its sales per visitor net sales over everyone who came in; the job's visitors "
            f"are phones with a stable MAC, fewer than the people, so its per-visitor figures run high and its "
            f"per-estimated-person ones are the comparable figures.\n\n{sales_table(runs)}\n")


def densities(text: str) -> tuple[str, ...]:
    """'20m,15m' -> ('20m', '15m'), each a density of the built-in malls."""
    chosen = tuple(part for part in text.split(",") if part)
    for density in chosen:
        if density not in LAYOUT_DENSITIES:
            raise argparse.ArgumentTypeError(f"--densities {density!r}: one of {', '.join(LAYOUT_DENSITIES)}")
    return chosen


def radio_settings(text: str) -> tuple[tuple[float, float], ...]:
    """'2.7/6,2.2/4' -> ((2.7, 6.0), (2.2, 4.0)), each checked by the simulator's model."""
    settings = []
    for part in text.split(","):
        try:
            exponent, shadowing = (float(v) for v in part.split("/"))
            RadioModel(exponent=exponent, shadowing=shadowing)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"--radio {part!r}: {err}") from None
        settings.append((exponent, shadowing))
    return tuple(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--malls", type=int, default=2, choices=range(1, len(MALL_INDEXES) + 1),
                        help="malls per run (default 2)")
    parser.add_argument("--visitors-per-day", type=int, default=1000, help="per mall (default 1000)")
    parser.add_argument("--radio", type=radio_settings, default=RADIO,
                        help="exponent/shadowing pairs, comma separated (default: five across the ranges)")
    parser.add_argument("--densities", type=densities, default=DENSITIES,
                        help="denser layouts run at the default radio, comma separated (default 20m,15m; "
                             "'' for none)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where accuracy.md and .json go")
    args = parser.parse_args(argv)
    if args.visitors_per_day < 1:
        parser.error("--visitors-per-day must be at least 1")
    plan = [(radio, "shop") for radio in args.radio] + [(DEFAULT_RADIO, d) for d in args.densities]
    runs = []
    try:
        for (exponent, shadowing), density in plan:
            malls = tuple(standalone_mall(index, f"bench-accuracy-{n + 1}", density)
                          for n, index in enumerate(MALL_INDEXES[:args.malls]))
            with own_mall(malls, TABLES) as (settings, var_dir):
                truth_path, day = var_dir / "truth.jsonl", unused_past_day()
                records = whole_days(malls, day, 1, Behaviour(visitors_per_day=args.visitors_per_day), truth_path,
                                     seed=17, radio=RadioModel(exponent=exponent, shadowing=shadowing))
                truth = read_truth(truth_path)
                with job_over(settings, records):
                    outputs = wait_for_outputs(settings, [m.mall_id for m in malls], day)
            run = {"exponent": exponent, "shadowing_db": shadowing, "density": density, "records": len(records),
                   "scores": score(outputs, truth)}
            print(json.dumps(run), flush=True)
            runs.append(run)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = report(runs, when, machine, f"--malls {args.malls} --visitors-per-day {args.visitors_per_day}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "accuracy.md").write_text(text)
    (args.out / "accuracy.json").write_text(json.dumps({"when": when, "machine": machine, "runs": runs}, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
