package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.types.Row;

/**
 * probe_layout(ap_mac): the probe's mall, shop, position and the mall's time zone, one row,
 * or no row for a probe the layout does not know (use with LEFT JOIN LATERAL ... ON TRUE).
 * The shops whose fronts it hears are probe_fronts'. A table function, so it runs once per
 * message (a scalar one returning a ROW would run once per field read).
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<mall_id STRING, shop_code STRING, x DOUBLE, y DOUBLE, shop_name STRING, tz STRING>"))
public class ProbeLayout extends LayoutFunction {
    public void eval(String apMac) {
        Layout.Probe probe = layout.probe(apMac);
        if (probe != null) {
            collect(Row.of(probe.mallId, probe.shopCode, probe.x, probe.y, probe.shopName, probe.tz));
        }
    }
}
