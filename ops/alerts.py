"""`footfall alerts`: the alerts an operator works with (footfall/alerts.py): list the
open ones (or every one), acknowledge one, show or change a mall's rules and
capacities, register a webhook, and evaluate and deliver now."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from footfall import alerts, clients, webhooks
from footfall.settings import Settings

ACTIONS = ("list", "ack", "rules", "capacity", "webhook", "evaluate")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("alerts", help="alerts: list, acknowledge, rules, capacities, webhooks, evaluate now")
    parser.add_argument("action", choices=ACTIONS,
                        help="list: open alerts (--all: every one); ack --id ID; rules [--mall]; capacity --mall M "
                             "[--shop S] --people N; webhook --url URL [--secret S] [--rule R ...] [--severity]; "
                             "evaluate")
    parser.add_argument("--id", help="ack: the alert id (footfall alerts list shows them)")
    parser.add_argument("--people", type=int, help="capacity: the most people the mall or shop may hold")
    parser.add_argument("--all", action="store_true", help="list: resolved and quiet alerts too")
    parser.add_argument("--mall", help="a mall id")
    parser.add_argument("--shop", help="capacity: a shop code (default: the mall)")
    parser.add_argument("--url", help="webhook: where to POST")
    parser.add_argument("--secret", help="webhook: the HMAC-SHA256 key (default: a new random one, printed)")
    parser.add_argument("--rule", action="append", choices=alerts.RULES, help="webhook: only these rules")
    parser.add_argument("--severity", choices=alerts.SEVERITIES, default="warning", help="webhook: at least this")
    parser.add_argument("--by", default="", help="ack: who acknowledges")
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    schema = settings.postgres.schema_name
    if args.action == "evaluate":
        for event in alerts.evaluate(settings, mall_id=args.mall):
            print(f"{event['kind']:<9} {event['alert_id']} {event['severity']} value {event['value']:g} "
                  f"threshold {event['threshold']:g}")
        print(f"deliveries: {webhooks.deliver(settings)}")
        return 0
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        if args.action == "list":
            rows = conn.execute(
                f'SELECT alert_id, status, severity, opened_at, resolved_at, value, threshold, acked_at '
                f'FROM "{schema}".alerts WHERE (%s OR status = %s) AND (%s::text IS NULL OR mall_id = %s) '
                "ORDER BY opened_at DESC NULLS LAST, alert_id", (args.all, "open", args.mall, args.mall)).fetchall()
            for alert_id, status, severity, opened, resolved, value, threshold, acked in rows:
                print(f"{alert_id:<40} {status:<7} {severity or '-':<8} opened {opened or '-'} "
                      f"resolved {resolved or '-'} value {value or 0:g} / {threshold or 0:g}"
                      + (f" acked {acked}" if acked else ""))
            if not rows:
                print("no open alerts" if not args.all else "no alerts")
            return 0
        if args.action == "ack":
            if not args.id:
                raise ValueError("alerts ack: give --id (footfall alerts list shows the ids)")
            if not alerts.acknowledge(conn, schema, args.id, args.by):
                raise ValueError(f"alerts ack: no open alert {args.id!r}")
            print(f"acknowledged {args.id}")
            return 0
        if args.action == "rules":
            for rule in alerts.rules(conn, schema, args.mall):
                print(f"{rule.alert_id:<40} warning {rule.warning} critical {rule.critical} clear {rule.clear} "
                      f"hold {rule.hold_seconds} s min {rule.min_size}")
            return 0
        if args.action == "capacity":
            if not args.mall or args.people is None or args.people < 1:
                raise ValueError("alerts capacity: give --mall M [--shop S] --people N (N above 0)")
            table, where = ("shops", "mall_id = %s AND shop_code = %s") if args.shop else ("malls", "mall_id = %s")
            keys = (args.mall, args.shop) if args.shop else (args.mall,)
            done = conn.execute(f'UPDATE "{schema}".{table} SET capacity = %s WHERE {where}', (args.people, *keys))
            if not done.rowcount:
                raise ValueError(f"alerts capacity: no {'shop ' + args.shop + ' in ' if args.shop else ''}"
                                 f"mall {args.mall!r}")
            if args.shop:  # a shop's occupancy rule comes with its capacity
                conn.execute(f'INSERT INTO "{schema}".alert_rules (mall_id, rule, subject, warning, critical, clear, '
                             "hold_seconds) SELECT mall_id, rule, %s, warning, critical, clear, hold_seconds "
                             f'FROM "{schema}".alert_rules WHERE mall_id = %s AND rule = %s AND subject = %s '
                             "ON CONFLICT DO NOTHING", (args.shop, args.mall, "occupancy", ""))
            print(f"capacity of {args.shop or args.mall}: {args.people:,} people")
            return 0
        if not args.url or not args.url.startswith(("http://", "https://")):
            raise ValueError("alerts webhook: give --url http(s)://...")
        secret = args.secret or secrets.token_hex(32)
        conn.execute(f'INSERT INTO "{schema}".webhooks (url, secret, rules, min_severity) VALUES (%s, %s, %s, %s) '
                     "ON CONFLICT (url) DO UPDATE SET secret = EXCLUDED.secret, rules = EXCLUDED.rules, "
                     "min_severity = EXCLUDED.min_severity", (args.url, secret, args.rule, args.severity))
        print(f"webhook {args.url}: rules {', '.join(args.rule) if args.rule else 'all'}, {args.severity} and above"
              + ("" if args.secret else f"; its secret (sign checks with it): {secret}"))
        return 0
