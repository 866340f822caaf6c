package footfall.udf;

import java.util.Set;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

/**
 * Splits the metrics job's outputs changelog (rows of sink_key, message_key, payload; see
 * jobs/metrics/11_outputs.sql) by destination, in the JVM, so that no row crosses into
 * Python to be routed.
 *
 * <ul>
 *   <li>{@link #toKafka()}: the rows of the outputs published to Kafka (the favourite-shop
 *       feed and the dead letters), as inserts: the current state of a key is published,
 *       its retraction is not (a topic keeps the latest message per key).
 *   <li>{@link #toStores()}: every row of an output written to ClickHouse or Redis, as it
 *       came (the Python sinks read the row kinds), paired with its sink key as
 *       {@code Row(sink_key, row)}: the pair PyFlink's {@code key_by} makes, here made
 *       without a Python function, so that a row crosses into Python once, to its sink.
 * </ul>
 *
 * <p>Records may be shared with other chained operators (object reuse), so a row is
 * copied before its kind changes.
 */
public final class Route implements FlatMapFunction<Row, Row> {
    /** Outputs that go to Kafka only. */
    static final Set<String> KAFKA_ONLY = Set.of("dead_letters");
    /** Outputs that go to Kafka, among other destinations. */
    static final Set<String> KAFKA = Set.of("dead_letters", "favorite_shop_daily");

    private final boolean kafka;

    private Route(boolean kafka) {
        this.kafka = kafka;
    }

    public static Route toKafka() {
        return new Route(true);
    }

    public static Route toStores() {
        return new Route(false);
    }

    static String output(Row row) {
        String key = (String) row.getField(0);
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    @Override
    public void flatMap(Row row, Collector<Row> out) {
        String output = output(row);
        if (!kafka) {
            if (!KAFKA_ONLY.contains(output)) {
                out.collect(Row.of(row.getField(0), row));
            }
            return;
        }
        RowKind kind = row.getKind();
        if (KAFKA.contains(output) && (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER)) {
            Row message = Row.copy(row);
            message.setKind(RowKind.INSERT);
            out.collect(message);
        }
    }
}
