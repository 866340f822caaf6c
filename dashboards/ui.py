"""Streamlit plumbing shared by the pages: settings, clients, the mall picker, and a
clear message (never a traceback) when a service is down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import clickhouse_driver.errors
import psycopg
import redis.exceptions
import streamlit as st

from dashboards import data
from footfall import clients
from footfall.settings import Settings
from footfall.stack.bootstrap import identifier

#: What each service raises when it cannot be reached or answer.
DOWN = {
    "Redis": (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError),
    "ClickHouse": (clickhouse_driver.errors.NetworkError, clickhouse_driver.errors.SocketTimeoutError, EOFError,
                   ConnectionError, OSError),
    "PostgreSQL": (psycopg.OperationalError,),
}


@st.cache_resource
def settings() -> Settings:
    return Settings()


@st.cache_resource
def redis_client():  # type: ignore[no-untyped-def]
    return clients.redis_client(settings().redis)


def clickhouse():  # type: ignore[no-untyped-def]
    # A native connection is not safe to share between sessions' threads; it is cheap to open.
    return clients.clickhouse(settings().clickhouse)


def pg_schema() -> str:
    return identifier(settings().postgres.schema_name, "FOOTFALL_POSTGRES_SCHEMA")


@contextmanager
def service(name: str) -> Iterator[None]:
    """Run a read; if `name` is down, say so in one line and stop this run of the page."""
    try:
        yield
    except DOWN[name]:
        address = {"Redis": settings().redis, "ClickHouse": settings().clickhouse,
                   "PostgreSQL": settings().postgres}[name]
        st.error(f"{name} is not reachable at {address.host}:{address.port}. Start the stack with `make up`; "
                 "this page retries on its next refresh.", icon=":material/cloud_off:")
        st.stop()


@st.cache_data(ttl=60, show_spinner=False)
def malls() -> data.pd.DataFrame:
    with clients.postgres(settings().postgres, autocommit=True) as conn:
        return data.malls(conn, pg_schema())


@st.cache_data(ttl=60, show_spinner=False)
def mall_layout(mall_id: str) -> data.MallLayout | None:
    with clients.postgres(settings().postgres, autocommit=True) as conn:
        return data.mall_layout(conn, pg_schema(), mall_id)


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
    wanted = st.query_params.get("mall")
    index = ids.index(wanted) if wanted in ids else 0
    mall_id = st.sidebar.selectbox("Mall", ids, index=index, format_func=lambda m: f"{names[m]} ({m})", key="mall")
    st.query_params["mall"] = mall_id
    return mall_id
