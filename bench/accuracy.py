"""Accuracy against the simulator's ground truth, across radio settings (`make accuracy`).

    python -m bench.accuracy [--malls 2] [--visitors-per-day 1000] [--radio 2.7/6,2.2/4,...]

For each radio setting (path-loss exponent / shadowing in dB; the simulator allows
2.2-3.0 and 4-8 dB), a metrics job of its own (bench.ownjob: own topics, group, REST
port, checkpoints) reads one whole simulated day of `--malls` malls of its own, with
street passers-by, window shoppers, staff, randomised and phoneless visitors and no
faults. The job's estimator is the same for every setting: it is never told the
simulator's radio. Then the report compares what the job wrote with what happened:

- mall visitors: `mall_daily.visitors` against the people with a stable-MAC phone who
  came in, staff left out (phones: what the job can count);
- shop visitors: `shop_daily.visitors` against the stable-MAC people who stayed a shop's
  minimum dwell, summed over the shops, and the mean absolute error per shop;
- estimated people: `people_daily.estimated_people` against everyone who came in, and
  `shop_people_daily.estimated_people` against everyone who stayed a shop's dwell
  (design §4 item 15);
- positions: every second the job placed a visitor matched with where the simulator put
  that phone at that probe request: the median and 90th-percentile error in metres and the
  share of seconds in the right zone;
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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.ownjob import SALT, job_over, own_mall, settled, whole_days
from bench.stats import error, mean_abs_error, percentile
from footfall import clients
from footfall.settings import ConfigError, Settings
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
#: A shop's conversion is scored only where this many people stayed its dwell.
SHOP_MIN_PEOPLE = 20


def read_truth(path: Path) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, int], tuple[float, float, str]]]:
    """The summaries per mall, and where each phone was at each probe request: (device id,
    second) -> (x, y, zone)."""
    summaries: dict[str, dict[str, Any]] = {}
    where: dict[tuple[str, int], tuple[float, float, str]] = {}
    with path.open() as lines:
        for line in lines:
            row = json.loads(line)
            if row["type"] == "summary":
                summaries[row["mall_id"]] = row
            elif row["type"] == "position":
                where.setdefault((device_id(SALT, row["mac"]), int(row["t"])), (row["x"], row["y"], row["zone"]))
    return summaries, where


def wait_for_outputs(settings: Settings, mall_ids: list[str], day: date,
                     timeout: float = 900) -> dict[str, list[tuple[Any, ...]]]:
    """What the job wrote for the malls' `day`, once it has stopped changing for 20 s.
    (The closing reports make a next day of their own, with nobody in it.)"""
    where = "mall_id IN %(m)s AND day = %(d)s"
    queries = {
        "mall": f"SELECT mall_id, visitors FROM mall_daily FINAL WHERE {where}",
        "shops": f"SELECT mall_id, shop_code, visitors FROM shop_daily FINAL WHERE {where}",
        "people": f"SELECT mall_id, estimated_people FROM people_daily WHERE {where}",
        "shop_people": f"SELECT mall_id, shop_code, estimated_people FROM shop_people_daily WHERE {where}",
        "positions": "SELECT device_id, toUnixTimestamp(ts), x, y, zone FROM positions WHERE mall_id IN %(m)s",
        "sales": f"SELECT mall_id, shop_code, sum(transactions), sum(sales_minor) FROM sales_hourly FINAL "
                 f"WHERE {where} GROUP BY mall_id, shop_code",
    }
    client = clients.clickhouse(settings.clickhouse)
    try:
        last = settled(lambda: {name: sorted(client.execute(query, {"m": tuple(mall_ids), "d": day}), key=repr)
                                for name, query in queries.items()},
                       lambda now: {row[0] for row in now["mall"]} == set(mall_ids), timeout)
        return last or {name: [] for name in queries}
    finally:
        client.disconnect()


def score(outputs: dict[str, list[tuple[Any, ...]]], summaries: dict[str, dict[str, Any]],
          where: dict[tuple[str, int], tuple[float, float, str]]) -> dict[str, Any]:
    """Every figure of the report for one run, over all its malls."""
    visitors = sum(v for _, v in outputs["mall"])
    people = [p for _, p in outputs["people"]]
    shops = {(m, s): v for m, s, v in outputs["shops"]}
    shop_people = {(m, s): p for m, s, p in outputs["shop_people"] if p is not None}
    true_shops = {(m, s): n for m, t in summaries.items() for s, n in t["shop_dwell_visitors"].items()}
    true_shop_people = {(m, s): n for m, t in summaries.items() for s, n in t["shop_dwell_people"].items()}
    true_visitors = sum(t["visitors"] for t in summaries.values())
    true_people = sum(t["people"] for t in summaries.values())
    errors, zone_hits = [], 0
    for device, second, x, y, zone in outputs["positions"]:
        truth = where.get((device, second))
        if truth is not None:
            errors.append(math.hypot(x - truth[0], y - truth[1]))
            zone_hits += zone == truth[2]
    errors.sort()
    return {
        "mall_visitors": [visitors, true_visitors, error(visitors, true_visitors)],
        "shop_visitors": [sum(shops.values()), sum(true_shops.values()),
                          error(sum(shops.values()), sum(true_shops.values()))],
        "shop_visitors_mean_abs_error": mean_abs_error(shops, true_shops),
        "people": [None if None in people else sum(people), true_people,
                   None if None in people else error(sum(people), true_people)],
        "shop_people": [sum(shop_people.values()), sum(true_shop_people.values()),
                        error(sum(shop_people.values()), sum(true_shop_people.values()))],
        "shop_people_mean_abs_error": mean_abs_error(shop_people, true_shop_people),
        "positions_matched": len(errors),
        "position_error_p50_m": round(statistics.median(errors), 2) if errors else None,
        "position_error_p90_m": round(percentile(errors, 0.9), 2) if errors else None,
        "zone_accuracy": round(zone_hits / len(errors), 4) if errors else None,
        **sales_scores(outputs, summaries),
    }


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


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| radio (exponent / shadowing) | mall visitors | shop visitors (sum; per shop) | people (estimated) "
        "| shop people (sum; per shop) | position error p50 / p90 | zone accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        s = run["scores"]
        lines.append(
            f"| {run['exponent']} / {run['shadowing_db']:g} dB | {percent(s['mall_visitors'][2])} "
            f"| {percent(s['shop_visitors'][2])}; {s['shop_visitors_mean_abs_error'] or 0:.1%} "
            f"| {percent(s['people'][2])} | {percent(s['shop_people'][2])}; {s['shop_people_mean_abs_error'] or 0:.1%} "
            f"| {s['position_error_p50_m']} / {s['position_error_p90_m']} m | {s['zone_accuracy'] or 0:.1%} |"
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
        for label, s in (("", run["scores"]), *((f", {m}", p) for m, p in run["scores"].get("per_mall", {}).items())):
            lines.append(sales_row(f"{run['exponent']} / {run['shadowing_db']:g} dB{label}", s))
    return "\n".join(lines)


def sales_row(label: str, s: dict[str, Any]) -> str:
    return (f"| {label} | {percent(s['transactions'][2])} "
            f"({s['unsent_transactions']} unsent) | {percent(s['conversion_of_visitors'][2])} "
            f"| {percent(s['conversion_of_people'][2])} ({s['shop_conversion_mean_abs_error'] or 0:.1%} over "
            f"{s['shops_scored']} shops) | {percent(s['sales_per_visitor'][2])} "
            f"| {percent(s['sales_per_person'][2])} |")


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
    parser.add_argument("--out", type=Path, default=RESULTS, help="where accuracy.md and .json go")
    args = parser.parse_args(argv)
    if args.visitors_per_day < 1:
        parser.error("--visitors-per-day must be at least 1")
    malls = tuple(standalone_mall(index, f"bench-accuracy-{n + 1}")
                  for n, index in enumerate(MALL_INDEXES[:args.malls]))
    runs = []
    try:
        for exponent, shadowing in args.radio:
            with own_mall(malls, TABLES) as (settings, var_dir):
                truth_path, day = var_dir / "truth.jsonl", unused_past_day()
                records = whole_days(malls, day, 1, Behaviour(visitors_per_day=args.visitors_per_day), truth_path,
                                     seed=17, radio=RadioModel(exponent=exponent, shadowing=shadowing))
                summaries, where = read_truth(truth_path)
                with job_over(settings, records):
                    outputs = wait_for_outputs(settings, [m.mall_id for m in malls], day)
            run = {"exponent": exponent, "shadowing_db": shadowing, "records": len(records),
                   "scores": score(outputs, summaries, where)}
            print(json.dumps(run), flush=True)
            runs.append(run)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (f"# Accuracy against the simulator's truth\n\n{when} on {machine}: `python -m bench.accuracy "
              f"--malls {args.malls} --visitors-per-day {args.visitors_per_day}`, one simulated day per radio "
              f"setting.\n\n{table(runs)}\n\nSales against the truth (design §4 item 18): the truth's conversion "
              f"is purchases over everyone who stayed a shop's dwell, its sales per visitor net sales over everyone "
              f"who came in; the job's visitors are phones with a stable MAC, fewer than the people, so its "
              f"per-visitor figures run high and its per-estimated-person ones are the comparable figures.\n\n"
              f"{sales_table(runs)}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "accuracy.md").write_text(report)
    (args.out / "accuracy.json").write_text(json.dumps({"when": when, "machine": machine, "runs": runs}, indent=1))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
