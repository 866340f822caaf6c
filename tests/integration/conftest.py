"""Fixtures of the end-to-end harness (tests/integration/endtoend.py) for every test here."""

from tests.integration.endtoend import job_settings, metrics_job, partitions, run, scenario

__all__ = ["job_settings", "metrics_job", "partitions", "run", "scenario"]
