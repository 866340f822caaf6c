"""User-defined functions: the Java functions the job runs (udfs/java) and their plain typed
Python twins (positioning, zones, identity, geometry), the reference the tests reason with."""
