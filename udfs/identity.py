"""Device identity without Flink (docs/design.md §4): MAC normalisation and the salted hash,
the reference of the job's Java parse_probe (udfs/java ParseProbe.java), and what anything
else that must name a device as the job does uses: a page's device lookup, a privacy
request."""

from __future__ import annotations

import hashlib
import re

from footfall.settings import Settings

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


DEVICE_ID = re.compile(r"^[0-9a-f]{16}$")


class DeviceQueryError(ValueError):
    """The text names no device; the message says why in one line."""


def device_for(query: str, settings: Settings, make_salt: bool = False) -> str:
    """The device a person names (a page's lookup, a privacy request): a device id as
    published, or a MAC hashed as the job hashes it (the MAC is neither kept nor shown).
    Without a salt yet, a lookup is refused; with `make_salt` (a privacy request, which
    must hold for the ids the job will make) the installation's salt is made now."""
    text = query.strip()
    if DEVICE_ID.match(text.lower()):
        return text.lower()
    mac = normalise_mac(text)
    if mac is None:
        raise DeviceQueryError(f"'{text}' is neither a device id (16 hex characters) nor a MAC "
                               "(six hex pairs separated by ':' or '-').")
    configured = settings.metrics.salt is not None and settings.metrics.salt.get_secret_value()
    if not configured and not (settings.stack.var_dir / "salt").exists() and not make_salt:
        raise DeviceQueryError("A MAC can only be looked up with the job's salt: set FOOTFALL_SALT as the job has it, "
                               "or look up the device id.")
    return device_id(settings.metrics.salt_value(settings.stack.var_dir), mac)
