package footfall.udf;

import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/** A scalar function that answers from the JVM's shared layout (see Layout), as LayoutFunction
 * is for table functions. */
abstract class LayoutScalarFunction extends ScalarFunction {
    protected transient Layout layout;

    @Override
    public void open(FunctionContext context) {
        layout = Layout.acquire();
    }
}
