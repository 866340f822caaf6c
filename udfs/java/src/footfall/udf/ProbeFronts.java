package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.types.Row;

/**
 * probe_fronts(ap_mac): one row per shop whose front the probe hears (table shop_fronts),
 * none for most probes. Asked only for the reports that can make a walk-by (see
 * 04_presence.sql), not carried with every report: an array in every row cost the
 * ingestion, its fork and every shuffle after it about half the job's throughput at
 * parallelism 2.
 */
@FunctionHint(output = @DataTypeHint("ROW<shop_code STRING, shop_name STRING>"))
public class ProbeFronts extends LayoutFunction {
    public void eval(String apMac) {
        Layout.Probe probe = layout.probe(apMac);
        if (probe != null) {
            for (int i = 0; i < probe.frontCodes.size(); i++) {
                collect(Row.of(probe.frontCodes.get(i), probe.frontNames.get(i)));
            }
        }
    }
}
