"""The metrics job's sinks: one buffered sink (buffered.py: state, batches, retries and
back-pressure in one place) over one writer per store (clickhouse.py, redis.py,
postgres.py), each with its own table of the outputs it takes. The favourite-shop feed
and the dead letters go to Kafka through Flink's own Kafka sink (12_kafka_outputs.sql)."""

from jobs.metrics.sinks.buffered import BufferedSink, StoreHealth, output_of
from jobs.metrics.sinks.config import SinkConfig
from jobs.metrics.sinks.stores import Writers

__all__ = ["BufferedSink", "SinkConfig", "StoreHealth", "Writers", "output_of"]
