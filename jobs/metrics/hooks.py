"""The tables and views the job's SQL files use that Flink SQL cannot declare, made in one
place; each SQL file's header names the ones it reads. All of them keep the rows in the
JVM (udfs/java): no Python function touches a row.

- probe_read, door_read, pos_read (read by 02_ingest.sql): probe_checked, door_checked and
  pos_checked with
  `newest_time`, the newest event time read so far from the message's partition, worked
  out in the source's subtask (udfs/java NewestTime.java: operator state, no shuffle);
- probe_log, probe_log_live (read by 03_events.sql): probe_ingested forked under two time
  attributes (a view cannot declare a new one);
- kafka_messages (read by 12_kafka_outputs.sql): the rows of the outputs changelog bound
  for Kafka, insert-only (udfs/java Route.java);
- the outputs changelog bound for ClickHouse, Redis and PostgreSQL, keyed by sink key, for
  the sinks (`to_stores`).

PyFlink has no public API for a Java function over a table or a stream, so this module is
the one place that reaches PyFlink's Java objects (`_j_tenv`, `_j_table`,
`_j_data_stream`).
"""

from __future__ import annotations

import re

from pyflink.common import Types, typeinfo
from pyflink.datastream import DataStream, KeyedStream
from pyflink.java_gateway import get_gateway
from pyflink.table import Schema, StreamTableEnvironment, Table

from jobs import sql

#: The views of 02_ingest.sql that hold each topic's messages in the order of their
#: partitions, and the view each becomes with the newest event time read so far from the
#: message's partition added (`newest_time`), worked out in the JVM as they are read.
NEWEST_TIME = {"probe_checked": "probe_read", "door_checked": "door_read", "pos_checked": "pos_read"}
CREATED_VIEW = re.compile(r"CREATE\s+TEMPORARY\s+VIEW\s+(\w+)", re.IGNORECASE)


def run_statement(table_env: StreamTableEnvironment, statement: str) -> None:
    """Run a statement that is not an INSERT; once it has made a view of NEWEST_TIME, make
    that view's counterpart with udfs/java NewestTime.java (in each source's subtask, kept
    in the checkpoint: no shuffle, as a keyed OVER aggregate needed)."""
    table_env.execute_sql(statement)
    made = CREATED_VIEW.match(statement)
    if made and made.group(1) in NEWEST_TIME:
        view = made.group(1)
        j_table = get_gateway().jvm.footfall.udf.NewestTime.read(
            table_env._j_tenv, table_env.from_path(view)._j_table, f"newest event time of {view}"
        )
        table_env.create_temporary_view(NEWEST_TIME[view], Table(j_table, table_env))


def fork_probe_log(table_env: StreamTableEnvironment, visit_shift_seconds: int) -> None:
    """probe_ingested as two tables under the source's (position delay) watermark:
    probe_log_live with event_time as its time attribute, and probe_log with
    visit_time = event_time + `visit_shift_seconds`, on which the same watermark trails
    event time by the full watermark delay (see 03_events.sql).

    The stream leaves the Table API once, so the topic is read once, and the rows never
    leave the JVM (no Python function touches them) nor Flink's internal format
    (udfs/java InternalRows.java: no conversion per row and branch)."""
    j_tenv = table_env._j_tenv
    rows = get_gateway().jvm.footfall.udf.InternalRows.of(j_tenv, table_env.from_path("probe_ingested")._j_table)
    live = (
        Schema.new_builder()
        .column_by_expression("proc_time", "PROCTIME()")
        .watermark("event_time", "SOURCE_WATERMARK()")
        .build()
    )
    shifted = (
        Schema.new_builder()
        .column_by_expression("proc_time", "PROCTIME()")
        .column_by_expression(
            "visit_time", f"event_time + INTERVAL '{sql.day_to_second(visit_shift_seconds)}' DAY TO SECOND"
        )
        .watermark("visit_time", "SOURCE_WATERMARK()")
        .build()
    )
    for view, schema in (("probe_log_live", live), ("probe_log", shifted)):
        table_env.create_temporary_view(view, Table(j_tenv.fromDataStream(rows, schema._j_schema), table_env))


def kafka_messages(table_env: StreamTableEnvironment, outputs: DataStream) -> None:
    """kafka_messages: the rows of the outputs changelog published to Kafka (12_kafka_outputs.sql)."""
    table_env.create_temporary_view("kafka_messages", table_env.from_data_stream(route_to_kafka(outputs)))


def route_to_kafka(stream: DataStream) -> DataStream:
    """The rows of the outputs changelog published to Kafka, picked in the JVM (udfs/java
    Route.java): no row crosses into Python to be routed."""
    j_stream = stream._j_data_stream
    # The jvm view (not a java.lang.Class) calls static methods; it sees pipeline.jars
    # once the environment is made.
    function = get_gateway().jvm.footfall.udf.Route.toKafka()
    return DataStream(j_stream.flatMap(function).returns(j_stream.getType()).name("to kafka"))


def to_stores(stream: DataStream) -> KeyedStream:
    """The rows of the outputs changelog written to ClickHouse and Redis, keyed by their
    sink key, all in the JVM: what `stream.key_by(lambda row: row[0])` gives, without its
    Python function, which sent every row through Python once more before its sink."""
    gateway = get_gateway()
    j_stream = stream._j_data_stream
    row_type = typeinfo._from_java_type(j_stream.getType())
    pairs = Types.ROW([Types.STRING(), row_type]).get_java_type_info()
    j_pairs = j_stream.flatMap(gateway.jvm.footfall.udf.Route.toStores()).returns(pairs).name("to stores")
    j_keyed = j_pairs.keyBy(gateway.jvm.KeyByKeySelector(), Types.ROW([Types.STRING()]).get_java_type_info())
    return KeyedStream(j_keyed, row_type, stream)
