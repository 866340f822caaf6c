package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.types.Row;

/** mall_zone(mall_id): the mall's IANA time zone, one row, or none for an unknown mall. */
@FunctionHint(output = @DataTypeHint("ROW<tz STRING>"))
public class MallZone extends LayoutFunction {
    public void eval(String mallId) {
        String tz = layout.mallZone(mallId);
        if (tz != null) {
            collect(Row.of(tz));
        }
    }
}
