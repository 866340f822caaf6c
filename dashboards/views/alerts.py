"""Alerts: what needs an operator now across every mall (open alerts, critical first,
each with its value against its threshold, acknowledged or not) and what happened over
the last days (every opening, escalation and resolution); an open alert can be
acknowledged here as with `footfall alerts ack`."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboards import alerting, ui
from footfall import alerts, clients

REFRESH_SECONDS = 10

st.title("Alerts")


RULE_WORDS = {
    "occupancy": "Occupancy over capacity",
    "footfall_band": "Visitors outside the expected band",
    "probe_silent": "Probe silent",
    "door_silent": "Door counter silent",
    "probe_degraded": "Probe hearing far less than usual",
    "capture_drift": "Visitors per door entry off their usual (probes or counters count wrong)",
    "unregistered_probe": "Reports from a probe not in the layout (register it)",
}
#: What a rule's subject is, when it is not the mall.
SUBJECT_WORDS = {"occupancy": "shop", "probe_silent": "probe", "door_silent": "counter", "probe_degraded": "probe",
                 "unregistered_probe": "probe"}


def rule_words(rule: str, subject: str) -> str:
    what = RULE_WORDS.get(rule, rule)
    return f"{what} ({SUBJECT_WORDS.get(rule, '') + ' ' + subject if subject else 'the mall'})"


@st.fragment(run_every=REFRESH_SECONDS)
def open_now() -> None:
    st.subheader("Open now")
    with ui.service("PostgreSQL"), clients.postgres(ui.settings().postgres, autocommit=True) as conn:
        frame = alerting.open_alerts(conn, ui.pg_schema())
    if frame.empty:
        st.success("No alert is open.", icon=":material/check_circle:")
        return
    # An unregistered probe's alert is the installation's (its reports name no mall).
    names = {**dict(zip(ui.malls()["mall_id"], ui.malls()["name"])), "": "(no mall: not in the layout)"}
    frame.insert(1, "mall", frame["mall_id"].map(names).fillna(frame["mall_id"]))
    frame.insert(2, "what", [rule_words(r, s) for r, s in zip(frame["rule"], frame["subject"])])
    st.dataframe(frame.drop(columns=["mall_id", "rule", "subject"]), hide_index=True, width="stretch", column_config={
        "alert_id": st.column_config.TextColumn("Alert"), "mall": "Mall", "what": "What",
        "severity": "Severity", "opened_at": st.column_config.DatetimeColumn("Opened (UTC)"),
        "value": st.column_config.NumberColumn("Value", format="%.0f"),
        "threshold": st.column_config.NumberColumn("Threshold", format="%.0f"),
        "acked_at": st.column_config.DatetimeColumn("Acknowledged (UTC)"), "acked_by": "By"})
    st.caption(f"{len(frame)} open, {int((frame['severity'] == 'critical').sum())} critical; refreshes every "
               f"{REFRESH_SECONDS} s. Occupancy counts estimated people; the expected band is the Overview's.")
    waiting = [a for a, acked in zip(frame["alert_id"], frame["acked_at"]) if acked is None]
    if waiting:
        with st.form("ack"):
            chosen = st.selectbox("Alert to acknowledge", waiting)
            by = st.text_input("By", value="")
            if st.form_submit_button("Acknowledge"):
                with clients.postgres(ui.settings().postgres, autocommit=True) as conn:
                    done = alerts.acknowledge(conn, ui.pg_schema(), chosen, by)
                (st.success if done else st.warning)(f"{chosen}: " + ("acknowledged" if done else "no longer open"))


def past_days() -> None:
    st.subheader(f"The last {alerting.HISTORY_DAYS} days")
    with ui.service("ClickHouse"):
        frame = alerting.history(ui.clickhouse(), datetime.now(UTC) - alerting.HISTORY_SPAN)
    if frame.empty:
        st.info("No alert was raised in that time.", icon=":material/history:")
        return
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "at": st.column_config.DatetimeColumn("At (UTC)"), "mall_id": "Mall", "rule": "Rule", "subject": "Subject",
        "kind": "Event", "severity": "Severity", "value": st.column_config.NumberColumn("Value", format="%.0f"),
        "threshold": st.column_config.NumberColumn("Threshold", format="%.0f"), "alert_id": "Alert"})


open_now()
past_days()
