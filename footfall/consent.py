"""The privacy registries (docs/privacy.md), by device id only: the devices whose owner
opted out of tracking (the job drops their reports at ingestion, from its next layout
reload), the devices whose owner consented to the favourite-shop feed (read when
FOOTFALL_FEED_CONSENT=required), and the log of every request answered. Both registries
live in PostgreSQL, where the job reads them with the layout."""

from __future__ import annotations

import json
from typing import Literal

from footfall import clients
from footfall.schema import postgres_schema
from footfall.settings import PostgresSettings

Registry = Literal["privacy_opt_outs", "privacy_consents"]
OPT_OUTS: Registry = "privacy_opt_outs"
CONSENTS: Registry = "privacy_consents"


def record(settings: PostgresSettings, kind: str, device_id: str, rows: dict[str, int]) -> None:
    """Log a request answered: its kind, the device and what it touched (rows per table or key)."""
    with clients.postgres(settings) as conn:
        conn.execute(
            f"INSERT INTO {postgres_schema(settings)}.privacy_requests (kind, device_id, rows) VALUES (%s, %s, %s)",
            (kind, device_id, json.dumps(rows)),
        )


def enrol(settings: PostgresSettings, registry: Registry, device_id: str, kind: str) -> bool:
    """Add the device to a registry (logged as `kind`); False if it was there already."""
    with clients.postgres(settings) as conn:
        added = conn.execute(
            f"INSERT INTO {postgres_schema(settings)}.{registry} (device_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (device_id,),
        ).rowcount
    record(settings, kind, device_id, {registry: added})
    return bool(added)


def withdraw(settings: PostgresSettings, registry: Registry, device_id: str, kind: str) -> bool:
    """Take the device out of a registry (logged as `kind`); False if it was not in it."""
    with clients.postgres(settings) as conn:
        removed = conn.execute(
            f"DELETE FROM {postgres_schema(settings)}.{registry} WHERE device_id = %s", (device_id,)
        ).rowcount
    record(settings, kind, device_id, {registry: removed})
    return bool(removed)


#: A person's choices: what each does to which registry (enrol in it, or leave it).
CHOICES: dict[str, tuple[Registry, bool]] = {
    "opt-out": (OPT_OUTS, True),
    "opt-in": (OPT_OUTS, False),
    "consent": (CONSENTS, True),
    "withdraw": (CONSENTS, False),
}


def choose(settings: PostgresSettings, choice: str, device_id: str) -> bool:
    """Carry out one of CHOICES for the device (logged); False if it changed nothing."""
    registry, enrols = CHOICES[choice]
    return (enrol if enrols else withdraw)(settings, registry, device_id, choice)


def requests(settings: PostgresSettings, device_id: str | None = None) -> list[tuple[object, ...]]:
    """The requests answered (of one device, or all), oldest first: at, kind, device_id, rows."""
    with clients.postgres(settings) as conn:
        return conn.execute(
            f"SELECT at, kind, device_id, rows FROM {postgres_schema(settings)}.privacy_requests "
            "WHERE %(d)s::text IS NULL OR device_id = %(d)s ORDER BY request_id",
            {"d": device_id},
        ).fetchall()
