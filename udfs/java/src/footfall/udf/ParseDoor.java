package footfall.udf;

import java.util.Map;
import java.util.Set;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * parse_door(body, max_chars): a door-sensors message parsed and validated in one pass, as
 * one row: mall_id, sensor_id, in_count, occur_ms (the report's time, epoch ms), and reason
 * (null when valid). The reasons, in the order they
 * are checked: too_large, not_json, missing_field (absent or null), wrong_type (ids must
 * be strings; occur_time a whole number of at most 15 digits, not negative; the counts
 * whole numbers of at most 9 digits), count_out_of_range (a negative count).
 */
@FunctionHint(output = @DataTypeHint("ROW<mall_id STRING, sensor_id STRING, in_count INT, occur_ms BIGINT, reason STRING>"))
public class ParseDoor extends TableFunction<Row> {
    private static final Set<String> FIELDS =
            Set.of("sensor_id", "mall_id", "entrance", "occur_time", "in_count", "out_count");

    public void eval(String body, int maxChars) {
        Map<String, Fields.Value> fields = Fields.complete(body, maxChars, FIELDS, this::reject);
        if (fields == null) {
            return;
        }
        Fields.Value in = fields.get("in_count");
        Fields.Value out = fields.get("out_count");
        if (!Fields.isString(fields.get("sensor_id")) || !Fields.isString(fields.get("mall_id"))
                || !Fields.isString(fields.get("entrance")) || !Fields.isWhole(fields.get("occur_time"), 15, false)
                || !Fields.isWhole(in, 9, true) || !Fields.isWhole(out, 9, true)) {
            reject("wrong_type");
            return;
        }
        int entries = Integer.parseInt(in.text);
        if (entries < 0 || Integer.parseInt(out.text) < 0) {
            reject("count_out_of_range");
            return;
        }
        collect(Row.of(fields.get("mall_id").text, fields.get("sensor_id").text, entries,
                Long.parseLong(fields.get("occur_time").text), null));
    }

    private void reject(String reason) {
        collect(Row.of(null, null, null, null, reason));
    }
}
