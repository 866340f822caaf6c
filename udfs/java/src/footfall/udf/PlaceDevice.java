package footfall.udf;

import java.util.Arrays;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.types.Row;

/**
 * place_device(mall_id, xs, ys, rssis, threshold_dbm, tuning): one row (x, y, zone, room) for a device's second,
 * from the places and RSSI of the probes that heard it (the arrays line up; of several
 * reports at one place, the strongest counts), on
 * the mall's floor plan (FloorPlan: the estimator, whose twin is udfs/positioning.py),
 * also using the mall's probes that did not hear it at threshold_dbm or more. room is how
 * far the point is from the nearest wall, which smoothing may move it and no farther. The
 * estimator's tuning comes from the job as one ARRAY (udfs/positioning.py Estimator's fields
 * in order: exponent, wall_loss_db, p0_dbm, p0_sd_db, shadowing_db, radius_m, window_db,
 * step_m), so it has one definition. No row without a report.
 *
 * <p>The plan is the layout's (Layout: shops and probes from PostgreSQL, reloaded in the
 * background, the last one kept while PostgreSQL does not answer), built once per mall and
 * layout read.
 */
@FunctionHint(output = @DataTypeHint("ROW<x DOUBLE, y DOUBLE, `zone` STRING, room DOUBLE>"))
public class PlaceDevice extends LayoutFunction {
    private transient FloorPlan.Estimator estimator;

    public void eval(String mallId, Double[] xs, Double[] ys, Integer[] rssis, Integer thresholdDbm,
            Double[] tuning) {
        if (mallId == null || xs == null || ys == null || rssis == null || xs.length == 0
                || xs.length != ys.length || xs.length != rssis.length) {
            return;
        }
        // One report per probe, its strongest: a probe is its place, and the arrays may hold
        // several reports of one probe (duplicates, or a second's repeated probe requests).
        int n = 0;
        double[] hx = new double[xs.length];
        double[] hy = new double[xs.length];
        double[] rssi = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            if (xs[i] == null || ys[i] == null || rssis[i] == null) {
                return;
            }
            int same = 0;
            while (same < n && !(hx[same] == xs[i] && hy[same] == ys[i])) {
                same++;
            }
            if (same == n) {
                hx[n] = xs[i];
                hy[n] = ys[i];
                rssi[n++] = rssis[i];
            } else {
                rssi[same] = Math.max(rssi[same], rssis[i]);
            }
        }
        if (n < xs.length) {
            hx = Arrays.copyOf(hx, n);
            hy = Arrays.copyOf(hy, n);
            rssi = Arrays.copyOf(rssi, n);
        }
        if (estimator == null) { // the tuning is the call's literal: the same at every row
            if (tuning == null || tuning.length != 8) {
                throw new IllegalArgumentException("place_device: the tuning is 8 numbers, got "
                        + (tuning == null ? "none" : tuning.length));
            }
            estimator = new FloorPlan.Estimator(tuning[0], tuning[1], tuning[2], tuning[3], tuning[4], tuning[5],
                    tuning[6], tuning[7]);
        }
        FloorPlan.Fix fix = layout.plan(mallId, estimator).locate(hx, hy, rssi, thresholdDbm);
        collect(Row.of(fix.x, fix.y, fix.zone, fix.room));
    }
}
