package footfall.udf;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;

/**
 * A table as a stream of Flink's internal rows, for a step of the metrics job that leaves
 * the Table API (jobs/metrics/job.py: the newest time per partition, the fork of the
 * probe stream). Taken back with fromDataStream, such a stream needs no conversion either
 * way; as Java Rows, every row was converted out of the Table API and back into it for
 * each branch of the fork.
 */
public final class InternalRows {
    private InternalRows() {}

    public static DataStream<RowData> of(StreamTableEnvironment tableEnv, Table table) {
        DataType rows = table.getResolvedSchema().toPhysicalRowDataType().bridgedTo(RowData.class);
        return tableEnv.<RowData>toDataStream(table, rows);
    }
}
