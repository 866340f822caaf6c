"""Customers: where favourite shops are, by shop and by category; shops people came back
to; and one device's answer exactly as the favourite-shop feed publishes it."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, ui, words
from footfall.outputs import feed_text
from udfs.identity import DeviceQueryError, device_for

REFRESH_SECONDS = 15
SHOWN_SHOPS = 15

selection = ui.select()
st.title(f"{selection.name}: customers")
shops_layout = selection.shops


@st.fragment(run_every=REFRESH_SECONDS)
def favourites() -> None:
    st.subheader("Favourite shops")
    by_shop = ui.history(data.favourite_shops, selection.mall_id, selection.day, shops_layout)
    if by_shop.empty:
        ui.no_data("favourite shops", selection)
        return
    with_favourite, top_favourite, _ = st.columns(3)
    with_favourite.metric("Devices with a favourite shop", f"{int(by_shop['devices'].sum()):,}")
    top_favourite.metric(
        "Most common favourite",
        by_shop.at[0, "shop_name"],
        words.counted(int(by_shop.at[0, "devices"]), "device"),
        delta_color="off",
        delta_arrow="off",
    )
    st.caption(
        "A device's favourite is the shop it visited most that day (ties by longer dwell). Visits count "
        "once the five-minute gap has passed."
    )
    shops_column, categories_column = st.columns(2)
    with shops_column:
        st.markdown(f"**By shop** (top {min(SHOWN_SHOPS, len(by_shop))} of {len(by_shop)})")
        st.altair_chart(
            charts.ranked_bars(by_shop.head(SHOWN_SHOPS), "shop_name", "devices", "Devices"), width="stretch"
        )
    with categories_column:
        st.markdown("**By category**")
        st.altair_chart(
            charts.ranked_bars(data.favourite_categories(by_shop), "category", "devices", "Devices"), width="stretch"
        )


@st.fragment(run_every=REFRESH_SECONDS)
def repeats() -> None:
    st.subheader("Shops visited more than once")
    frame = ui.history(data.repeat_shops, selection.mall_id, selection.day, shops_layout)
    if frame.empty:
        ui.no_data("repeat visits", selection)
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "shop_code": "Code",
            "shop_name": "Shop",
            "category": "Category",
            "devices": st.column_config.NumberColumn("Devices with 2+ visits", format="%d"),
            "visits": st.column_config.NumberColumn("Their visits", format="%d"),
        },
    )


def lookup() -> None:
    st.subheader("Device lookup")
    query = st.text_input(
        "Device id or MAC", placeholder="16 hex characters, or a MAC such as 3c:22:fb:…", key="device-query"
    ).strip()
    if not query:
        st.caption(
            "Shows what the favourite-shop feed publishes for a device, and its shops on the picked day. "
            "A MAC is hashed here as the job hashes it and is not stored."
        )
        return
    try:
        device_id = device_for(query, ui.settings())
    except DeviceQueryError as error:
        st.warning(str(error), icon=":material/error:")
        return
    with ui.service("Redis"):
        message = data.feed_entry(ui.redis_client(), selection.mall_id, device_id)
    feed = ui.settings().kafka.favorite_shops_topic
    if message is None:
        st.info(
            f"The feed has no current favourite shop for device `{device_id}` in {selection.name}.",
            icon=":material/person_search:",
        )
    else:
        st.markdown(f"Latest message on `{feed}`, key `{device_id}`:")
        st.code(feed_text(message), language="json")
    shops_of_device = ui.history(data.device_day, selection.mall_id, selection.day, device_id)
    if shops_of_device.empty:
        st.caption(f"No favourite or repeat shop for this device on {selection.day:%A %d %B}.")
    else:
        st.markdown(f"On {selection.day:%A %d %B}:")
        st.dataframe(
            shops_of_device,
            hide_index=True,
            width="stretch",
            column_config={
                "shop_code": "Code",
                "shop_name": "Shop",
                "visits": st.column_config.NumberColumn("Visits", format="%d"),
                "favourite": st.column_config.CheckboxColumn("Favourite"),
                "dwell_seconds": st.column_config.NumberColumn("Dwell (s)", format="%d"),
            },
        )


favourites()
repeats()
lookup()
