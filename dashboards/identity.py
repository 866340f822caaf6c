"""Which device a person asks about: a device id as published, or a MAC hashed the way
the job hashes it (the MAC itself is neither kept nor shown)."""

from __future__ import annotations

import re

from footfall.settings import Settings
from udfs.identity import device_id, normalise_mac

DEVICE_ID = re.compile(r"^[0-9a-f]{16}$")


class DeviceQueryError(ValueError):
    """The text names no device; the message says why in one line."""


def device_for(query: str, settings: Settings) -> str:
    text = query.strip()
    if DEVICE_ID.match(text.lower()):
        return text.lower()
    mac = normalise_mac(text)
    if mac is None:
        raise DeviceQueryError(f"'{text}' is neither a device id (16 hex characters) nor a MAC "
                               "(six hex pairs separated by ':' or '-').")
    configured = settings.metrics.salt is not None and settings.metrics.salt.get_secret_value()
    if not configured and not (settings.stack.var_dir / "salt").exists():
        raise DeviceQueryError("A MAC can only be looked up with the job's salt: set FOOTFALL_SALT as the job has it, "
                               "or look up the device id.")
    return device_id(settings.metrics.salt_value(settings.stack.var_dir), mac)
