"""Staff and fixed devices (docs/design.md §4 item 14): the list operators read, and the
overrides they write. Both live in PostgreSQL: staff_detected (written by the metrics
job) and staff_overrides (written here); the job's ingestion reads both with the layout,
so a change takes effect at its next reload (FOOTFALL_JOB_LOOKUP_CACHE_SECONDS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from footfall import clients
from footfall.schema import postgres_schema as _schema
from footfall.settings import PostgresSettings

#: Columns of `staff_list`, in order.
COLUMNS = ("mall_id", "device_id", "status", "since_day", "qualified_day", "source", "note", "updated_at")

_LIST = """
SELECT mall_id, device_id,
    CASE WHEN o.is_staff IS FALSE THEN 'visitor' ELSE 'staff' END AS status,
    CASE WHEN o.mall_id IS NOT NULL THEN o.since_day ELSE d.since_day END AS since_day,
    d.qualified_day,
    CASE WHEN o.mall_id IS NULL THEN 'detected' WHEN d.mall_id IS NULL THEN 'operator'
         ELSE 'detected, overridden' END AS source,
    COALESCE(o.note, '') AS note,
    COALESCE(o.updated_at, d.detected_at) AS updated_at
FROM {schema}.staff_detected AS d
FULL JOIN {schema}.staff_overrides AS o USING (mall_id, device_id)
WHERE %(mall)s::text IS NULL OR mall_id = %(mall)s
ORDER BY mall_id, status, since_day NULLS FIRST, device_id
"""


@dataclass(frozen=True)
class Override:
    """An operator's word on one device: staff (from `since`, None for every day) or a visitor."""

    mall_id: str
    device_id: str
    is_staff: bool
    since: date | None = None
    note: str = ""


def staff_list(settings: PostgresSettings, mall_id: str | None = None) -> list[tuple[object, ...]]:
    """Every device detected or overridden (of one mall, or all), as COLUMNS."""
    with clients.postgres(settings) as conn:
        return conn.execute(_LIST.format(schema=_schema(settings)), {"mall": mall_id}).fetchall()


def set_override(settings: PostgresSettings, override: Override) -> None:
    with clients.postgres(settings) as conn:
        conn.execute(
            f"INSERT INTO {_schema(settings)}.staff_overrides (mall_id, device_id, is_staff, since_day, note)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (mall_id, device_id) DO UPDATE SET is_staff = EXCLUDED.is_staff,"
            " since_day = EXCLUDED.since_day, note = EXCLUDED.note, updated_at = now()",
            (override.mall_id, override.device_id, override.is_staff, override.since, override.note),
        )


def clear_override(settings: PostgresSettings, mall_id: str, device_id: str) -> bool:
    """Remove an override (the job's detection, if any, applies again); False if none."""
    with clients.postgres(settings) as conn:
        return conn.execute(
            f"DELETE FROM {_schema(settings)}.staff_overrides WHERE mall_id = %s AND device_id = %s",
            (mall_id, device_id),
        ).rowcount > 0


def describe(row: tuple[object, ...]) -> str:
    """One line of `footfall staff list`."""
    fields = dict(zip(COLUMNS, row))
    since = fields["since_day"].isoformat() if isinstance(fields["since_day"], date) else "every day"
    when = fields["updated_at"].strftime("%Y-%m-%d %H:%M") if isinstance(fields["updated_at"], datetime) else ""
    note = f"  {fields['note']}" if fields["note"] else ""
    return (f"{fields['mall_id']:<14} {fields['device_id']:<20} {fields['status']:<8} from {since:<10}  "
            f"{fields['source']:<22} {when}{note}")
