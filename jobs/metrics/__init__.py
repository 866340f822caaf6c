"""The metrics job: probe and door events in; docs/design.md §4 metrics out to ClickHouse,
Redis, the favourite-shop feed and dead-letters. SQL in the numbered files, run by
`python -m jobs.metrics` (the launcher in job.py)."""
