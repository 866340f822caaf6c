"""Portfolio: every mall side by side on its own local today. Visitors so far against the
same weekday a week before up to the same local time (data.versus_last_week) and against
what those hours usually bring, its open alerts, occupancy now, capture rate and the day's
top shop, each mall linking to its own pages; and a league table of the malls by sales per
visitor over their last complete week, ranked among malls of the same currency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboards import data, sales, ui, words
from footfall.sales import money

REFRESH_SECONDS = 5
#: Cards side by side in a row; more malls continue on the next rows.
PER_ROW = 3
#: Pages a mall's card links to: (file in views/, label, icon).
MALL_PAGES = [("overview.py", "Overview", ":material/dashboard:"), ("live_map.py", "Live map", ":material/map:"),
              ("shops.py", "Shops", ":material/storefront:")]

st.title("Portfolio")
with ui.service("PostgreSQL"):
    malls = ui.malls()
if malls.empty:
    st.info("No mall is loaded yet: `make demo` loads three and streams their shoppers.", icon=":material/storefront:")
    st.stop()


def number(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


@st.fragment(run_every=REFRESH_SECONDS)
def cards() -> None:
    with ui.service("Redis"), ui.service("ClickHouse"):
        frame = data.portfolio(ui.redis_client(), ui.clickhouse(), malls, datetime.now(UTC))
    open_alerts = ui.attempt("PostgreSQL", ui.open_alerts)
    rows = list(frame.itertuples())
    for first in range(0, len(rows), PER_ROW):
        for row, column in zip(rows[first:first + PER_ROW], st.columns(PER_ROW)):
            card(row, column, None if open_alerts is None else open_alerts[open_alerts["mall_id"] == row.mall_id])
    st.caption(f"Live from Redis and ClickHouse; refreshes every {REFRESH_SECONDS} s. Each mall shows its own "
               "local day; a mall outside its opening hours shows the day so far.")


def usual_change(row: Any) -> float | None:
    return (row.hours_so_far - row.usual_hours) / row.usual_hours if row.usual_hours else None


def card(row: Any, column: DeltaGenerator, open_alerts: pd.DataFrame | None) -> None:
    with column.container(border=True, key=f"mall-{row.mall_id}"):
        st.subheader(row.name)
        if open_alerts is not None and not open_alerts.empty:
            critical = int((open_alerts["severity"] == "critical").sum())
            st.page_link("views/alerts.py", icon=":material/notifications_active:",
                         label=f"{len(open_alerts)} open alert{'s' if len(open_alerts) > 1 else ''}"
                               + (f", {critical} critical" if critical else ""))
        st.caption(f"{row.mall_id} · local time {row.local_time} · {row.day:%d %b %Y}")
        compared = words.compared(row.day - timedelta(days=7), row.compared_hours)
        st.metric("Visitors today", number(row.visitors), words.change(row.change),
                  help=f"Distinct devices today so far. The change compares {compared} "
                       f"({number(row.hours_so_far)} visitors by the hour against {number(row.last_week_hours)}).")
        if row.usual_hours is not None and not pd.isna(row.usual_hours) and row.compared_hours:
            versus = f", {usual_change(row):+.0%}" if row.usual_hours else ""
            st.caption(f"{number(row.hours_so_far)} visitors to {row.compared_hours % 24:02d}:00 against "
                       f"{number(row.usual_hours)} usual by then{versus} (usual: the median of the same weekday's "
                       "hours over the past weeks)")
        occupancy, capture = st.columns(2)
        occupancy.metric("Occupancy now", number(row.occupancy), help="Devices with a live position now")
        rate = row.capture_rate
        capture.metric("Capture rate", "—" if rate is None or pd.isna(rate) else f"{rate:.1%}",
                       help="Mall visitors with a phone seen, per door entry")
        if isinstance(row.top_shop, str):
            st.markdown(f"**Top shop** {row.top_shop} ({words.counted(int(row.top_shop_visitors), 'visitor')})")
        else:
            st.markdown("**Top shop** —")
        till = ui.attempt("Redis", sales.live_day, ui.redis_client(), row.mall_id)
        if till is not None and till["day"] == row.day:
            st.markdown(f"**Sales today** {money(till['sales_minor'], till['currency'])} "
                        f"({words.counted(till['transactions'], 'transaction')})")
        if row.visitors is None or pd.isna(row.visitors):
            st.caption(f"No visitor metrics for {row.day:%A %d %B} yet.")
        for file, label, icon in MALL_PAGES:
            st.page_link(f"views/{file}", label=label, icon=icon, query_params={"mall": row.mall_id})


def league() -> None:
    st.subheader("Sales per visitor")
    frame = ui.history(sales.league, malls, datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    if frame["transactions"].sum() == 0:
        st.info("No till has reported in the malls' last complete week: tenants stream their transactions to the "
                "pos-transactions topic, or send a file with `footfall pos import FILE.csv`.",
                icon=":material/point_of_sale:")
        return
    shown = pd.DataFrame({
        "rank": frame["rank"], "name": frame["name"], "currency": frame["currency"],
        "sales_per_visitor": [money(v, c) for v, c in zip(frame["sales_per_visitor_minor"], frame["currency"])],
        "conversion": frame["conversion"], "visitors": frame["visitors"], "transactions": frame["transactions"],
        "sales": [money(v, c) for v, c in zip(frame["sales_minor"], frame["currency"])],
        "incomplete_hours": frame["incomplete_hours"],
    })
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "rank": st.column_config.NumberColumn("Rank", format="%d", help="Among the malls of the same currency"),
        "name": "Mall", "currency": "Currency", "sales_per_visitor": "Sales per visitor",
        "conversion": st.column_config.NumberColumn("Conversion", format="percent",
                                                    help="Transactions / mall visitors"),
        "visitors": st.column_config.NumberColumn("Visitors", format="%d"),
        "transactions": st.column_config.NumberColumn("Transactions", format="%d"),
        "sales": "Net sales",
        "incomplete_hours": st.column_config.NumberColumn(
            "Hours without sales data", format="%d",
            help="Shop hours with visitors but nothing from a till that usually reports then")})
    first, last = frame["first_day"].min(), frame["last_day"].max()
    st.caption(f"Each mall's own last {sales.LEAGUE_DAYS} complete local days ({first:%d %b} to {last:%d %b}): "
               "net sales / mall visitors. Malls are ranked among those of the same currency: no exchange rate is "
               "held, so amounts in different currencies are not weighed against each other.")


cards()
league()
