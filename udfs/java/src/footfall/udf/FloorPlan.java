package footfall.udf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A mall's floor plan and the position estimator over it (docs/design.md §4 item 9): where a
 * device is, in which zone, and how far from the nearest wall, from the probes that heard it
 * in one second. The model, its tuning and every step are udfs/positioning.py's (FloorPlan,
 * locate), which is this class's plain-Python twin: the tests compare the two on random
 * reports, and the module's docstring explains the model.
 *
 * <p>The plan is rasterised once (cell centres step_m apart over the shops' bounding box),
 * with each point's zone and, for each of the mall's probes, what the model expects that
 * probe to hear from each point less the phone's own level; locating a device then reads
 * a window of those arrays. Immutable once built, so subtasks share it.
 */
public final class FloorPlan {
    /** Metres: closer than this to an edge counts as on it (udfs/geometry.py EDGE_TOLERANCE). */
    static final double EDGE_TOLERANCE = 1e-6;
    static final String CORRIDOR = "corridor";

    /** The estimator's tuning (udfs/positioning.py Estimator; the job passes its values). */
    public static final class Estimator {
        final double exponent;
        final double wallLossDb;
        final double p0Dbm;
        final double p0SdDb;
        final double shadowingDb;
        final double radiusM;
        final double windowDb;
        final double stepM;

        public Estimator(double exponent, double wallLossDb, double p0Dbm, double p0SdDb, double shadowingDb,
                double radiusM, double windowDb, double stepM) {
            this.exponent = exponent;
            this.wallLossDb = wallLossDb;
            this.p0Dbm = p0Dbm;
            this.p0SdDb = p0SdDb;
            this.shadowingDb = shadowingDb;
            this.radiusM = radiusM;
            this.windowDb = windowDb;
            this.stepM = stepM;
        }

        double[] values() {
            return new double[] {exponent, wallLossDb, p0Dbm, p0SdDb, shadowingDb, radiusM, windowDb, stepM};
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Estimator && Arrays.equals(values(), ((Estimator) other).values());
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values());
        }
    }

    /** A shop: its code and its polygon's corners (xs[i], ys[i]). */
    public static final class Shop {
        final String code;
        final double[] xs;
        final double[] ys;

        public Shop(String code, double[] xs, double[] ys) {
            this.code = code;
            this.xs = xs;
            this.ys = ys;
        }
    }

    /** A device's place: the point, its zone and its room (distance to the nearest wall). */
    public static final class Fix {
        public final double x;
        public final double y;
        public final String zone;
        public final double room;

        Fix(double x, double y, String zone, double room) {
            this.x = x;
            this.y = y;
            this.zone = zone;
            this.room = room;
        }
    }

    private final Estimator estimator;
    /** The shops by code: the first by code wins a point on a shared wall. */
    private final List<Shop> shops;
    private final double[] probeX;
    private final double[] probeY;
    private final int[] probeZone;
    private final double[] gx;
    private final double[] gy;
    /** Zone index of each raster point, row-major (rows along y): -1 for the corridor. */
    private final int[] zone;
    /** shapes[probe][point]: expected RSSI less P0 at the probe of a phone at the point. */
    private final double[][] shapes;
    /** Every wall as a segment: the plan's outline, then the shops' edges. */
    private final double[][] walls;

    public FloorPlan(List<Shop> shops, double[] probeX, double[] probeY, Estimator estimator) {
        this.estimator = estimator;
        List<Shop> sorted = new ArrayList<>(shops);
        sorted.sort(Comparator.comparing(shop -> shop.code));
        this.shops = sorted;
        this.probeX = probeX.clone();
        this.probeY = probeY.clone();
        this.probeZone = new int[probeX.length];
        for (int i = 0; i < probeX.length; i++) {
            probeZone[i] = zoneIndex(probeX[i], probeY[i]);
        }
        double x0 = Double.POSITIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        int corners = 0;
        for (Shop shop : sorted) {
            for (int i = 0; i < shop.xs.length; i++) {
                x0 = Math.min(x0, shop.xs[i]);
                y0 = Math.min(y0, shop.ys[i]);
                x1 = Math.max(x1, shop.xs[i]);
                y1 = Math.max(y1, shop.ys[i]);
                corners++;
            }
        }
        List<double[]> segments = new ArrayList<>();
        if (corners > 0) {
            double step = estimator.stepM;
            // Cell centres, so no point lies on a wall drawn on the grid's lines.
            gx = arange(x0 + step / 2, x1, step);
            gy = arange(y0 + step / 2, y1, step);
            addEdges(segments, new double[] {x0, x1, x1, x0}, new double[] {y0, y0, y1, y1});
            for (Shop shop : sorted) {
                addEdges(segments, shop.xs, shop.ys);
            }
        } else {
            gx = new double[0];
            gy = new double[0];
        }
        walls = segments.toArray(new double[0][]);
        zone = new int[gx.length * gy.length];
        for (int r = 0; r < gy.length; r++) {
            for (int c = 0; c < gx.length; c++) {
                zone[r * gx.length + c] = zoneIndex(gx[c], gy[r]);
            }
        }
        shapes = new double[probeX.length][];
        for (int i = 0; i < probeX.length; i++) {
            shapes[i] = new double[zone.length];
            for (int r = 0; r < gy.length; r++) {
                for (int c = 0; c < gx.length; c++) {
                    int p = r * gx.length + c;
                    shapes[i][p] = shape(gx[c], gy[r], zone[p], probeX[i], probeY[i], probeZone[i]);
                }
            }
        }
    }

    /** numpy.arange(start, stop, step): start + k * step while below stop. */
    private static double[] arange(double start, double stop, double step) {
        int n = Math.max(0, (int) Math.ceil((stop - start) / step));
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = start + k * step;
        }
        return out;
    }

    private static void addEdges(List<double[]> segments, double[] xs, double[] ys) {
        for (int i = 0; i < xs.length; i++) {
            int j = (i + 1) % xs.length;
            segments.add(new double[] {xs[i], ys[i], xs[j], ys[j]});
        }
    }

    /** Whether the closed polygon (edges and vertices included) contains (x, y): crossing
     * number, as udfs/geometry.py contains. */
    static boolean contains(double[] xs, double[] ys, double x, double y) {
        int n = xs.length;
        if (n < 3) {
            return false;
        }
        boolean inside = false;
        for (int i = 0; i < n; i++) {
            double x1 = xs[i];
            double y1 = ys[i];
            double x2 = xs[(i + 1) % n];
            double y2 = ys[(i + 1) % n];
            double cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
            double length = Math.max(Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1)), EDGE_TOLERANCE);
            if (Math.abs(cross) / length <= EDGE_TOLERANCE
                    && x >= Math.min(x1, x2) - EDGE_TOLERANCE && x <= Math.max(x1, x2) + EDGE_TOLERANCE
                    && y >= Math.min(y1, y2) - EDGE_TOLERANCE && y <= Math.max(y1, y2) + EDGE_TOLERANCE) {
                return true;
            }
            if ((y1 <= y) != (y2 <= y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1)) {
                inside = !inside;
            }
        }
        return inside;
    }

    /** The index of the first shop (by code) containing the point, -1 for the corridor. */
    int zoneIndex(double x, double y) {
        for (int i = 0; i < shops.size(); i++) {
            Shop shop = shops.get(i);
            if (contains(shop.xs, shop.ys, x, y)) {
                return i;
            }
        }
        return -1;
    }

    String zoneName(int index) {
        return index < 0 ? CORRIDOR : shops.get(index).code;
    }

    /** Expected RSSI less P0 at a probe at (px, py) in zone pzone, of a phone at (x, y) in zone z. */
    private double shape(double x, double y, int z, double px, double py, int pzone) {
        double distance = Math.max(Math.hypot(x - px, y - py), 1.0);
        int wallsBetween = z != pzone ? (z >= 0 ? 1 : 0) + (pzone >= 0 ? 1 : 0) : 0;
        return -10.0 * estimator.exponent * Math.log10(distance) - estimator.wallLossDb * wallsBetween;
    }

    /** How far a point can move without crossing a wall (0 without a plan). */
    public double room(double x, double y) {
        if (walls.length == 0) {
            return 0.0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (double[] wall : walls) {
            double dx = wall[2] - wall[0];
            double dy = wall[3] - wall[1];
            double along = ((x - wall[0]) * dx + (y - wall[1]) * dy) / Math.max(dx * dx + dy * dy, EDGE_TOLERANCE);
            along = Math.min(Math.max(along, 0.0), 1.0);
            best = Math.min(best, Math.hypot(wall[0] + along * dx - x, wall[1] + along * dy - y));
        }
        return best;
    }

    /** numpy.searchsorted(sorted, value): the first index whose value is not below it. */
    private static int searchsorted(double[] sorted, double value) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Where a device is from the probes that heard it in one second: hx, hy their places and
     * rssi their strongest reports (at least one), threshold the level below which a probe's
     * report is not used (null: silent probes are not used). Falls back to the weighted
     * centroid and its zone when no point of the plan lies near the heard probes.
     */
    public Fix locate(double[] hx, double[] hy, double[] rssi, Integer threshold) {
        int n = rssi.length;
        if (n == 0) {
            throw new IllegalArgumentException("locate needs at least one probe's report");
        }
        // The heard probes' centroid weighted by power (udfs/geometry.py weighted_centroid,
        // of the levels rounded to whole dB).
        double total = 0;
        double sx = 0;
        double sy = 0;
        double loudest = Double.NEGATIVE_INFINITY;
        for (int h = 0; h < n; h++) {
            double weight = Math.pow(10, Math.rint(rssi[h]) / 10);
            total += weight;
            sx += weight * hx[h];
            sy += weight * hy[h];
            loudest = Math.max(loudest, rssi[h]);
        }
        double cx = sx / total;
        double cy = sy / total;
        double far = Double.NEGATIVE_INFINITY;
        for (int h = 0; h < n; h++) {
            if (rssi[h] >= loudest - estimator.windowDb) {
                far = Math.max(far, Math.hypot(cx - hx[h], cy - hy[h]));
            }
        }
        double reach = estimator.radiusM + far;
        int c0 = searchsorted(gx, cx - reach);
        int c1 = Math.max(c0, searchsorted(gx, cx + reach));
        int r0 = searchsorted(gy, cy - reach);
        int r1 = Math.max(r0, searchsorted(gy, cy + reach));
        int width = c1 - c0;
        int size = width * (r1 - r0);
        if (size == 0) {
            return fix(cx, cy, zoneName(zoneIndex(cx, cy)));
        }
        int[] zones = new int[size];
        double[] xs = new double[size];
        double[] ys = new double[size];
        int[] index = new int[size]; // each window point's index in the whole raster
        for (int r = r0, k = 0; r < r1; r++) {
            for (int c = c0; c < c1; c++, k++) {
                index[k] = r * gx.length + c;
                zones[k] = zone[index[k]];
                xs[k] = gx[c];
                ys[k] = gy[r];
            }
        }
        // residual = rssi - shape: P0 + noise at the right point.
        double[][] residual = new double[n][];
        for (int h = 0; h < n; h++) {
            double[] s = shapeWindow(hx[h], hy[h], index, xs, ys, zones);
            residual[h] = new double[size];
            for (int k = 0; k < size; k++) {
                residual[h][k] = rssi[h] - s[k];
            }
        }
        double var = estimator.shadowingDb * estimator.shadowingDb;
        double priorVar = estimator.p0SdDb * estimator.p0SdDb;
        double[] p0 = new double[size];
        double[] cost = new double[size];
        for (int k = 0; k < size; k++) {
            double sum = 0;
            for (int h = 0; h < n; h++) {
                sum += residual[h][k];
            }
            // The phone's level at each point: least squares over the reports and the prior.
            p0[k] = (sum / var + estimator.p0Dbm / priorVar) / (n / var + 1.0 / priorVar);
            double sse = 0;
            for (int h = 0; h < n; h++) {
                double e = residual[h][k] - p0[k];
                sse += e * e;
            }
            double d = p0[k] - estimator.p0Dbm;
            cost[k] = sse / var + d * d / priorVar;
        }
        if (threshold != null && probeX.length > 0) {
            // A probe near the window that did not report the device at or above the
            // threshold makes the points near it less likely: log P(report < threshold),
            // the normal CDF approximated by a logistic (1.702 z).
            double[] silentCost = new double[size];
            boolean anySilent = false;
            for (int i = 0; i < probeX.length; i++) {
                if (Math.hypot(probeX[i] - cx, probeY[i] - cy) > reach || heardAt(hx, hy, probeX[i], probeY[i])) {
                    continue;
                }
                anySilent = true;
                double[] s = shapeWindow(probeX[i], probeY[i], index, xs, ys, zones);
                for (int k = 0; k < size; k++) {
                    double z = (threshold - p0[k] - s[k]) / estimator.shadowingDb;
                    silentCost[k] += logOnePlusExp(-1.702 * z);
                }
            }
            if (anySilent) {
                for (int k = 0; k < size; k++) {
                    cost[k] += 2.0 * silentCost[k];
                }
            }
        }
        double least = Double.POSITIVE_INFINITY;
        int maxZone = -1;
        for (int k = 0; k < size; k++) {
            least = Math.min(least, cost[k]);
            maxZone = Math.max(maxZone, zones[k]);
        }
        double[] weight = new double[size];
        double[] mass = new double[maxZone + 2]; // mass[z + 1]: the corridor first
        for (int k = 0; k < size; k++) {
            weight[k] = Math.exp(-(cost[k] - least) / 2.0);
            mass[zones[k] + 1] += weight[k];
        }
        int best = 0;
        for (int z = 1; z < mass.length; z++) {
            if (mass[z] > mass[best]) {
                best = z;
            }
        }
        best -= 1;
        double wx = 0;
        double wy = 0;
        double w = 0;
        for (int k = 0; k < size; k++) {
            if (zones[k] == best) {
                wx += xs[k] * weight[k];
                wy += ys[k] * weight[k];
                w += weight[k];
            }
        }
        return fix(wx / w, wy / w, zoneName(best));
    }

    private Fix fix(double x, double y, String zoneName) {
        return new Fix(x, y, zoneName, room(x, y));
    }

    private static boolean heardAt(double[] hx, double[] hy, double x, double y) {
        for (int h = 0; h < hx.length; h++) {
            if (hx[h] == x && hy[h] == y) {
                return true;
            }
        }
        return false;
    }

    /** log(1 + e^a) without overflow (numpy.logaddexp(0, a)). */
    private static double logOnePlusExp(double a) {
        return Math.max(a, 0.0) + Math.log1p(Math.exp(-Math.abs(a)));
    }

    /** The model's expectations (less P0) at a probe over the window's points: the plan's own
     * for one of its probes, else worked out. */
    private double[] shapeWindow(double px, double py, int[] index, double[] xs, double[] ys, int[] zones) {
        double[] out = new double[index.length];
        int i = probeX.length - 1; // the last of the plan's probes at that place, as in Python
        while (i >= 0 && !(probeX[i] == px && probeY[i] == py)) {
            i--;
        }
        if (i >= 0) {
            double[] plan = shapes[i];
            for (int k = 0; k < index.length; k++) {
                out[k] = plan[index[k]];
            }
        } else {
            int pzone = zoneIndex(px, py);
            for (int k = 0; k < index.length; k++) {
                out[k] = shape(xs[k], ys[k], zones[k], px, py, pzone);
            }
        }
        return out;
    }
}
