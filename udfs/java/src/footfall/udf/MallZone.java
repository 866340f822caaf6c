package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/** mall_zone(mall_id): the mall's IANA time zone, one row, or none for an unknown mall. */
@FunctionHint(output = @DataTypeHint("ROW<tz STRING>"))
public class MallZone extends TableFunction<Row> {
    private transient Layout layout;

    @Override
    public void open(FunctionContext context) {
        layout = Layout.acquire();
        LayoutMetrics.register(context, layout);
    }

    public void eval(String mallId) {
        String tz = layout.mallZone(mallId);
        if (tz != null) {
            collect(Row.of(tz));
        }
    }

    @Override
    public void close() {
        if (layout != null) {
            Layout.release(layout);
        }
    }
}
