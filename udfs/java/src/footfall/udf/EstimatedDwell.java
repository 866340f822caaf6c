package footfall.udf;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * estimated_dwell(first_ms, last_ms, seconds): a shop visit's dwell from its first and last
 * second and how many seconds it has (VisitDwell.estimate: the span and one mean gap), for the
 * session window that closes the visit.
 */
public class EstimatedDwell extends ScalarFunction {
    public Long eval(Long firstMs, Long lastMs, Long seconds) {
        if (firstMs == null || lastMs == null || seconds == null) {
            return null;
        }
        return VisitDwell.estimate(lastMs - firstMs, seconds);
    }
}
