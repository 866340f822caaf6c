"""`footfall privacy`: a data-protection officer's requests (docs/privacy.md), each logged
in privacy_requests by device id: opt a device out of tracking and back in, record or
withdraw its consent to the favourite-shop feed, export what is held about it, erase it,
enforce the retention now, or serve the public page that lets shoppers opt out
themselves. A MAC given is hashed as the job hashes it and never kept."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from footfall import consent, erasure, retention
from footfall.settings import Settings
from udfs.identity import DeviceQueryError, device_for

#: What the command says a choice (footfall/consent.py CHOICES) did.
SAID = {
    "opt-out": "opted out: the job drops its reports from its next layout reload",
    "opt-in": "opted in again: the job counts its reports from its next layout reload",
    "consent": "consents to the favourite-shop feed",
    "withdraw": "no longer consents to the favourite-shop feed",
}
ACTIONS = (*consent.CHOICES, "export", "erase", "enforce", "requests", "serve")


def add_parser(commands: Any) -> None:
    privacy = commands.add_parser(
        "privacy", help="opt-out, feed consent, access and erasure requests, retention (docs/privacy.md)")
    privacy.add_argument("action", choices=ACTIONS, help="what to do, every request logged by device id; serve: "
                                                          "the public opt-out and consent page in the foreground")
    who = privacy.add_mutually_exclusive_group()
    who.add_argument("--mac", help="the phone's MAC (hashed as the job hashes it; never stored)")
    who.add_argument("--device-id", help="the device id, as the outputs show it")
    privacy.add_argument("--out", help="export: write the JSON document to this file (default: standard output)")
    privacy.set_defaults(run=run)


def _device(settings: Settings, args: argparse.Namespace) -> str:
    given = args.mac or args.device_id
    if not given:
        raise ValueError(f"privacy {args.action}: give --mac or --device-id")
    try:
        return device_for(given, settings, make_salt=True)
    except DeviceQueryError as err:
        raise ValueError(f"privacy {args.action}: {err}") from None


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "serve":
        from ops.privacy_page import serve

        serve(settings)
        return 0
    if args.action == "enforce":
        removed = retention.enforce(settings)
        for name, days, _ in retention.oldest_days(settings):
            print(f"{name:<15} kept {days} days")
        print("removed: " + (", ".join(f"{table} {rows:,} rows" for table, rows in removed.items()) or "nothing"))
        return 0
    if args.action == "requests":
        device = _device(settings, args) if (args.mac or args.device_id) else None
        for at, kind, device_id, rows in consent.requests(settings.postgres, device):
            print(f"{at:%Y-%m-%d %H:%M:%S%z}  {kind:<8} {device_id}  {json.dumps(rows)}")
        return 0
    device = _device(settings, args)
    if args.action in consent.CHOICES:
        changed = consent.choose(settings.postgres, args.action, device)
        print(f"{device} {SAID[args.action]}" + ("" if changed else " (it already was)"))
        return 0
    if args.action == "export":
        held = erasure.holdings(settings, device)
        consent.record(settings.postgres, "export", device, {where: len(rows) for where, rows in held.items()})
        document = json.dumps({"device_id": device, "held": held}, indent=2, ensure_ascii=False)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                out.write(document + "\n")
            print(f"{device}: {sum(len(r) for r in held.values())} rows from {len(held)} places written to {args.out}")
        else:
            sys.stdout.write(document + "\n")
        return 0
    removed = erasure.erase(settings, device)
    consent.record(settings.postgres, "erase", device, removed)
    print(f"{device} erased: " + ", ".join(f"{where} {rows}" for where, rows in removed.items()))
    return 0
