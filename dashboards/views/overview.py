"""Overview: the day's visitors, new and returning, occupancy, door entries and capture
rate as live tiles, with the devices seen, passers-by, draw rate, staff and estimated
people under them, each change against the same weekday a week before up to the same
local time (data.versus_last_week); visitors per hour with the peak hour, beside the
hours' expected footfall (or, without one, that weekday's hours) and the day so far
against what its closed hours usually bring; how long visitors stay (mall visits by
dwell bucket). The mall's open alerts, if any, link to the Alerts page above it all."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui, words

LIVE_REFRESH_SECONDS = 3
CHART_REFRESH_SECONDS = 15

selection = ui.select()
st.title(f"{selection.name}: overview")
raised = ui.attempt("PostgreSQL", ui.open_alerts, selection.mall_id)
if raised is not None and not raised.empty:
    worst = "critical" if (raised["severity"] == "critical").any() else "warning"
    st.page_link("views/alerts.py", icon=":material/notifications_active:",
                 label=f"{len(raised)} open alert{'s' if len(raised) > 1 else ''} ({worst}): "
                       + ", ".join(raised["alert_id"].str.split("/").str[0].unique()))
week_before = selection.week_before


def day_metrics(live: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The picked day's metrics: from the live Redis hash when it holds that day, else from
    ClickHouse. Returns (one row or none, whether it is live)."""
    if not live.empty and live.at[0, "day"] == selection.day:
        return live, True
    return ui.history(data.day_summary, selection.mall_id, selection.day), False


def count(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


@st.fragment(run_every=LIVE_REFRESH_SECONDS)
def tiles() -> None:
    with ui.service("Redis"):
        occupancy = data.live_summary(ui.redis_client(), selection.mall_id)
    summary, live = day_metrics(occupancy)
    hours = selection.compared_hours
    versus = ui.history(data.versus_last_week, selection.mall_id, selection.day, hours)
    compared = words.compared(week_before, hours)
    row = summary.iloc[0] if not summary.empty else None

    def shown(column: str) -> str:
        return count(None if row is None else row[column])

    def change(column: str) -> str | None:
        return None if row is None else words.change(versus.at[column, "change"])

    def share(column: str) -> str | None:
        return f"{row[column] / row['visitors']:.0%} of visitors" if row is not None and row["visitors"] else None

    visitors, new, returning, occupied, doors, capture = st.columns(6)
    visitors.metric("Visitors", shown("visitors"), change("visitors"),
                    help="Devices that stayed in the mall at least the minimum dwell (5 minutes unless set "
                         f"otherwise). The change compares {compared}.")
    new.metric("New visitors", shown("new_visitors"), share("new_visitors"), delta_color="off", delta_arrow="off",
               help="A visitor of this mall for the first time on this day")
    returning.metric("Returning visitors", shown("returning_visitors"), share("returning_visitors"),
                     delta_color="off", delta_arrow="off", help="A visitor here on an earlier day too")
    live_now = (live or selection.day == selection.local_today) and not occupancy.empty
    occupied.metric("Occupancy now", count(occupancy.at[0, "occupancy"]) if live_now else "—",
                    help="Devices with a live position now (only for the current day)")
    doors.metric("Door entries", shown("door_entries"), change("door_entries"),
                 help=f"Entries the door counters counted. The change compares {compared}.")
    rate = None if row is None else row["capture_rate"]
    capture.metric("Capture rate", "—" if rate is None or pd.isna(rate) else f"{rate:.1%}",
                   help="Mall visitors with a phone seen, per door entry")
    seen, passers_by, draw, staff, people, _ = st.columns(6)
    seen.metric("Devices seen", shown("devices_seen"), change("devices_seen"),
                help="Every device heard in the mall, however briefly, staff included (what 'visitors' "
                     f"counted before visitors needed a minimum dwell). The change compares {compared}.")
    passers_by.metric("Passers-by", shown("passers_by"), change("passers_by"),
                      help="Devices seen that never stayed the minimum dwell: people walking past the "
                           f"mall's front or through it. The change compares {compared}.")
    drawn = None if row is None else row["draw_rate"]
    draw.metric("Draw rate", "—" if drawn is None or pd.isna(drawn) else f"{drawn:.1%}",
                help="Visitors per visitor or passer-by: the share of the mall's passing traffic that came in")
    staff.metric("Staff", shown("staff_devices"), change("staff_devices"),
                 help="Staff and fixed devices heard today (heard for hours on most days): in no visitor count; "
                      f"listed on the System page. The change compares {compared}.")
    estimate = ui.history(data.people, selection.mall_id, selection.day)
    people_tile(people, estimate.iloc[0] if not estimate.empty else None)
    if row is None:
        ui.no_data("visitor metrics", selection)
    elif live:
        st.caption(f"Live from Redis, written {summary.at[0, 'updated_at']}; refreshes every "
                   f"{LIVE_REFRESH_SECONDS} s. Changes compare {compared}.")
    else:
        st.caption(f"From ClickHouse; refreshes every {LIVE_REFRESH_SECONDS} s. Changes compare {compared}.")


def people_tile(tile: Any, estimate: pd.Series | None) -> None:
    """Estimated people (design §4 item 15), labelled as an estimate, with the factor it
    used; without door counts it says so instead of a number."""
    if estimate is None or pd.isna(estimate["estimated_people"]):
        tile.metric("People (estimate)", "—", "no door counts" if estimate is not None else None,
                    delta_color="off", delta_arrow="off",
                    help="Estimated from the door counters, which this mall has not reported for this day")
        return
    factor = estimate["people_per_visitor"]
    tile.metric("People (estimate)", f"≈ {int(estimate['estimated_people']):,}",
                None if pd.isna(factor) else f"{factor:.2f} per visitor", delta_color="off", delta_arrow="off",
                help="An estimate, not a count: door entries divided by the entries per visitor seen in the WiFi "
                     f"sample ({estimate['entries_per_visitor']:.2f}); people per visitor scales the shops' and "
                     "hours' visitors")


@st.fragment(run_every=CHART_REFRESH_SECONDS)
def hours() -> None:
    st.subheader("Visitors per hour")
    frame = ui.history(data.hourly, selection.mall_id, selection.day)
    if not frame["visitors"].any():
        ui.no_data("hourly visitors", selection)
        return
    peak = ui.history(data.peak_hour, selection.mall_id, selection.day)
    peak_hour = int(peak.at[0, "hour"]) if not peak.empty else None
    label = f"{week_before:%a %d %b}"
    expected = ui.history(data.expected_hours, selection.mall_id, selection.day)
    frame = frame.merge(expected, on="hour", how="left")
    st.altair_chart(charts.hourly(frame, peak_hour, label), width="stretch")
    if peak_hour is not None:
        st.markdown(f"**Peak hour** {peak_hour:02d}:00–{(peak_hour + 1) % 24:02d}:00 with "
                    f"**{words.counted(int(peak.at[0, 'visitors']), 'visitor')}** (in red).")
    if expected.empty:
        last_week_total = int(frame["last_week_visitors"].sum())
        st.caption(f"Dashed: the same weekday a week before ({week_before:%A %d %B})"
                   + ("" if last_week_total else ", which has no data")
                   + ". No expectation is held for this day yet: it needs a week of history.")
        return
    hours = selection.compared_hours
    closed = frame[frame["hour"] < hours]
    weeks = int(expected["weeks"].max())
    so_far = words.counted(int(closed["visitors"].sum()), "visitor")
    usual = f"{closed['baseline'].fillna(0).sum():,.0f}"
    by_now = (f"So far (to {hours:02d}:00) **{so_far}** against **{usual}** usual by now. " if 0 < hours < 24
              else f"**{so_far}** against **{usual}** usual for the whole day. " if hours == 24 else "")
    st.markdown(by_now + f"Expected for the day: **{frame['expected'].fillna(0).sum():,.0f}**.")
    st.caption(f"Dashed: the visitors expected each hour, shaded: the usual band. An hour's usual count is "
               f"the median of the same weekday and hour over {words.counted(weeks, 'past week')}; today's "
               "later hours are scaled by how the day runs so far.")


def engagement() -> None:
    frame = ui.day_section("How long visitors stay", data.engagement, selection, "ended visits")
    if frame is None:
        return
    visits = frame.attrs["visits"]
    chart, numbers = st.columns([3, 1])
    chart.altair_chart(charts.ranked_bars(frame, "bucket", "visits", "Visits"), width="stretch")
    numbers.metric("Bounced", f"{frame.at[0, 'share']:.0%}", help="Visits under five minutes")
    numbers.metric("Stayed an hour or more", f"{frame['share'].iloc[3:].sum():.0%}")
    median = frame.attrs["median_seconds"]
    if median is not None:
        numbers.metric("Median visit", f"{median / 60:.0f} min")
    st.caption(f"{words.counted(visits, 'mall visit')} that ended: a visit is a device heard in the mall with no "
               "gap over five minutes; the buckets are Cisco Meraki's.")


def loyalty() -> None:
    frame = ui.day_section("How often they come", data.loyalty, selection, "ended visits")
    if frame is None:
        return
    chart, numbers = st.columns([3, 1])
    chart.altair_chart(charts.ranked_bars(frame, "loyalty", "visitors", "Visitors"), width="stretch")
    numbers.metric("First time", f"{frame.at[0, 'share']:.0%}")
    numbers.metric("Daily or weekly", f"{frame['share'].iloc[1:3].sum():.0%}")
    st.caption(f"{words.counted(frame.attrs['visitors'], 'visitor')} with an ended mall visit, by their visits on "
               "earlier days: daily on 4 of the 7 days before, weekly in 3 of the 4 weeks before, monthly within "
               "30 days, occasional before that.")


tiles()
hours()
engagement()
loyalty()
