package footfall.udf;

import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/** A table function that answers from the JVM's shared layout (see Layout). */
abstract class LayoutFunction extends TableFunction<Row> {
    protected transient Layout layout;

    @Override
    public void open(FunctionContext context) {
        layout = Layout.acquire();
        LayoutMetrics.register(context, layout);
    }
}
