"""Charts of the dashboards (Altair; the journeys' Sankey in Plotly), built from the
DataFrames of `dashboards.data`."""

from __future__ import annotations

import altair as alt
import pandas as pd
import plotly.graph_objects as go

ACCENT = "#2563eb"
MUTED = "#94a3b8"
PEAK = "#dc2626"


#: Pixels per bar of a ranked chart, its label included.
BAR_STEP = 30


def count_axis() -> alt.Axis:
    """An axis of counts: whole-number ticks only (a count of 1 gets 0 and 1, never 0.1, 0.2, ...)."""
    return alt.Axis(format=",d", tickMinStep=1)


def hourly(frame: pd.DataFrame, peak_hour: int | None, last_week_label: str) -> alt.LayerChart | alt.FacetChart:
    """Visitors per hour as bars, the peak hour marked in red with its count; the expected
    visitors (columns expected, low, high, as data.expected_hours gives them, NaN where
    nothing is expected; absent or all NaN: none held) as a dashed line over a shaded
    band, or, where no expectation is held, the same weekday a week before as the dashed
    line."""
    bars = frame.assign(peak=frame["hour"] == peak_hour)
    base = alt.Chart(bars).encode(x=alt.X("hour:O", title="Hour (mall time)"))
    today = base.mark_bar().encode(
        y=alt.Y("visitors:Q", title="Visitors", axis=count_axis()),
        color=alt.condition("datum.peak", alt.value(PEAK), alt.value(ACCENT)),
        tooltip=[alt.Tooltip("hour:O", title="Hour"), alt.Tooltip("visitors:Q", title="Visitors"),
                 alt.Tooltip("expected:Q", title="Expected", format=",.0f"),
                 alt.Tooltip("door_entries:Q", title="Door entries"),
                 alt.Tooltip("last_week_visitors:Q", title=last_week_label)],
    )
    label = base.transform_filter("datum.peak").mark_text(dy=-8, color=PEAK, fontWeight="bold").encode(
        y="visitors:Q", text=alt.Text("visitors:Q", format=","))
    layers: list[alt.Chart] = [today, label]
    if "expected" in frame and frame["expected"].notna().any():
        held = base.transform_filter("isValid(datum.expected)")
        band = held.mark_area(opacity=0.18, color=MUTED, interpolate="step-after").encode(y="low:Q", y2="high:Q")
        line = held.mark_line(strokeDash=[4, 3], color=MUTED, point=alt.OverlayMarkDef(color=MUTED)).encode(
            y="expected:Q")
        layers = [band, today, label, line]
    elif frame["last_week_visitors"].any():
        layers.append(base.mark_line(strokeDash=[4, 3], color=MUTED, point=True).encode(y="last_week_visitors:Q"))
    return alt.layer(*layers).properties(height=320)


def ranked_bars(frame: pd.DataFrame, label: str, value: str, title: str) -> alt.Chart:
    """Horizontal bars, largest on top, in the frame's order, every bar named (labels are
    never thinned out to avoid overlap: each bar has room for its own)."""
    chart: alt.Chart = alt.Chart(frame).mark_bar(color=ACCENT).encode(
        x=alt.X(f"{value}:Q", title=title, axis=count_axis()),
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=240)),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    ).properties(height=alt.Step(BAR_STEP))
    return chart


def trend(frame: pd.DataFrame, selected_day: object) -> alt.LayerChart | alt.FacetChart:
    """Visitors per day as a line, with the selected day marked."""
    base = alt.Chart(frame).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%a %d %b", tickCount={"interval": "day", "step": 1}))
    )
    line = base.mark_line(point=True, color=ACCENT).encode(
        y=alt.Y("visitors:Q", title="Visitors", axis=count_axis()),
        tooltip=[alt.Tooltip("day:T", format="%A %d %B"), alt.Tooltip("visitors:Q")],
    )
    marker = (
        alt.Chart(pd.DataFrame({"day": [pd.Timestamp(selected_day)]}))
        .mark_rule(color=PEAK, strokeDash=[2, 2])
        .encode(x="day:T")
    )
    return alt.layer(line, marker).properties(height=260)


def shop_hours(frame: pd.DataFrame) -> alt.Chart:
    """A shop's hours: walk-ins (visitors) and walk-bys stacked, conversion in the tooltip."""
    long = frame.melt(id_vars=["hour", "conversion"], value_vars=["visitors", "walk_bys"], var_name="kind",
                      value_name="devices")
    long["kind"] = long["kind"].map({"visitors": "Walk-ins (visitors)", "walk_bys": "Walk-bys"})
    chart: alt.Chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("hour:O", title="Hour (mall time)"),
        y=alt.Y("devices:Q", title="Devices", stack="zero", axis=count_axis()),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["Walk-ins (visitors)", "Walk-bys"],
                                                             range=[ACCENT, MUTED])),
        order=alt.Order("kind:N", sort="descending"),
        tooltip=[alt.Tooltip("hour:O", title="Hour"), alt.Tooltip("kind:N", title=""),
                 alt.Tooltip("devices:Q", format=","), alt.Tooltip("conversion:Q", title="Conversion", format=".0%")],
    ).properties(height=260)
    return chart


def journeys_sankey(frame: pd.DataFrame, top: int = 20) -> go.Figure:
    """The `top` busiest steps between shops (data.journeys) as a Sankey diagram: the
    shop a step leaves on the left, the shop it reaches on the right, so a pair walked
    both ways shows as two bands rather than a loop."""
    steps = frame.head(top)
    left = sorted(set(steps["from_name"]))
    right = sorted(set(steps["to_name"]))
    labels = left + right
    figure = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": labels, "pad": 12, "thickness": 14},
        link={
            "source": [left.index(name) for name in steps["from_name"]],
            "target": [len(left) + right.index(name) for name in steps["to_name"]],
            "value": steps["transitions"].tolist(),
        },
    ))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=max(320, 26 * len(labels) // 2))
    return figure
