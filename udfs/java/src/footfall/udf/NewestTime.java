package footfall.udf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.utils.JoinedRowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;

/**
 * The newest event time read so far from each message's Kafka partition, the message's own
 * included: what the ingestion's time rules measure a message against (jobs/metrics
 * 02_ingest.sql). It is worked out where the partition is read, in the source's subtask,
 * so no message crosses a shuffle to get it (a keyed OVER aggregate did this before, and
 * sending every message to it was a fifth of the job's ingestion), and it is kept in the
 * checkpoint: a restarted job replays its partitions against the times it had then, and
 * decides every message as before.
 *
 * <p>{@link #read} takes a table with {@code kafka_partition INT} and {@code event_time
 * TIMESTAMP_LTZ(3)} and gives it back with {@code newest_time TIMESTAMP_LTZ(3)} added,
 * under the source's watermark on {@code event_time}. The rows stay in Flink's internal
 * format on the way ({@link InternalRows}).
 */
public final class NewestTime extends ProcessFunction<RowData, RowData> implements CheckpointedFunction {
    private final int partitionField;
    private final int timeField;
    /** Newest event time per partition, epoch ms; partitions only this subtask reads. */
    private transient Map<Integer, Long> newest;
    private transient ListState<Tuple2<Integer, Long>> saved;

    NewestTime(int partitionField, int timeField) {
        this.partitionField = partitionField;
        this.timeField = timeField;
    }

    /** `table` with newest_time added, as a table under the source's watermark. */
    public static Table read(StreamTableEnvironment tableEnv, Table table, String name) {
        DataStream<RowData> rows = InternalRows.of(tableEnv, table);
        RowType type = (RowType) table.getResolvedSchema().toPhysicalRowDataType().getLogicalType();
        List<RowType.RowField> fields = new ArrayList<>(type.getFields());
        fields.add(new RowType.RowField("newest_time", new LocalZonedTimestampType(3)));
        RowType withNewest = new RowType(false, fields);
        NewestTime function = new NewestTime(type.getFieldIndex("kafka_partition"), type.getFieldIndex("event_time"));
        DataStream<RowData> stream = rows
                .process(function, InternalTypeInfo.of(withNewest))
                .name(name);
        return tableEnv.fromDataStream(
                stream, Schema.newBuilder().watermark("event_time", "SOURCE_WATERMARK()").build());
    }

    @Override
    public void processElement(RowData row, Context ctx, Collector<RowData> out) {
        Integer partition = row.getInt(partitionField);
        Long before = newest.get(partition);
        long newestMs;
        if (row.isNullAt(timeField)) {
            if (before == null) {
                out.collect(new JoinedRowData(row, GenericRowData.of((Object) null)));
                return;
            }
            newestMs = before;
        } else {
            long time = row.getTimestamp(timeField, 3).getMillisecond();
            newestMs = before == null ? time : Math.max(before, time);
            if (before == null || newestMs != before) {
                newest.put(partition, newestMs);
            }
        }
        out.collect(new JoinedRowData(row, GenericRowData.of(TimestampData.fromEpochMillis(newestMs))));
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        List<Tuple2<Integer, Long>> entries = new ArrayList<>();
        newest.forEach((partition, time) -> entries.add(Tuple2.of(partition, time)));
        saved.update(entries);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Union state: after a restore every subtask has every partition's time, so a
        // partition read by another subtask than before still finds its own.
        saved = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("newest_time", Types.TUPLE(Types.INT, Types.LONG)));
        newest = new HashMap<>();
        for (Tuple2<Integer, Long> entry : saved.get()) {
            newest.merge(entry.f0, entry.f1, Math::max);
        }
    }
}
