package footfall.udf;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.table.data.binary.BinaryRowData;
import org.apache.flink.table.data.writer.BinaryRowWriter;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * partition_key(kafka_partition, parallelism, max_parallelism): the key the ingestion's
 * per-partition OVER aggregate is partitioned by, one per Kafka partition, chosen so that
 * Flink's hash exchange sends partition p to subtask p mod parallelism.
 *
 * <p>Why: partitioned by the partition number itself, the exchange put partitions 0 and 1
 * on the same subtask at parallelism 2 (their key groups fall in one half), so the whole
 * ingestion ran on one core. The key of partition p is the first number from p * 4096 up
 * whose key group (as Flink computes it for a one-INT key row: BinaryRowData's hash, then
 * KeyGroupRangeAssignment) belongs to subtask p mod parallelism; the ranges keep every
 * partition's key its own. Worked out once per partition and remembered.
 */
public class PartitionKey extends ScalarFunction {
    static final int RANGE = 4096;
    private transient int[] keys = new int[0];
    private transient int forParallelism;
    private transient int forMaxParallelism;

    public int eval(Integer kafkaPartition, int parallelism, int maxParallelism) {
        int partition = kafkaPartition == null ? 0 : kafkaPartition; // the source always sets it
        if (parallelism != forParallelism || maxParallelism != forMaxParallelism) {
            keys = new int[0];
            forParallelism = parallelism;
            forMaxParallelism = maxParallelism;
        }
        if (partition >= keys.length) {
            int[] grown = java.util.Arrays.copyOf(keys, Math.max(partition + 1, keys.length * 2));
            java.util.Arrays.fill(grown, keys.length, grown.length, -1);
            keys = grown;
        }
        if (keys[partition] < 0) {
            keys[partition] = keyFor(partition, parallelism, maxParallelism);
        }
        return keys[partition];
    }

    static int keyFor(int partition, int parallelism, int maxParallelism) {
        int subtask = partition % parallelism;
        int first = partition * RANGE;
        for (int key = first; key < first + RANGE; key++) {
            if (subtaskOf(key, parallelism, maxParallelism) == subtask) {
                return key;
            }
        }
        return first; // not found in the range (cannot happen for parallelism <= max): unbalanced, still right
    }

    /** The subtask Flink's hash exchange sends a one-INT key row holding `key` to. */
    static int subtaskOf(int key, int parallelism, int maxParallelism) {
        BinaryRowData row = new BinaryRowData(1);
        BinaryRowWriter writer = new BinaryRowWriter(row);
        writer.writeInt(0, key);
        writer.complete();
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(row, maxParallelism, parallelism);
    }
}
