"""System: is the pipeline healthy? The job's state and how far it is behind its input,
a degraded state (a store or PostgreSQL the job cannot reach, since when, the rows
waiting, its restarts), events/s in and read, every input message accounted for
(accepted + rejected = read), rejected input by reason, when each output was last
written, the mall's staff and fixed devices, what the outputs hold for the picked
mall and day, and the oldest day of device-level data held per retention class. A service that is down
takes only its own part of the page with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import health, ui
from footfall import retention, staff
from footfall.supervision import running_state

REFRESH_SECONDS = 3

selection = ui.select()
st.title("System")


def since(moment: datetime | None) -> str:
    if moment is None or pd.isna(moment):
        return "never"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def supervised() -> None:
    """The embedded job's supervisor, when it runs here: its restarts and why."""
    state = running_state(ui.settings())
    if state is None:
        return
    if state.state == "restarting":
        st.warning(f"The job's process ended ({state.last.reason if state.last else '?'}); its supervisor starts "
                   "it again from its newest checkpoint.", icon=":material/restart_alt:")
    restarts = health.supervisor_restarts(state)
    with st.expander(f"Supervisor: {state.describe()}", expanded=False):
        st.dataframe(restarts, hide_index=True, width="stretch", column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "reason": "Why the process ended", "restored_from": "Started again from"})


@st.fragment(run_every=REFRESH_SECONDS)
def pipeline() -> None:
    lag, job = ui.job_health()
    state, incoming, reading, behind = st.columns(4)
    if job is not None:
        if job.empty:
            state.metric("Metrics job", "not running")
            st.warning(f"Flink at {ui.flink_rest()} runs no metrics job: start it with `make up`.",
                       icon=":material/pause_circle:")
        else:
            state.metric("Metrics job", job.at[0, "state"], f"up {job.at[0, 'uptime_seconds'] / 60:.0f} min",
                         delta_color="off", delta_arrow="off")
            reading.metric("Events/s read by the job", f"{job.at[0, 'events_per_second']:,.0f}",
                           help="Flink's source rate (numRecordsOutPerSecond)")
            if job.at[0, "degraded"]:
                st.error(f"Degraded: {job.at[0, 'degraded']}. The job keeps counting; results wait in its "
                         "sinks (in Flink state) and reach the store when it answers.", icon=":material/warning:")
            st.caption(f"Checkpoints: {job.at[0, 'checkpoints']:,} completed, {job.at[0, 'failed_checkpoints']:,} "
                       f"failed, the last {since(job.at[0, 'last_checkpoint'])}. Restarts: "
                       f"{job.at[0, 'restarts']:,}; rows waiting in the sinks: {job.at[0, 'rows_waiting']:,}. Started "
                       f"{job.at[0, 'started']:%Y-%m-%d %H:%M:%S} UTC. Refreshes every {REFRESH_SECONDS} s.")
    supervised()
    if lag is None:
        return
    meter = st.session_state.setdefault("_input_rates", health.RateMeter())
    rates = meter.rates(health.topic_totals(lag))
    arriving = None if any(r is None for r in rates.values()) else sum(rates.values())
    incoming.metric("Events/s in", "measuring…" if arriving is None else f"{arriving:,.0f}",
                    help="Messages arriving on the input topics, between two refreshes")
    behind.metric("Consumer lag", f"{int(lag['lag'].sum()):,}",
                  help="Messages on the input topics the job has not read yet")
    st.markdown(f"**Input topics**: what the job has read, and what its group `{ui.settings().job.group_id}` "
                "committed at its last checkpoint")
    st.dataframe(lag, hide_index=True, width="stretch", column_config={
        "topic": "Topic", "partition": st.column_config.NumberColumn("Partition", format="%d"),
        "end_offset": st.column_config.NumberColumn(
            "Written", format="%d", help="Messages written to the partition so far: its end offset as the broker "
                                         "reports it, or what the job has read if that is further"),
        "read": st.column_config.NumberColumn(
            "Read by the job", format="%d", help="Messages of the partition the job's source has fetched (Flink's "
                                                 "currentOffset metric plus one; a few seconds old)"),
        "committed": st.column_config.NumberColumn(
            "Committed", format="%d", help="What the job's group committed at its last checkpoint: where a "
                                           "restart without a checkpoint would begin"),
        "lag": st.column_config.NumberColumn("Lag", format="%d", help="Written, not yet read: written minus the "
                                                                      "further of read and committed")})
    try:
        counted = health.accounting(ui.redis_client(), lag, ui.input_topics())
    except ui.DOWN["Redis"]:
        counted = None  # the part below says that Redis is down
    if counted is not None:
        st.markdown("**Every message accounted for**: accepted + opted out + rejected + in flight = read")
        st.dataframe(counted, hide_index=True, width="stretch", column_config={
            "topic": "Topic", "read": st.column_config.NumberColumn("Read", format="%d"),
            "accepted": st.column_config.NumberColumn("Accepted", format="%d"),
            "opted_out": st.column_config.NumberColumn(
                "Opted out", format="%d", help="Reports of devices whose owner asked not to be tracked: dropped at "
                                               "once, in no count and no dead letter (docs/privacy.md)"),
            "rejected": st.column_config.NumberColumn("Rejected", format="%d"),
            "in_flight": st.column_config.NumberColumn("In flight", format="%d",
                                                       help="Read, not yet in the job's counts (a second or two)"),
            "late_for_windows": st.column_config.NumberColumn(
                "Too late for visits/positions", format="%d",
                help="Accepted and counted, but behind the watermark: in no visit and no live position")})


@st.fragment(run_every=REFRESH_SECONDS)
def rejected_and_written() -> None:
    letters = ui.attempt("Redis", health.dead_letters, ui.redis_client(), ui.input_topics())
    ages = ui.attempt("Redis", health.output_ages, ui.redis_client()) if letters is not None else None
    if letters is None or ages is None:
        return
    letters_column, outputs_column = st.columns(2)
    with letters_column:
        st.metric("Rejected messages", f"{int(letters['messages'].sum()):,}",
                  help="Sent to the dead-letters topic with a reason, since the job's counts began")
        st.markdown("**Dead letters by reason**")
        if letters.empty:
            st.success("No rejected input so far.", icon=":material/check_circle:")
        else:
            st.dataframe(letters, hide_index=True, width="stretch", column_config={
                "topic": "Topic", "reason": "Reason",
                "messages": st.column_config.NumberColumn("Messages", format="%d")})
    with outputs_column:
        st.markdown("**Outputs, last written**")
        st.dataframe(ages.assign(written=[since(a) for a in ages["updated_at"]])[["output", "written"]],
                     hide_index=True, width="stretch", column_config={"output": "Output",
                                                                      "written": "Last written"})


@st.cache_data(ttl=ui.HISTORY_TTL_SECONDS, show_spinner=False)
def staff_devices(mall_id: str) -> pd.DataFrame:
    return pd.DataFrame(staff.staff_list(ui.settings().postgres, mall_id), columns=list(staff.COLUMNS))


def staff_list() -> None:
    st.subheader(f"Staff and fixed devices of {selection.name}")
    st.caption("Heard more than the staff hours a day on enough recent days: counted on their own and left out of "
               "every visitor metric from the day after. Override one with `footfall staff set`.")
    rows = ui.attempt("PostgreSQL", lambda: staff_devices(selection.mall_id))
    if rows is None:
        return
    if rows.empty:
        st.info("No staff or fixed device detected or set for this mall yet.")
        return
    st.dataframe(rows.drop(columns=["mall_id"]), hide_index=True, width="stretch", column_config={
        "device_id": "Device", "status": "Counted as", "since_day": "From", "qualified_day": "Rule met on",
        "source": "Decided by", "note": "Note", "updated_at": "Updated"})


def stored() -> None:
    st.subheader(f"Stored for {selection.name} on {selection.day:%A %d %B %Y}")
    rows = ui.attempt("ClickHouse", lambda: health.stored_rows(ui.clickhouse(), selection.mall_id, selection.day,
                                                               str(selection.tz)))
    if rows is None:
        return
    if not rows["rows"].any():
        ui.no_data("stored results", selection)
        return
    st.dataframe(rows, hide_index=True, column_config={
        "output": "ClickHouse table", "rows": st.column_config.NumberColumn("Rows", format="%d")})


def restated() -> None:
    st.subheader("Restated days")
    close = ui.settings().restate
    st.caption(f"A mall's day is final once restated: the job's SQL run again over every report of the day, with "
               f"the layout as it is then, {close.close_hours:g} h after its midnight for the last "
               f"{close.auto_days} days (by the job's supervisor), or by `footfall restate` after a correction.")
    try:
        rows = health.restatements(ui.clickhouse())
    except ui.DOWN["ClickHouse"]:
        return  # said once already, by the part above that reads ClickHouse
    if rows.empty:
        st.info("No day has been restated yet: every day shown is provisional.")
        return
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "mall_id": "Mall", "day": st.column_config.DateColumn("Day", format="YYYY-MM-DD"), "state": "State",
        "restated_at": st.column_config.DatetimeColumn("Restated (UTC)", format="YYYY-MM-DD HH:mm"),
        "reports": st.column_config.NumberColumn("Reports read", format="%d"),
        "seconds": st.column_config.NumberColumn("Took (s)", format="%.0f")})


def kept() -> None:
    st.subheader("Retention")
    privacy = ui.settings().privacy
    st.caption("Device-level data is kept for its class's days, then removed by the job's supervisor (every "
               f"{privacy.retention_every_hours:g} h) or `footfall privacy enforce`; counts per mall, shop, day and "
               f"hour are kept. The input topics and the dead letters are kept {privacy.retention_topics_days} days "
               "where the broker enforces retention.ms (docs/privacy.md).")
    try:
        rows = retention.oldest_days(ui.settings())
    except ui.DOWN["ClickHouse"]:
        return  # said once already, by the part above that reads ClickHouse
    st.dataframe(pd.DataFrame(rows, columns=["class", "days", "oldest"]), hide_index=True, column_config={
        "class": "Data", "days": st.column_config.NumberColumn("Kept (days)", format="%d"),
        "oldest": st.column_config.DateColumn("Oldest day held", format="YYYY-MM-DD")})


pipeline()
rejected_and_written()
staff_list()
stored()
restated()
kept()
