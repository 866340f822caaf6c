"""Device identity without Flink (docs/design.md §4): MAC normalisation and the salted hash,
the reference of the job's Java parse_probe (udfs/java ParseProbe.java), and what anything
else that must name a device as the job does uses."""

from __future__ import annotations

import hashlib
import re

#: Where the Flink workers find the salt (never in the job graph, whose parameters
#: Flink's REST API shows).
SALT_VARIABLE = "FOOTFALL_SALT"

#: Six octets of hex, `:` or `-` separated, any case (docs/design.md §3).
MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


def normalise_mac(mac: str) -> str | None:
    """Lower case with `:`, or None when `mac` is not a MAC."""
    return mac.lower().replace("-", ":") if MAC.match(mac) else None


def device_id(salt: str, mac: str) -> str:
    """First 16 hex characters of SHA-256(salt + mac); `mac` is already normalised."""
    return hashlib.sha256((salt + mac).encode()).hexdigest()[:16]
