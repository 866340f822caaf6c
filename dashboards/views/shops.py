"""Shops: the day's top shops, one shop's daily trend, and every shop in a sortable,
searchable table with a CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui

REFRESH_SECONDS = 15
TREND_DAYS = 28

selection = ui.select()
st.title(f"{selection.name}: shops")
shops_layout = selection.shops


@st.fragment(run_every=REFRESH_SECONDS)
def top() -> None:
    st.subheader("Top shops")
    ranked = ui.history(data.top_shops, selection.mall_id, selection.day)
    if ranked.empty:
        ui.no_data("shop rankings", selection)
        return
    best = ranked.iloc[0]
    leader, _ = st.columns([1, 3])
    leader.metric("Top shop", best["shop_name"], f"{int(best['visitors']):,} visitors", delta_color="off",
                  delta_arrow="off")
    chart, table = st.columns([3, 2])
    chart.altair_chart(charts.ranked_bars(ranked, "shop_name", "visitors", "Visitors"), width="stretch")
    table.dataframe(ranked, hide_index=True, width="stretch", column_config={
        "rank": st.column_config.NumberColumn("Rank", width="small"), "shop_code": "Code",
        "shop_name": "Shop", "visitors": st.column_config.NumberColumn("Visitors", format="%d")})


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
        "last_week": st.column_config.NumberColumn("Same day last week", format="%d"),
        "change": st.column_config.NumberColumn("Change", format="%+d"),
        "visits": st.column_config.NumberColumn("Visits", format="%d", help="Visits that have ended (item 11)"),
        "stayed_20m": st.column_config.ProgressColumn(
            "Stayed 20 min+", format="percent", min_value=0, max_value=1,
            help="Share of the shop's ended visits that lasted 20 minutes or more"),
    })
    st.caption(f"{len(shown)} of {len(all_shops)} shops; click a column header to sort.")
    st.download_button("Download CSV", shown.to_csv(index=False).encode(),
                       file_name=f"shops-{selection.mall_id}-{selection.day}.csv", mime="text/csv",
                       icon=":material/download:")


top()
every_shop = ui.history(data.shops, selection.mall_id, selection.day, shops_layout)
if every_shop.empty:
    st.info("This mall has no shops in its layout.", icon=":material/storefront:")
else:
    trend(every_shop)
    table(every_shop)
