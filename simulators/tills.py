"""Tills: who buys in a shop, what a basket holds and costs, refunds, and tills that go
offline. The simulator's own parameters, never the job's: the job sees only what the tills
send (pos-transactions, docs/design.md §3).

A visitor's stay in a shop ends at the till with a chance that depends on the shop's
category and grows with the stay (someone who stays longer is likelier to buy: 1 - e^(-dwell
/ the category's median dwell), scaled so that a median stay buys at the category's rate).
A basket holds 1 + Poisson items, each at a lognormal price around the category's. Now and
then a purchase is refunded, in part or in whole, later the same day. A shop's till goes
offline for a whole clock hour on a share of shop-days: what it would have sent then is
never sent (the truth still has every purchase).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from footfall.sales import minor_digits

#: Per category: the share of median-length stays that end in a purchase, the mean items
#: beyond the first, and the median price of an item in euros.
CATEGORY_SALES = {
    "Food": (0.75, 0.6, 7.0),
    "Fashion": (0.3, 0.8, 35.0),
    "Electronics": (0.15, 0.3, 90.0),
    "Beauty": (0.4, 0.7, 22.0),
    "Home": (0.25, 0.9, 28.0),
    "Sports": (0.25, 0.5, 40.0),
    "Books": (0.35, 0.6, 14.0),
    "Services": (0.5, 0.0, 18.0),
}
OTHER_CATEGORY = (0.3, 0.5, 25.0)
#: Prices in a currency per euro of the table above (round price levels, not exchange rates).
PRICE_LEVEL = {"EUR": 1.0, "USD": 1.1, "JPY": 160.0, "AUD": 1.6, "GBP": 0.85}
#: The price of one item varies around its category's median by this (lognormal sigma).
PRICE_SPREAD = 0.6


@dataclass(frozen=True)
class TillBehaviour:
    """How the simulated tills behave; `make accuracy` and the demo use the defaults."""

    #: Purchases refunded later the same day (in part or whole).
    refund_share: float = 0.03
    #: Shop-days on which the shop's till is offline for one clock hour of its opening hours.
    outage_share: float = 0.03

    def __post_init__(self) -> None:
        for name in ("refund_share", "outage_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name.replace('_', '-')} must be between 0 and 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Purchase:
    """What a till records: when (epoch seconds), how much (minor units; negative for a
    refund) and how many items."""

    at: float
    amount_minor: int
    items: int


def buy_chance(category: str, dwell_seconds: float, median_dwell_seconds: float) -> float:
    """The chance that a stay of `dwell_seconds` ends in a purchase."""
    rate = CATEGORY_SALES.get(category, OTHER_CATEGORY)[0]
    grown = 1.0 - math.exp(-dwell_seconds / median_dwell_seconds)
    return min(1.0, rate * grown / (1.0 - math.exp(-1.0)))


def basket(category: str, currency: str, rng: np.random.Generator) -> tuple[int, int]:
    """(amount in minor units, items) of one purchase."""
    _, extra, median_price = CATEGORY_SALES.get(category, OTHER_CATEGORY)
    items = 1 + int(rng.poisson(extra))
    prices = rng.lognormal(math.log(median_price * PRICE_LEVEL.get(currency, 1.0)), PRICE_SPREAD, items)
    amount = max(1, round(float(prices.sum()) * 10 ** minor_digits(currency)))
    return amount, items


def purchase(category: str, currency: str, start: float, end: float, median_dwell_seconds: float,
             rng: np.random.Generator) -> Purchase | None:
    """A stay in a shop from `start` to `end`, ending at the till or not. Every draw is made
    whether or not the visitor buys, so one stay's outcome never shifts the next's."""
    bought = rng.random() < buy_chance(category, end - start, median_dwell_seconds)
    amount, items = basket(category, currency, rng)
    at = end - float(rng.uniform(10.0, 60.0)) * min(1.0, (end - start) / 120.0)
    return Purchase(at, amount, items) if bought else None


def refund(sale: Purchase, closing: float, behaviour: TillBehaviour, rng: np.random.Generator) -> Purchase | None:
    """The refund of `sale` later the same day, if any: part or all of its amount, one item
    or more, before closing."""
    refunded = rng.random() < behaviour.refund_share
    at = sale.at + float(rng.uniform(3600.0, 5 * 3600.0))
    share = float(rng.choice([1.0, rng.uniform(0.2, 0.8)]))
    if not refunded or at >= closing:
        return None
    return Purchase(at, -max(1, round(sale.amount_minor * share)), sale.items if share == 1.0 else 1)


def outage_hour(opening_hour: int, closing_hour: int, behaviour: TillBehaviour,
                rng: np.random.Generator) -> int | None:
    """The local hour a shop's till is offline on a day, if any."""
    offline = rng.random() < behaviour.outage_share
    hour = int(rng.integers(opening_hour, closing_hour))
    return hour if offline else None
