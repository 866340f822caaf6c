"""Device identity (DESIGN.md §4): a salted hash, so raw MACs are never stored or published.

The salt is a secret: it reaches the Python worker through the environment
(FOOTFALL_SALT), never through SQL text, the job graph or a log line.
"""

from __future__ import annotations

import os

from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from udfs.identity import device_id

__all__ = ["DeviceId", "device_id", "register"]

SALT_VARIABLE = "FOOTFALL_SALT"


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
