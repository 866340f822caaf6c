"""Live map: where people are right now (the probes an open alert says are silent ringed
in red), and the picked day replayed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboards import data, layers, ui, words

REFRESH_SECONDS = 2
MAP_HEIGHT = 560

selection = ui.select()
st.title(f"{selection.name}: live map")
layout, zone = selection.layout, selection.tz
ttl = ui.settings().metrics.position_ttl_seconds


def local(ts: int) -> datetime:
    """Mall time, naive (as the slider shows it)."""
    return datetime.fromtimestamp(ts, zone).replace(tzinfo=None)


def tiles(positions: pd.DataFrame) -> None:
    busiest = data.busiest_zone(positions)
    occupancy, busiest_tile, corridor = st.columns(3)
    occupancy.metric("Occupancy", f"{len(positions):,}", help=f"Devices with a position in the last {ttl} s")
    if busiest is None:
        busiest_tile.metric("Busiest shop", "—")
    else:
        busiest_tile.metric("Busiest shop", layout.shop_name(busiest[0]), words.counted(busiest[1], "device"),
                            delta_color="off", delta_arrow="off")
    corridor.metric("In the corridor", f"{int((positions['zone'] == 'corridor').sum()):,}")


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    with ui.service("Redis"):
        positions = data.live_positions(ui.redis_client(), selection.mall_id)
    tiles(positions)
    if positions.empty:
        st.info(f"No live positions in {layout.name}: nobody has been heard in the last {ttl} s, or the "
                "metrics job is not running (`make up`).", icon=":material/location_off:")
    else:
        st.caption(f"As of {local(int(positions['ts'].max())):%H:%M:%S} (mall time); refreshes every "
                   f"{REFRESH_SECONDS} s.")
    raised = ui.attempt("PostgreSQL", ui.open_alerts, selection.mall_id)
    silent = [] if raised is None else list(raised.loc[raised["rule"] == "probe_silent", "subject"])
    if silent:
        st.warning(f"{words.counted(len(silent), 'probe')} silent (ringed in red): the devices near "
                   f"{'them' if len(silent) > 1 else 'it'} may be missing from the map.", icon=":material/sensors_off:")
    st.pydeck_chart(layers.deck(layout, positions, silent), height=MAP_HEIGHT)


@st.fragment
def replay() -> None:
    """The picked day's position history, at a time chosen on a slider (30 s steps)."""
    clickhouse = ui.clickhouse()
    with ui.service("ClickHouse"):
        span = data.position_span(clickhouse, selection.mall_id, *data.day_bounds(selection.day, zone))
    if span is None:
        st.info(f"No position history for {layout.name} on {selection.day:%A %d %B}.", icon=":material/history:")
        return
    first, last = span
    at: float
    if first == last:
        at = last
    else:
        at = st.slider("Time (mall time)", min_value=local(first), max_value=local(last), value=local(last),
                       step=timedelta(seconds=30), format="HH:mm:ss", key=f"replay-at-{selection.day}"
                       ).replace(tzinfo=zone).timestamp()
    with ui.service("ClickHouse"):
        positions = data.positions_at(clickhouse, selection.mall_id, int(at), ttl)
    tiles(positions)
    st.pydeck_chart(layers.deck(layout, positions), height=MAP_HEIGHT)


# One map on the page at a time: two deck.gl canvases (one in a hidden tab) made the
# visible one lose its polygon layers in software-rendered browsers.
if st.segmented_control("View", ["Now", "Replay the day"], default="Now", key="view",
                        label_visibility="collapsed") == "Replay the day":
    replay()
else:
    live()
