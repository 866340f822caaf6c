"""Shops: the day's top shops, how shoppers move between shops, one shop's daily trend
and its picked day by hour (walk-ins, walk-bys, conversion, and its till's sales beside
them), every shop in a sortable, searchable table with a CSV download, and every shop's
sales against its visitors."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import charts, data, sales, small_counts, ui, words
from footfall.sales import major, minor_digits, money, symbol

REFRESH_SECONDS = 15
TREND_DAYS = 28
TOP_STEPS = 15

selection = ui.select()
st.title(f"{selection.name}: shops")
shops_layout = selection.shops
#: Figures about fewer people than this leave the page suppressed (docs/privacy.md).
minimum = ui.settings().privacy.min_group_size
#: The table's columns that count people, suppressed in its download when small.
PEOPLE_COUNTS = ["visitors", "walk_bys", "visits", "estimated_people"]


@st.fragment(run_every=REFRESH_SECONDS)
def top() -> None:
    ranked = ui.day_section("Top shops", data.top_shops, selection, "shop rankings")
    if ranked is None:
        return
    best = ranked.iloc[0]
    leader, _ = st.columns([1, 3])
    leader.metric("Top shop", best["shop_name"], words.counted(int(best["visitors"]), "visitor"), delta_color="off",
                  delta_arrow="off")
    chart, table = st.columns([3, 2])
    bars = charts.ranked_bars(ranked, "shop_name", "visitors", "Visitors")
    chart.altair_chart(bars, width="stretch")
    table.dataframe(ranked, hide_index=True, width="stretch", column_config={
        "rank": st.column_config.NumberColumn("Rank", width="small"), "shop_code": "Code",
        "shop_name": "Shop", "visitors": st.column_config.NumberColumn("Visitors", format="%d")})


@st.fragment(run_every=REFRESH_SECONDS)
def journeys() -> None:
    st.subheader("Journeys between shops")
    steps = ui.history(data.journeys, selection.mall_id, selection.day, shops_layout)
    shoppers, several = steps.attrs.get("shoppers", 0), steps.attrs.get("multi_shop_visitors", 0)
    if not shoppers:
        ui.no_data("ended shop visits", selection)
        return
    numbers, chart = st.columns([1, 3])
    numbers.metric("Visited two shops or more", f"{several / shoppers:.0%}",
                   help="Of the devices that visited a shop that day (visits that have ended)")
    numbers.metric("Steps between shops", f"{int(steps['transitions'].sum()):,}")
    if steps.empty:
        chart.info("Nobody went on from one shop to another yet.", icon=":material/route:")
        return
    shown = small_counts.shown_steps(steps, minimum)
    if shown.empty:
        chart.info(f"No step between two shops was walked by {minimum} shoppers or more: steps of fewer are not "
                   "shown (FOOTFALL_MIN_GROUP_SIZE).", icon=":material/visibility_off:")
        return
    chart.plotly_chart(charts.journeys_sankey(shown, TOP_STEPS), width="stretch")
    st.dataframe(shown.head(TOP_STEPS), hide_index=True, width="stretch", column_config={
        "from_shop": "From", "from_name": "From shop", "to_shop": "To", "to_name": "To shop",
        "transitions": st.column_config.NumberColumn("Steps", format="%d")})
    hidden = "" if len(shown) == len(steps) else f" ({len(steps) - len(shown)} steps of fewer than {minimum} not shown)"
    st.caption(f"The {min(TOP_STEPS, len(shown))} busiest of {len(steps)} steps{hidden}: each device's shop visits of "
               "the day in the order they started; a step goes from one shop to the next different shop.")


def trend(all_shops: pd.DataFrame) -> None:
    st.subheader("A shop's daily trend")
    labels = dict(zip(all_shops["shop_code"], all_shops["shop_name"]))
    code = st.selectbox("Shop", list(all_shops["shop_code"]), format_func=lambda c: f"{labels[c]} ({c})",
                        key="trend-shop")
    frame = ui.history(data.shop_trend, selection.mall_id, code, selection.day, TREND_DAYS)
    if frame.empty:
        st.info(f"No visitors counted for {labels[code]} in the {TREND_DAYS} days up to {selection.day:%d %B}.",
                icon=":material/hourglass_empty:")
        return
    st.altair_chart(charts.trend(frame, selection.day), width="stretch")
    st.caption(f"Visitors per day over the {TREND_DAYS} days up to the picked day (dashed); a day the mall "
               "counted but the shop had nobody shows 0.")
    hours = ui.history(data.shop_hours, selection.mall_id, code, selection.day)
    if hours.empty:
        return
    walk_ins, walk_bys = int(hours["visitors"].sum()), int(hours["walk_bys"].sum())
    st.altair_chart(charts.shop_hours(hours), width="stretch")
    hours_total = f"{words.counted(walk_ins, 'walk-in')}, {words.counted(walk_bys, 'walk-by')}"
    st.caption(f"{labels[code]} on {selection.day:%d %B} by hour: walk-ins (visitors: they stayed the shop's "
               "minimum dwell) and walk-bys (heard near its front, not visitors); each bar's tooltip has the hour's "
               f"conversion. A device counts in every hour it was near, so the hours ({hours_total}) can add up to "
               "more than the day.")
    till_hours(code, labels[code])


def money_column(label: str, help_text: str) -> Any:
    """A column of amounts in the mall's major units, written with its symbol and minor digits."""
    currency = selection.currency
    return st.column_config.NumberColumn(label, format=f"{symbol(currency)}%.{minor_digits(currency)}f", help=help_text)


def till_hours(code: str, name: str) -> None:
    """The shop's sales by hour beside its walk-ins and walk-bys."""
    every = ui.history(sales.shop_hours, selection.mall_id, selection.day)
    hours = every[every["shop_code"] == code].drop(columns="shop_code")
    if hours.empty or not (hours["transactions"].sum() or hours["refunds"].sum() or hours["no_sales_data"].any()):
        st.caption(f"No till data for {name} on {selection.day:%d %B}.")
        return
    shown = hours.assign(
        conversion=(hours["transactions"] / hours["visitors"].where(hours["visitors"] > 0)),
        basket=major(hours["sales_minor"] / hours["transactions"].where(hours["transactions"] > 0), selection.currency),
        per_visitor=major(hours["sales_minor"] / hours["visitors"].where(hours["visitors"] > 0), selection.currency),
        status=hours["no_sales_data"].map({True: "no sales data", False: ""}),
    )
    ratios = ["conversion", "basket", "per_visitor"]
    shown.loc[hours["no_sales_data"], ratios] = None
    st.dataframe(shown[["hour", "visitors", "walk_bys", "transactions", *ratios, "status"]], hide_index=True,
                 width="stretch", column_config={
                     "hour": st.column_config.NumberColumn("Hour", format="%02d:00"),
                     "visitors": st.column_config.NumberColumn("Walk-ins", format="%d"),
                     "walk_bys": st.column_config.NumberColumn("Walk-bys", format="%d"),
                     "transactions": st.column_config.NumberColumn("Transactions", format="%d"),
                     "conversion": st.column_config.NumberColumn("Conversion", format="percent",
                                                                 help="Transactions / walk-ins"),
                     "basket": money_column("Average basket", "Net sales / transactions"),
                     "per_visitor": money_column("Sales per visitor", "Net sales / walk-ins"),
                     "status": "Till"})
    missing = int(hours["no_sales_data"].sum())
    st.caption(f"{name}'s till by hour. " + (
        f"{missing} hour{'s' if missing != 1 else ''} marked 'no sales data': walk-ins but nothing from a till "
        "that usually reports in that hour (offline, or an upload still to come); not 0 % conversion."
        if missing else "Every hour with walk-ins has its till's data."))


def table(all_shops: pd.DataFrame) -> None:
    st.subheader("All shops")
    query = st.text_input("Search shops", placeholder="name, code or category", key="shop-search")
    shown = all_shops
    if query:
        text = (all_shops["shop_code"] + " " + all_shops["shop_name"] + " " + all_shops["category"]).str.lower()
        shown = all_shops[text.str.contains(query.lower(), regex=False)]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "shop_code": "Code", "shop_name": "Shop", "category": "Category",
        "visitors": st.column_config.NumberColumn("Visitors", format="%d"),
        "share": st.column_config.ProgressColumn("Share of mall visitors", format="percent", min_value=0,
                                                 max_value=1),
        "change": st.column_config.NumberColumn(
            "On last week", format="percent",
            help=f"The shop's visitors: {words.compared(selection.week_before, selection.compared_hours)}"),
        "walk_bys": st.column_config.NumberColumn(
            "Walk-bys", format="%d", help="Devices near the shop (placed in it, or heard at its front or by its own "
                                          "probe) that did not stay the shop's minimum dwell"),
        "conversion": st.column_config.ProgressColumn(
            "Conversion", format="percent", min_value=0, max_value=1,
            help="Visitors of the devices near the shop: visitors / (visitors + walk-bys)"),
        "visits": st.column_config.NumberColumn("Visits", format="%d", help="Visits that have ended (item 11)"),
        "stayed_20m": st.column_config.ProgressColumn(
            "Stayed 20 min+", format="percent", min_value=0, max_value=1,
            help="Share of the shop's ended visits that lasted 20 minutes or more"),
        "median_minutes": st.column_config.NumberColumn(
            "Median visit", format="%.1f min", help="The middle of the shop's ended visits by length"),
        "estimated_people": st.column_config.NumberColumn(
            "People (estimate)", format="%d",
            help="An estimate, not a count: the shop's visitors times the mall's people per visitor that day "
                 "(door entries against visitors with a stable MAC); empty without door counts"),
    })
    st.caption(f"{len(shown)} of {len(all_shops)} shops; click a column header to sort.")
    st.download_button("Download CSV", small_counts.export_csv(shown, PEOPLE_COUNTS, minimum),
                       file_name=f"shops-{selection.mall_id}-{selection.day}.csv", mime="text/csv",
                       icon=":material/download:",
                       help=f"Counts of fewer than {minimum} people show as '< {minimum}'" if minimum > 1 else None)


@st.fragment(run_every=REFRESH_SECONDS)
def till_figures() -> None:
    st.subheader("Sales against visitors")
    frame = ui.history(sales.shop_days, selection.mall_id, selection.day, shops_layout)
    frame = frame[frame["has_till"]]
    if frame.empty:
        st.info("No till has reported for this mall in the last four weeks: tenants stream their transactions to "
                "the pos-transactions topic, or send a file with `footfall pos import FILE.csv`.",
                icon=":material/point_of_sale:")
        return
    currency = selection.currency
    net, count = int(frame["sales_minor"].sum()), int(frame["transactions"].sum())
    first, second, third, fourth = st.columns(4)
    first.metric("Net sales", money(net, currency), help=f"Sales less refunds, in {currency}")
    second.metric("Transactions", f"{count:,}")
    third.metric("Average basket", money(net / count if count else None, currency),
                 help="Net sales / transactions")
    missing = int(frame["incomplete_hours"].sum())
    fourth.metric("Hours without sales data", f"{missing}",
                  help="Shop hours with walk-ins but nothing from a till that usually reports in that hour")
    shown = frame.assign(**{c: major(frame[c], currency) for c in
                            ("sales_minor", "average_transaction_minor", "sales_per_visitor_minor")})
    st.dataframe(shown.drop(columns=["has_till"]), hide_index=True, width="stretch", column_config={
        "shop_code": "Code", "shop_name": "Shop",
        "visitors": st.column_config.NumberColumn("Visitors", format="%d"),
        "estimated_people": st.column_config.NumberColumn("People (estimate)", format="%d"),
        "transactions": st.column_config.NumberColumn("Transactions", format="%d"),
        "items": st.column_config.NumberColumn("Items", format="%d"),
        "refunds": st.column_config.NumberColumn("Refunds", format="%d"),
        "sales_minor": money_column("Net sales", "Sales less refunds"),
        "conversion": st.column_config.NumberColumn("Conversion", format="percent",
                                                    help="Transactions / the shop's visitors"),
        "conversion_people": st.column_config.NumberColumn(
            "Conversion of people", format="percent",
            help="Transactions / the shop's estimated people (visitors scaled by door counts); empty without them"),
        "average_transaction_minor": money_column("Average basket", "Net sales / transactions"),
        "items_per_transaction": st.column_config.NumberColumn("Items per transaction", format="%.2f"),
        "sales_per_visitor_minor": money_column("Sales per visitor", "Net sales / the shop's visitors"),
        "incomplete_hours": st.column_config.NumberColumn(
            "Hours without sales data", format="%d",
            help="Hours with visitors but nothing from a till that usually reports then: the day's ratios "
                 "count those hours' visitors without their sales")})
    st.caption(f"Shops whose till reported in the four weeks up to {selection.day:%d %B}, by net sales; amounts in "
               f"{currency}. A refund comes off the net sales and is no transaction.")


top()
journeys()
every_shop = ui.history(data.shops, selection.mall_id, selection.day, shops_layout, selection.compared_hours)
if every_shop.empty:
    st.info("This mall has no shops in its layout.", icon=":material/storefront:")
else:
    trend(every_shop)
    table(every_shop)
    till_figures()
