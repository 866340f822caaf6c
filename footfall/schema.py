"""Names the stores' schemas are known by, checked before they are placed into SQL: every
package that writes or reads PostgreSQL or ClickHouse by name asks here."""

from __future__ import annotations

import re

from footfall.settings import PostgresSettings

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: PostgreSQL's tables of staff: the job's detections and operators' overrides.
STAFF_TABLES = ("staff_detected", "staff_overrides")
#: PostgreSQL's privacy registries and the log of requests answered (docs/privacy.md).
PRIVACY_TABLES = ("privacy_opt_outs", "privacy_consents", "privacy_requests")
#: PostgreSQL's alerts (footfall/alerts.py): the rules, their state, the webhooks and the
#: deliveries of their events.
ALERT_TABLES = ("alert_rules", "alerts", "webhooks", "alert_deliveries")


def identifier(value: str, variable: str) -> str:
    """A database or schema name, checked before it is placed into DDL."""
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{variable}={value!r}: not a plain SQL identifier")
    return value


def postgres_schema(settings: PostgresSettings) -> str:
    """The PostgreSQL schema's name, checked before it is placed into SQL."""
    return identifier(settings.schema_name, "FOOTFALL_POSTGRES_SCHEMA")
