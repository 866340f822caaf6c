package footfall.udf;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.functions.FunctionContext;

/** Gauges `footfall status` and the System page read through Flink's REST API. */
final class LayoutMetrics {
    private LayoutMetrics() {
    }

    static void register(FunctionContext context, Layout layout) {
        MetricGroup group = context.getMetricGroup().addGroup("footfall_layout");
        group.gauge("loadedAt", (Gauge<Long>) layout::loadedAt);
        group.gauge("failingSince", (Gauge<Long>) layout::failingSince);
        group.gauge("probes", (Gauge<Integer>) layout::probeCount);
        group.gauge("staff", (Gauge<Integer>) layout::staffCount);
        group.gauge("missReloads", (Gauge<Long>) layout::missReloads);
        group.gauge("optedOut", (Gauge<Integer>) layout::optedOutCount);
        group.gauge("consenting", (Gauge<Integer>) layout::consentingCount);
    }
}
