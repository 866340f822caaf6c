"""A file of till transactions (CSV), read and checked row by row into pos-transactions
messages (docs/design.md §3): what `footfall pos import` publishes for tenants who cannot
stream. Every row is checked before anything is sent, so a file is imported whole or not
at all; each error names its line and field.

Columns (a header row, in any order): transaction_id, mall_id, shop_code, occur_time,
amount_minor, currency, items, and optionally till_id. occur_time is epoch milliseconds or
an ISO 8601 time with its UTC offset (2026-12-05T14:03:00+01:00): a time without one
could be any of the world's. No network, no database: the layout check is the caller's."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REQUIRED = ("transaction_id", "mall_id", "shop_code", "occur_time", "amount_minor", "currency", "items")
OPTIONAL = ("till_id",)
CURRENCY = re.compile(r"[A-Z]{3}")
WHOLE = re.compile(r"-?[0-9]{1,15}")


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.problem}"


@dataclass(frozen=True)
class Transaction:
    """One checked row, as the pos-transactions message it becomes."""

    line: int
    message: dict[str, object]

    @property
    def text(self) -> bytes:
        return json.dumps(self.message, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def occur_ms(self) -> int:
        return int(str(self.message["occur_time"]))

    @property
    def key(self) -> bytes:
        """The till's shop: a shop's transactions stay in one partition, in the file's order."""
        return f"{self.message['mall_id']}/{self.message['shop_code']}".encode()


def epoch_ms(text: str) -> int:
    """occur_time as epoch milliseconds (ValueError with why otherwise)."""
    if WHOLE.fullmatch(text):
        value = int(text)
        if value < 0:
            raise ValueError("a time before 1970")
        return value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither epoch milliseconds nor an ISO 8601 time") from None
    if when.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset (write it as 2026-12-05T14:03:00+01:00)")
    return round(when.timestamp() * 1000)


def _row(line: int, row: Mapping[str, str | None]) -> Transaction | RowError:
    values = {name: (row.get(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not values[name]:
            return RowError(line, name, "empty")
    try:
        occur = epoch_ms(values["occur_time"])
    except ValueError as err:
        return RowError(line, "occur_time", str(err))
    if not WHOLE.fullmatch(values["amount_minor"]):
        return RowError(line, "amount_minor", f"{values['amount_minor']!r} is not a whole number of minor units "
                                              "(cents: 1250 for 12.50)")
    amount = int(values["amount_minor"])
    if amount == 0:
        return RowError(line, "amount_minor", "0: a sale is positive, a refund negative")
    if not CURRENCY.fullmatch(values["currency"]):
        return RowError(line, "currency", f"{values['currency']!r} is not an ISO 4217 code such as EUR")
    if not values["items"].isdigit() or len(values["items"]) > 9:
        return RowError(line, "items", f"{values['items']!r} is not a whole number of items, 0 or more")
    message: dict[str, object] = {
        "transaction_id": values["transaction_id"], "mall_id": values["mall_id"], "shop_code": values["shop_code"],
        "occur_time": occur, "amount_minor": amount, "currency": values["currency"], "items": int(values["items"]),
    }
    if values["till_id"]:
        message["till_id"] = values["till_id"]
    return Transaction(line, message)


def read(path: Path) -> tuple[list[Transaction], list[RowError], int]:
    """Every row of the file, checked: (transactions, errors, repeats). A missing column is
    one error on line 1. A row repeating an earlier one's transaction_id (of the same mall)
    is left out and counted in `repeats` when it says the same, and is an error on its line
    when it does not: the job would keep only the first."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or ())]
        if missing:
            return [], [RowError(1, ", ".join(missing), "missing from the header row")], 0
        good: list[Transaction] = []
        errors: list[RowError] = []
        seen: dict[tuple[str, str], Transaction] = {}
        repeats = 0
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append(RowError(line, "(row)", "more values than the header has columns"))
                continue
            checked = _row(line, row)
            if isinstance(checked, RowError):
                errors.append(checked)
                continue
            key = (str(checked.message["mall_id"]), str(checked.message["transaction_id"]))
            if key in seen:
                if seen[key].message == checked.message:
                    repeats += 1
                else:
                    errors.append(RowError(line, "transaction_id",
                                           f"{key[1]!r} is on line {seen[key].line} already, with other values"))
                continue
            seen[key] = checked
            good.append(checked)
    return good, errors, repeats


def against_layout(transactions: Iterable[Transaction], currencies: Mapping[str, str],
                   shops: set[tuple[str, str]]) -> list[RowError]:
    """What the job would turn away by the layout: an unknown mall or shop, a currency not
    the mall's (`currencies`: mall_id -> currency; `shops`: (mall_id, shop_code))."""
    errors = []
    for t in transactions:
        mall, shop, currency = (str(t.message[k]) for k in ("mall_id", "shop_code", "currency"))
        if mall not in currencies:
            errors.append(RowError(t.line, "mall_id", f"{mall!r} is not a mall of the layout"))
        elif (mall, shop) not in shops:
            errors.append(RowError(t.line, "shop_code", f"{shop!r} is not a shop of {mall}"))
        elif currency != currencies[mall]:
            errors.append(RowError(t.line, "currency", f"{currency}, but {mall}'s tills report in {currencies[mall]}"))
    return errors
