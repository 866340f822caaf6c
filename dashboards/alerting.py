"""The alerts as the pages read them (footfall/alerts.py writes them): the alerts open
now across malls (PostgreSQL `alerts`) and the events of the last days (ClickHouse
`alerts`); an acknowledgement is footfall.alerts.acknowledge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import psycopg
from clickhouse_driver import Client as ClickHouse

OPEN_COLUMNS = ["alert_id", "mall_id", "rule", "subject", "severity", "opened_at", "value", "threshold", "acked_at",
                "acked_by"]
HISTORY_COLUMNS = ["at", "mall_id", "rule", "subject", "kind", "severity", "value", "threshold", "alert_id"]


def open_alerts(conn: psycopg.Connection[Any], schema: str, mall_id: str | None = None) -> pd.DataFrame:
    """The alerts open now (of one mall), critical first, newest first (OPEN_COLUMNS)."""
    rows = conn.execute(
        f"SELECT {', '.join(OPEN_COLUMNS)} FROM \"{schema}\".alerts WHERE status = 'open' "
        "AND (%(m)s::text IS NULL OR mall_id = %(m)s) "
        "ORDER BY severity = 'critical' DESC, opened_at DESC, alert_id", {"m": mall_id}).fetchall()
    return pd.DataFrame(rows, columns=OPEN_COLUMNS)


def history(clickhouse: ClickHouse, since: datetime) -> pd.DataFrame:
    """Every alert event since `since` (UTC), newest first (HISTORY_COLUMNS)."""
    rows = clickhouse.execute(
        f"SELECT {', '.join(HISTORY_COLUMNS)} FROM alerts FINAL WHERE at >= %(s)s ORDER BY at DESC, event_id",
        {"s": since.replace(tzinfo=None)})
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


#: How far back the page's history goes.
HISTORY_DAYS = 7
HISTORY_SPAN = timedelta(days=HISTORY_DAYS)
