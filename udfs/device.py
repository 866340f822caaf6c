"""Device identity (DESIGN.md §4): a salted hash, so raw MACs are never stored or published.

The salt is a secret: it reaches the Python worker through the environment
(FOOTFALL_SALT), never through SQL text, the job graph or a log line.
"""

from __future__ import annotations

import hashlib
import os

from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

SALT_VARIABLE = "FOOTFALL_SALT"


def device_id(salt: str, mac: str) -> str:
    """First 16 hex characters of SHA-256(salt + mac); `mac` is already normalised."""
    return hashlib.sha256((salt + mac).encode()).hexdigest()[:16]


class DeviceId(ScalarFunction):
    def __init__(self) -> None:
        self._salt = ""

    def open(self, function_context: FunctionContext) -> None:
        salt = os.environ.get(SALT_VARIABLE, "")
        if not salt:
            raise RuntimeError(f"{SALT_VARIABLE} is not set in the Flink worker's environment")
        self._salt = salt

    def eval(self, mac: str | None) -> str | None:
        return None if mac is None else device_id(self._salt, mac)


def register(table_env) -> None:  # type: ignore[no-untyped-def]
    table_env.create_temporary_function(
        "device_id", udf(DeviceId(), result_type=DataTypes.STRING(), deterministic=True)
    )
