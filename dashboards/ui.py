"""Streamlit plumbing shared by the pages: settings, clients, the mall and day pickers,
cached history reads, and a clear message (never a traceback) when a service is down."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import clickhouse_driver
import clickhouse_driver.errors
import kafka
import kafka.errors
import pandas as pd
import psycopg
import redis
import redis.exceptions
import streamlit as st

from dashboards import alerting, data, health, words
from footfall import clients
from footfall.schema import postgres_schema
from footfall.settings import Settings

#: What each service raises when it cannot be reached or answer.
DOWN = {
    "Redis": (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError),
    "ClickHouse": (clickhouse_driver.errors.NetworkError, clickhouse_driver.errors.SocketTimeoutError, EOFError,
                   ConnectionError, OSError),
    "PostgreSQL": (psycopg.OperationalError,),
    "Kafka": (kafka.errors.NoBrokersAvailable, kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError),
    "Flink": (OSError, ValueError),
}
#: How long a history read is reused: the job writes every second, people read slower.
HISTORY_TTL_SECONDS = 10


@st.cache_resource
def settings() -> Settings:
    return Settings()


@st.cache_resource
def redis_client() -> redis.Redis:
    return clients.redis_client(settings().redis)


def clickhouse() -> clickhouse_driver.Client:
    # A native connection is not safe to share between sessions' threads; it is cheap to open.
    return clients.clickhouse(settings().clickhouse)


def kafka_consumer() -> kafka.KafkaConsumer:
    """A consumer in the job's group that only reads its committed offsets (it never
    joins the group or commits); the caller closes it."""
    return clients.kafka_consumer(settings().kafka, group_id=settings().job.group_id, enable_auto_commit=False,
                                  api_version_auto_timeout_ms=5000)


def flink_rest() -> str:
    return f"http://127.0.0.1:{settings().job.rest_port}"


def input_topics() -> list[str]:
    return settings().kafka.input_topics


def pg_schema() -> str:
    return postgres_schema(settings().postgres)


def address(name: str) -> str:
    config = settings()
    if name == "Kafka":
        return config.kafka.servers
    if name == "Flink":
        return flink_rest()
    stores: dict[str, Any] = {"Redis": config.redis, "ClickHouse": config.clickhouse, "PostgreSQL": config.postgres}
    service_settings = stores[name]
    return f"{service_settings.host}:{service_settings.port}"


def down(name: str) -> None:
    """The one-line message for a service that cannot be reached."""
    what = "The metrics job's REST API" if name == "Flink" else name
    start = "start the job with `make up`" if name == "Flink" else "start the stack with `make up`"
    st.error(f"{what} is not reachable at {address(name)}: {start}; this page retries on its next refresh.",
             icon=":material/cloud_off:")


@contextmanager
def service(name: str) -> Iterator[None]:
    """Run a read; if `name` is down, say so in one line and stop this run of the page."""
    try:
        yield
    except DOWN[name]:
        down(name)
        st.stop()


def attempt(name: str, read: Callable[..., Any], *args: Any) -> Any:
    """`read(*args)`, or None (and the one-line message) if `name` is down: for a part of a
    page that should not take the rest down with it."""
    try:
        return read(*args)
    except DOWN[name]:
        down(name)
        return None


@st.cache_data(ttl=HISTORY_TTL_SECONDS, show_spinner=False)
def _history(module: str, query: str, *args: Any) -> Any:
    return getattr(importlib.import_module(module), query)(clickhouse(), *args)


def history(query: Callable[..., Any], *args: Any) -> Any:
    """`query` (a function of the dashboards' queries, `dashboards.data` or
    `dashboards.sales`, taking a ClickHouse client first) for `args`, cached for a few
    seconds; a ClickHouse outage is one line on the page."""
    with service("ClickHouse"):
        return _history(query.__module__, query.__name__, *args)


@st.cache_data(ttl=5, show_spinner=False)
def open_alerts(mall_id: str | None = None) -> pd.DataFrame:
    """The alerts open now (of one mall): dashboards.alerting.open_alerts, cached a moment."""
    with clients.postgres(settings().postgres, autocommit=True) as conn:
        return alerting.open_alerts(conn, pg_schema(), mall_id)


@st.cache_data(ttl=60, show_spinner=False)
def malls() -> pd.DataFrame:
    with clients.postgres(settings().postgres, autocommit=True) as conn:
        return data.malls(conn, pg_schema())


@st.cache_data(ttl=60, show_spinner=False)
def mall_layout(mall_id: str) -> data.MallLayout | None:
    with clients.postgres(settings().postgres, autocommit=True) as conn:
        return data.mall_layout(conn, pg_schema(), mall_id)


@dataclass(frozen=True)
class Selection:
    """What every page shows: a mall, and a local day of it."""

    mall_id: str
    name: str
    tz: ZoneInfo
    day: date
    layout: data.MallLayout

    @property
    def shops(self) -> pd.DataFrame:
        """The layout's shops without their polygons (what the shop tables join)."""
        return self.layout.shops[["shop_code", "shop_name", "category"]]

    @property
    def currency(self) -> str:
        """The mall's currency (ISO 4217): what its sales are shown in."""
        return str(malls().set_index("mall_id").at[self.mall_id, "currency"])

    @property
    def local_today(self) -> date:
        return datetime.now(self.tz).date()

    @property
    def week_before(self) -> date:
        return self.day - timedelta(days=7)

    @property
    def compared_hours(self) -> int:
        """The hours of the day compared with the same weekday a week before, now."""
        return data.compared_hours(self.day, datetime.now(self.tz))


def pick_mall() -> str | None:
    """The mall selector in the sidebar, shared by every page (kept in the URL, so a link
    opens the same mall). None, with a note, when no mall is loaded yet."""
    with service("PostgreSQL"):
        choices = malls()
    if choices.empty:
        st.info("No mall is loaded yet. Load the demo layout with `make simulate` (or "
                "`footfall simulate layout load`).", icon=":material/storefront:")
        return None
    ids = list(choices["mall_id"])
    names = dict(zip(choices["mall_id"], choices["name"]))
    # The choice outlives a page switch (widget state does not) and is kept in the URL; a
    # link that names a mall (the portfolio's) wins.
    wanted = st.query_params.get("mall") or st.session_state.get("_mall")
    mall_id = st.sidebar.selectbox("Mall", ids, index=ids.index(wanted) if wanted in ids else 0,
                                   format_func=lambda m: f"{names[m]} ({m})")
    st.session_state["_mall"] = st.query_params["mall"] = mall_id
    return str(mall_id)


def pick_day(mall_id: str, tz: ZoneInfo) -> date:
    """The day picker in the sidebar: by default the mall's local today when it has data,
    else the newest day it has data for (a replayed or simulated day)."""
    wanted = st.session_state.get(f"_day:{mall_id}") or _iso_date(st.query_params.get("day"))
    if wanted is None:
        today = datetime.now(tz).date()
        has_today = not history(data.day_summary, mall_id, today).empty
        wanted = today if has_today else history(data.newest_day, mall_id) or today
    day = st.sidebar.date_input("Day (mall time)", value=wanted, format="YYYY-MM-DD", key=f"day-{mall_id}")
    st.session_state[f"_day:{mall_id}"] = day
    st.query_params["day"] = day.isoformat()
    try:
        state, at = _history(data.day_state.__module__, data.day_state.__name__, mall_id, day)
    except DOWN["ClickHouse"]:
        return day  # no state to say: the page says ClickHouse is down where it reads it
    st.sidebar.caption(words.day_state(state, at, settings().restate.close_hours))
    return day


def select() -> Selection:
    """The mall and day pickers; stops the page with a friendly note when there is no mall."""
    mall_id = pick_mall()
    if mall_id is None:
        st.stop()
    with service("PostgreSQL"):
        layout = mall_layout(mall_id)
        tz = ZoneInfo(malls().set_index("mall_id").at[mall_id, "tz"])
    if layout is None:
        st.warning(f"Mall {mall_id} is no longer in the layout tables.")
        st.stop()
    return Selection(mall_id, layout.name, tz, pick_day(mall_id, tz), layout)


def _iso_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def day_section(title: str, query: Callable[..., Any], selection: Selection, what: str, *args: Any) -> Any:
    """A section of the picked mall and day: its heading, then `query`'s frame, or None
    (with the empty state said) when there is nothing yet."""
    st.subheader(title)
    frame = history(query, selection.mall_id, selection.day, *args)
    if frame.empty:
        no_data(what, selection)
        return None
    return frame


def no_data(what: str, selection: Selection) -> None:
    """The empty state: nothing yet for this mall and day, and why that may be."""
    st.info(f"No {what} for {selection.name} on {selection.day:%A %d %B %Y} yet. The metrics job writes them as "
            "events arrive: start the product with `make demo`, or pick another day.",
            icon=":material/hourglass_empty:")


def consumer_lag(read: dict[tuple[str, int], int]) -> pd.DataFrame:
    consumer = kafka_consumer()
    try:
        return health.consumer_lag(consumer, input_topics(), read)
    finally:
        consumer.close()


def job_health() -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The job's state (Flink REST) and its lag on the input topics (Kafka); None for the
    part whose service is down (with its one-line message)."""

    def look() -> tuple[pd.DataFrame, dict[tuple[str, int], int]]:
        job = health.flink_job(flink_rest())
        return health.job_status(job), health.read_positions(job)

    flink = attempt("Flink", look)
    job, read = flink if flink is not None else (None, {})
    return attempt("Kafka", consumer_lag, read), job
