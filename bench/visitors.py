"""Visitor accuracy: the job's visitors, passers-by and walk-bys against the simulator's
ground truth.

    python -m bench.visitors [--days 1] [--visitors-per-day 1500]

Runs a metrics job of its own (own topics, consumer group, REST port, checkpoints and a
temporary var folder, as bench.positions does) over whole simulated days of a mall of its
own (`bench-visitors`), street passers-by and staff included, with no faults. Then, per
day, it compares what the job wrote to ClickHouse with what the simulator knows happened,
counting phones with a stable MAC (the job cannot count others):

- mall visitors: `mall_daily.visitors` against the people with such a phone who came in,
  staff left out (the job counts staff as visitors until it has detected them);
- passers-by: `mall_daily.passers_by` against the street passers-by with such a phone;
- devices seen: against both together;
- shop visitors: `shop_daily.visitors` against the people who stayed in each shop at
  least the minimum dwell (two minutes), summed over shops, and the mean absolute error
  per shop;
- walk-bys: `shop_daily.walk_bys` against the people who walked past each shop's door, or
  stepped in for less than the dwell, and were not its visitors that day;
- conversion: walk-ins / (walk-ins + walk-bys) over all shops, the job's against the
  truth's;
- people (estimates, design §4 item 15): `people_daily.estimated_people` against everyone
  who came in (any phone or none, staff included, as the door counters count them), and
  `shop_people_daily.estimated_people` against everyone who stayed a shop's minimum dwell
  (staff left out), summed over shops and as the mean absolute error per shop;
- staff: `mall_daily.staff_devices` against the simulator's staff with such a phone, and
  for all days, the staff the job detected (`staff_detected`) against them: found, missed,
  and devices taken for staff that were not.

Prints one JSON object per day and one for all days, errors as fractions of the truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

from bench.ownjob import SALT, job_over, own_mall, settled, whole_days
from bench.stats import error, mean_abs_error
from footfall import clients
from footfall.settings import ConfigError, Settings
from simulators.layout import standalone_mall
from simulators.shoppers import Behaviour
from simulators.source import unused_past_day
from udfs.identity import device_id

MALL_ID, MALL_INDEX = "bench-visitors", 248


def wait_for_days(settings: Settings, days: set[str], timeout: float = 900) -> dict[str, dict[str, Any]]:
    """mall_daily and shop_daily of `days`, once they have stopped changing for 20 s."""
    client = clients.clickhouse(settings.clickhouse)

    def read() -> tuple[list[tuple[Any, ...]], ...]:
        mall = client.execute("SELECT toString(day), visitors, devices_seen, passers_by, staff_devices "
                              "FROM mall_daily FINAL WHERE mall_id = %(m)s", {"m": MALL_ID})
        shops = client.execute("SELECT toString(day), shop_code, visitors, walk_bys FROM shop_daily FINAL "
                               "WHERE mall_id = %(m)s", {"m": MALL_ID})
        people = client.execute("SELECT toString(day), estimated_people FROM people_daily WHERE mall_id = %(m)s",
                                {"m": MALL_ID})
        shop_people = client.execute("SELECT toString(day), shop_code, estimated_people FROM shop_people_daily "
                                     "WHERE mall_id = %(m)s", {"m": MALL_ID})
        return sorted(mall), sorted(shops), sorted(people, key=repr), sorted(shop_people, key=repr)

    last = settled(read, lambda now: days <= {row[0] for row in now[0]}, timeout)
    if last is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for day, visitors, seen, passers, staff in last[0]:
        out[day] = {"visitors": visitors, "devices_seen": seen, "passers_by": passers, "staff": staff, "shops": {}}
    for day, shop, visitors, walk_bys in last[1]:
        out.setdefault(day, {"shops": {}})["shops"][shop] = (visitors, walk_bys)
    for day, estimate in last[2]:
        out.setdefault(day, {"shops": {}})["people"] = estimate
    for day, shop, estimate in last[3]:
        out.setdefault(day, {"shops": {}}).setdefault("shop_people", {})[shop] = estimate
    return out


def conversion(walk_ins: int, walk_bys: int) -> float | None:
    return round(walk_ins / (walk_ins + walk_bys), 4) if walk_ins + walk_bys else None


def compare(day: str, job: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    shops = sorted(set(job.get("shops", {})) | set(truth["shop_dwell_visitors"]) | set(truth["shop_walk_bys"]))
    got_in = {s: job.get("shops", {}).get(s, (0, 0))[0] for s in shops}
    got_by = {s: job.get("shops", {}).get(s, (0, 0))[1] for s in shops}
    true_in = {s: truth["shop_dwell_visitors"].get(s, 0) for s in shops}
    true_by = {s: truth["shop_walk_bys"].get(s, 0) for s in shops}
    heard = truth["visitors"] + truth["street_passers"] + truth["staff"]
    row: dict[str, Any] = {
        "day": day,
        "mall_visitors": [job.get("visitors", 0), truth["visitors"], error(job.get("visitors", 0), truth["visitors"])],
        "passers_by": [job.get("passers_by", 0), truth["street_passers"],
                       error(job.get("passers_by", 0), truth["street_passers"])],
        "devices_seen": [job.get("devices_seen", 0), heard, error(job.get("devices_seen", 0), heard)],
        "shop_visitors": [sum(got_in.values()), sum(true_in.values()),
                          error(sum(got_in.values()), sum(true_in.values()))],
        "shop_visitors_mean_abs_error": mean_abs_error(got_in, true_in),
        "walk_bys": [sum(got_by.values()), sum(true_by.values()), error(sum(got_by.values()), sum(true_by.values()))],
        # Conversion over all shops: walk-ins / (walk-ins + walk-bys).
        "conversion": [conversion(sum(got_in.values()), sum(got_by.values())),
                       conversion(sum(true_in.values()), sum(true_by.values()))],
        "staff": [job.get("staff", 0), truth["staff"]],
    }
    if "people" in truth:  # estimated people (people_daily, shop_people_daily) against everyone
        estimate, shop_people = job.get("people"), job.get("shop_people", {})
        true_people = truth["shop_dwell_people"]
        got_people = {s: v for s, v in shop_people.items() if v is not None}
        row["people"] = [estimate, truth["people"], error(estimate, truth["people"])]
        row["shop_people"] = [sum(got_people.values()), sum(true_people.values()),
                              error(sum(got_people.values()), sum(true_people.values()))]
        row["shop_people_mean_abs_error"] = mean_abs_error(got_people, true_people)
    return row


def staff_found(settings: Settings, truths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The staff the job detected against the simulator's (stable-MAC) staff."""
    client = clients.clickhouse(settings.clickhouse)
    try:
        detected = dict(client.execute("SELECT device_id, toString(since_day) FROM staff_detected FINAL "
                                       "WHERE mall_id = %(m)s", {"m": MALL_ID}))
    finally:
        client.disconnect()
    true = {device_id(SALT, mac) for truth in truths.values() for mac in truth["staff_macs"]}
    return {"staff_true": len(true), "staff_found": len(true & set(detected)),
            "staff_missed": len(true - set(detected)), "staff_wrongly_detected": len(set(detected) - true),
            "staff_since_days": sorted(set(detected.values()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.visitors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=1, help="simulated days (default 1)")
    parser.add_argument("--visitors-per-day", type=int, default=1500, help="the mall's visitors (default 1500)")
    args = parser.parse_args(argv)
    if args.days < 1 or args.visitors_per_day < 1:
        parser.error("--days and --visitors-per-day must be at least 1")
    mall = standalone_mall(MALL_INDEX, MALL_ID)
    try:
        with own_mall(mall, ("mall_daily", "shop_daily", "staff_detected", "visits")) as (settings, var_dir):
            truth_path = var_dir / "truth.jsonl"
            first = unused_past_day() - timedelta(days=args.days - 1)
            records = whole_days((mall,), first, args.days, Behaviour(visitors_per_day=args.visitors_per_day),
                                 truth_path, seed=13)
            truths = {row["day"]: row for row in map(json.loads, truth_path.read_text().splitlines())
                      if row["type"] == "summary"}
            with job_over(settings, records):
                got = wait_for_days(settings, set(truths))
                found = staff_found(settings, truths)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = [compare(day, got.get(day, {}), truths[day]) for day in sorted(truths)]
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({"days": len(rows), "records": len(records), "visitors_per_day": args.visitors_per_day,
                      **found}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
