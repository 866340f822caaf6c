"""`footfall pos import FILE.csv`: a file of till transactions, checked whole (its rows,
then against the layout in PostgreSQL), then published to the pos-transactions topic
(footfall/pos_file.py says the columns). Nothing is sent from a file with a bad row; a
file sent again counts once, as the job counts each transaction_id of a mall once."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from footfall import clients, pos_file
from footfall.settings import Settings, Topics
from simulators.publish import KafkaSink
from simulators.records import Record

#: Errors listed before the rest are only counted.
SHOWN_ERRORS = 20


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("pos", help="till transactions: import a CSV file of them")
    parser.add_argument("action", choices=("import",), help="import: check a CSV file whole, then publish it")
    parser.add_argument("file", type=Path, help="the CSV file (columns: " + ", ".join(
        pos_file.REQUIRED) + ", and optionally till_id)")
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    transactions, errors, repeats = pos_file.read(path)
    if not errors:
        errors = pos_file.against_layout(transactions, *layout(settings))
    if errors:
        for error in errors[:SHOWN_ERRORS]:
            print(f"{path}: {error}", file=sys.stderr)
        more = f" ({len(errors) - SHOWN_ERRORS} more not shown)" if len(errors) > SHOWN_ERRORS else ""
        raise ValueError(f"{path}: {len(errors)} bad row{'s' if len(errors) != 1 else ''}{more}; "
                         "nothing was imported")
    if not transactions:
        raise ValueError(f"{path}: no transaction in the file")
    old = stale(transactions, settings.job.allowed_lateness_seconds)
    if old:
        # Not refused: the job judges lateness against the newest transaction read from the
        # same partition, not this clock, so an old file into quiet partitions still counts.
        print(f"{path}: warning: {old} transaction{'s are' if old != 1 else ' is'} more than the allowed "
              f"lateness ({settings.job.allowed_lateness_seconds} s) old; the job turns them away as 'late' "
              "(dead letters) if newer transactions have been read from their partition", file=sys.stderr)
    sink = KafkaSink(settings.kafka)
    sent = 0
    try:
        for t in transactions:
            sink.send(Record(Topics.POS_TRANSACTIONS, t.key, t.text, 0.0, "pos"))
            sent += 1
    finally:
        try:
            sink.close()
        except RuntimeError as err:  # undelivered: the broker is down or refused them
            raise ConnectionError(f"{err} of {sent} from {path}; import the file again once Kafka answers: a "
                                  "transaction sent twice counts once") from err
    malls = Counter(str(t.message["mall_id"]) for t in transactions)
    print(f"imported {len(transactions)} transaction{'s' if len(transactions) != 1 else ''} from {path} to "
          f"{settings.kafka.pos_transactions_topic} ({', '.join(f'{m}: {n}' for m, n in sorted(malls.items()))})"
          + (f"; {repeats} repeated row{'s' if repeats != 1 else ''} left out" if repeats else ""))
    return 0


def stale(transactions: list[pos_file.Transaction], lateness_seconds: int) -> int:
    """How many transactions are older than the allowed lateness by this machine's clock."""
    cutoff = (time.time() - lateness_seconds) * 1000
    return sum(1 for t in transactions if t.occur_ms <= cutoff)


def layout(settings: Settings) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """The malls' currencies and the shops, from PostgreSQL."""
    schema = settings.postgres.schema_name
    with clients.postgres(settings.postgres, autocommit=True) as conn:
        currencies: dict[str, str] = dict(conn.execute(f'SELECT mall_id, currency FROM "{schema}".malls').fetchall())
        shops = {(m, s) for m, s in conn.execute(f'SELECT mall_id, shop_code FROM "{schema}".shops').fetchall()}
    return currencies, shops
