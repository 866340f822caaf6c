package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * smooth_track(x, y, zone, room_m, at_ms, sigma_m, accel, horizon_ms): a device's position smoothed
 * over its recent seconds, as an OVER aggregate of its placed seconds in event-time order
 * (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW). Returns ROW(x, y) for the current row.
 *
 * <p>A Kalman filter with a constant-velocity model, the same on both axes: a fix is the
 * estimator's point with an error of sigma_m metres; between fixes the device may change
 * its velocity (white acceleration noise of spectral density accel, m^2/s^3), so the older
 * the track, the less it counts. A still device stays still (identical fixes give
 * themselves back) and its jitter is averaged out; one that walks is followed without lag
 * once its pace is learnt. The track starts anew at a device's first fix, when its zone
 * changes (the estimator decides the zone, and a point smoothed across a wall would sit in
 * neither) and after horizon_ms without a fix (a phone that probes once a minute gives
 * fixes that say nothing of each other). Whatever the filter says, the point given stays
 * within room_m of the fix: the estimator's distance from the fix to its zone's edge, so
 * the point given is always in the fix's zone, on the walkable floor plan.
 *
 * <p>The plain-Python twin that the tests compare this with is udfs/positioning.py Tracker.
 */
@FunctionHint(output = @DataTypeHint("ROW<x DOUBLE, y DOUBLE>"))
public class SmoothTrack extends AggregateFunction<Row, SmoothTrack.Track> {

    /** The filter's state: position and velocity on each axis, their shared covariance. */
    public static class Track {
        public boolean any;
        public String zone;
        public long atMs;
        public double x;
        public double y;
        public double vx;
        public double vy;
        /** Covariance of (position, velocity), the same on both axes. */
        public double pp;
        public double pv;
        public double vv;
        /** The point given: the filter's, pulled back to within room_m of the fix. */
        public double outX;
        public double outY;
    }

    @Override
    public Track createAccumulator() {
        return new Track();
    }

    public void accumulate(Track t, Double x, Double y, String zone, Double roomM, Long atMs, Double sigmaM,
            Double accel, Long horizonMs) {
        if (x == null || y == null || roomM == null || atMs == null || sigmaM == null || accel == null
                || horizonMs == null) {
            return;
        }
        double r = sigmaM * sigmaM;
        long gap = atMs - t.atMs;
        if (!t.any || gap > horizonMs || gap < 0 || !java.util.Objects.equals(zone, t.zone)) {
            start(t, x, y, zone, atMs, r);
            return;
        }
        double dt = gap / 1000.0;
        // Predict: move on at the track's velocity; the covariance grows by the chance of a
        // change of pace (F P F' + Q for F = [1 dt; 0 1]).
        double pp = t.pp + 2 * dt * t.pv + dt * dt * t.vv + accel * dt * dt * dt / 3;
        double pv = t.pv + dt * t.vv + accel * dt * dt / 2;
        double vv = t.vv + accel * dt;
        double px = t.x + dt * t.vx;
        double py = t.y + dt * t.vy;
        // Update with the fix.
        double s = pp + r;
        double kp = pp / s;
        double kv = pv / s;
        double ex = x - px;
        double ey = y - py;
        t.x = px + kp * ex;
        t.y = py + kp * ey;
        t.vx = t.vx + kv * ex;
        t.vy = t.vy + kv * ey;
        t.vv = vv - kv * pv;
        t.pv = (1 - kp) * pv;
        t.pp = (1 - kp) * pp;
        t.atMs = atMs;
        double dx = t.x - x;
        double dy = t.y - y;
        double off = Math.sqrt(dx * dx + dy * dy);
        double keep = off > roomM ? Math.max(roomM, 0) / off : 1;
        t.outX = x + dx * keep;
        t.outY = y + dy * keep;
    }

    private static void start(Track t, double x, double y, String zone, long atMs, double r) {
        t.any = true;
        t.zone = zone;
        t.atMs = atMs;
        t.x = x;
        t.y = y;
        t.vx = 0;
        t.vy = 0;
        t.pp = r;
        t.pv = 0;
        t.vv = START_SPEED_VARIANCE;
        t.outX = x;
        t.outY = y;
    }

    /** How fast a device first seen may be moving: about a walking pace (1.5 m/s), squared. */
    private static final double START_SPEED_VARIANCE = 2.25;

    @Override
    public Row getValue(Track t) {
        return t.any ? Row.of(t.outX, t.outY) : null;
    }
}
