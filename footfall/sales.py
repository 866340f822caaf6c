"""Sales against footfall (docs/design.md §4 item 18): the ratios of a shop's or a mall's
till transactions to its visitors, which hours have no sales data, and money in a mall's
currency. Pure functions: the dashboards (dashboards/sales.py) and the accuracy bench read
the rows and call these.

The ratios (RetailNext's and ShopperTrak's definitions):
- conversion = sales transactions / visitors (refunds are no transaction of the hour's);
- average transaction value = net sales / sales transactions;
- items per transaction = items sold / sales transactions;
- sales per visitor (shopper yield) = net sales / visitors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel.numbers import format_currency, get_currency_precision, get_currency_symbol

#: How far back a till's habit is read: the same local hour over the days before.
LOOKBACK_DAYS = 28
#: An hour is one the till usually reports in when, of the earlier days on which the shop
#: had visitors in that hour (at least MIN_USUAL_DAYS of them), it sent a sale on at least
#: USUAL_SHARE. Then an hour with visitors and no sale is "no sales data" (a till offline,
#: an upload missing), never 0 % conversion: a small shop at 9:00 that rarely sells then
#: keeps its honest zero.
MIN_USUAL_DAYS = 3
USUAL_SHARE = 0.5
#: Money is shown in the language of the pages (English), in each mall's currency.
LOCALE = "en"


@dataclass(frozen=True)
class TillHabit:
    """Per (shop_code, hour): the earlier days with visitors in that hour, and of those the
    days the till sent a sale in it."""

    days: dict[tuple[str, int], int]
    sold: dict[tuple[str, int], int]

    def usual(self, shop_code: str, hour: int) -> bool:
        days = self.days.get((shop_code, hour), 0)
        return days >= MIN_USUAL_DAYS and self.sold.get((shop_code, hour), 0) >= USUAL_SHARE * days


def till_habit(visited: Iterable[tuple[str, object, int]], sold: Iterable[tuple[str, object, int]]) -> TillHabit:
    """The habit from the earlier days' (shop_code, day, hour) with visitors (`visited`) and
    with at least one sale (`sold`)."""
    with_visitors = set(visited)
    with_sales = set(sold) & with_visitors
    days: dict[tuple[str, int], int] = {}
    sales: dict[tuple[str, int], int] = {}
    for shop, _, hour in with_visitors:
        days[(shop, hour)] = days.get((shop, hour), 0) + 1
    for shop, _, hour in with_sales:
        sales[(shop, hour)] = sales.get((shop, hour), 0) + 1
    return TillHabit(days, sales)


def no_sales_data(visitors: int, transactions: int, refunds: int, usual: bool) -> bool:
    """An hour the shop had visitors but its till sent nothing while it usually does."""
    return visitors > 0 and transactions == 0 and refunds == 0 and usual


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def conversion(transactions: int, visitors: int) -> float | None:
    return ratio(transactions, visitors)


def average_transaction_minor(sales_minor: int, transactions: int) -> float | None:
    return ratio(sales_minor, transactions)


def items_per_transaction(items: int, transactions: int) -> float | None:
    return ratio(items, transactions)


def sales_per_visitor_minor(sales_minor: int, visitors: int) -> float | None:
    return ratio(sales_minor, visitors)


def minor_digits(currency: str) -> int:
    """How many digits the currency's minor unit has (2 for EUR, 0 for JPY, 3 for KWD)."""
    return int(get_currency_precision(currency))


def major(amount_minor: float, currency: str) -> float:
    """An amount in minor units as the currency's major units (cents to euros)."""
    return amount_minor / float(10 ** minor_digits(currency))


def symbol(currency: str) -> str:
    """The currency's sign as the pages write it: '€', '¥', 'A$'."""
    return str(get_currency_symbol(currency, locale=LOCALE))


def money(amount_minor: float | None, currency: str) -> str:
    """An amount in minor units written in its currency, as `€1,234.50` or `¥123,456`; '—'
    for none."""
    if amount_minor is None or amount_minor != amount_minor:  # None or NaN
        return "—"
    return str(format_currency(major(amount_minor, currency), currency, locale=LOCALE))
