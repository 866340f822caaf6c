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
    /** Metres: closer than this to an edge counts as on it (footfall/geometry.py EDGE_TOLERANCE). */
    static final double EDGE_TOLERANCE = 1e-6;
    static final String CORRIDOR = "corridor";
    /** The logistic approximation of the normal CDF: Phi(z) ~ 1 / (1 + e^(-1.702 z)). */
    private static final double LOGISTIC = 1.702;

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
            return other == this
                    || other instanceof Estimator && Arrays.equals(values(), ((Estimator) other).values());
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

        @Override
        public boolean equals(Object other) {
            return other instanceof Shop && code.equals(((Shop) other).code) && Arrays.equals(xs, ((Shop) other).xs)
                    && Arrays.equals(ys, ((Shop) other).ys);
        }

        @Override
        public int hashCode() {
            return code.hashCode();
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
    /** silence[point * probes + probe] = e^(LOGISTIC * shape / shadowing): the silent probes'
     * term's factor that depends on the point alone (see locate), a point's probes side by
     * side as locate reads them. */
    private final double[] silence;
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
        silence = new double[probeX.length * zone.length];
        for (int i = 0; i < probeX.length; i++) {
            shapes[i] = raster(probeX[i], probeY[i], probeZone[i]);
            for (int p = 0; p < zone.length; p++) {
                silence[p * probeX.length + i] = Math.exp(LOGISTIC * shapes[i][p] / estimator.shadowingDb);
            }
        }
    }

    /** The model's expectations (less P0) at a probe in zone pzone, of a phone at each raster point. */
    private double[] raster(double px, double py, int pzone) {
        double[] out = new double[zone.length];
        for (int r = 0; r < gy.length; r++) {
            for (int c = 0; c < gx.length; c++) {
                int p = r * gx.length + c;
                out[p] = shape(gx[c], gy[r], zone[p], px, py, pzone);
            }
        }
        return out;
    }

    /** Whether this is the plan of these shops and probes (in this order) for this estimator. */
    public boolean isOf(List<Shop> shops, double[] probeX, double[] probeY, Estimator estimator) {
        List<Shop> sorted = new ArrayList<>(shops);
        sorted.sort(Comparator.comparing(shop -> shop.code));
        return this.estimator.equals(estimator) && this.shops.equals(sorted) && Arrays.equals(this.probeX, probeX)
                && Arrays.equals(this.probeY, probeY);
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
     * number, as footfall/geometry.py contains. */
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
        double distance = Math.max(distance(x - px, y - py), 1.0);
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
            best = Math.min(best, distance(wall[0] + along * dx - x, wall[1] + along * dy - y));
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
        // The heard probes' centroid weighted by power (footfall/geometry.py weighted_centroid,
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
                far = Math.max(far, distance(cx - hx[h], cy - hy[h]));
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
        double[][] heard = new double[n][];
        for (int h = 0; h < n; h++) {
            heard[h] = shapeOf(hx[h], hy[h]);
        }
        // A probe near the window that did not report the device at or above the threshold
        // makes the points near it less likely.
        int[] silent = new int[probeX.length];
        int silentCount = 0;
        if (threshold != null) {
            for (int i = 0; i < probeX.length; i++) {
                if (distance(probeX[i] - cx, probeY[i] - cy) <= reach && !heardAt(hx, hy, probeX[i], probeY[i])) {
                    silent[silentCount++] = i;
                }
            }
        }
        double sd = estimator.shadowingDb;
        double var = sd * sd;
        double priorVar = estimator.p0SdDb * estimator.p0SdDb;
        double[] cost = new double[size];
        double least = Double.POSITIVE_INFINITY;
        int maxZone = -1;
        for (int k = 0; k < size; k++) {
            int point = index[k];
            // rssi - shape = P0 + noise at the right point; the phone's level at each point is
            // the least-squares one over the reports and the prior.
            double sum = 0;
            for (int h = 0; h < n; h++) {
                sum += rssi[h] - heard[h][point];
            }
            double p0 = (sum / var + estimator.p0Dbm / priorVar) / (n / var + 1.0 / priorVar);
            double sse = 0;
            for (int h = 0; h < n; h++) {
                double e = rssi[h] - heard[h][point] - p0;
                sse += e * e;
            }
            double d = p0 - estimator.p0Dbm;
            cost[k] = sse / var + d * d / priorVar;
            if (silentCount > 0) {
                // Each silent probe adds -log P(report < threshold) = log(1 + e^(-1.702 z)),
                // z = (threshold - p0 - shape) / sd (the normal CDF approximated by a
                // logistic). e^(-1.702 z) is a factor of the point's p0 times one of the
                // probe's shape (`silence`, worked out with the plan), and the sum of the
                // logs is the log of the product: one exp and one log per point, not per
                // probe, the same sum to within rounding.
                double level = Math.exp(-LOGISTIC * (threshold - p0) / sd);
                double product = 1.0;
                double logs = 0.0;
                int at = point * probeX.length;
                for (int j = 0; j < silentCount; j++) {
                    product *= 1.0 + level * silence[at + silent[j]];
                    if (product > 1e300) { // far from double's limit: take its log and go on
                        logs += Math.log(product);
                        product = 1.0;
                    }
                }
                cost[k] += 2.0 * (logs + Math.log(product));
            }
            least = Math.min(least, cost[k]);
            maxZone = Math.max(maxZone, zones[k]);
        }
        double[] weight = new double[size];
        double[] mass = new double[maxZone + 2]; // mass[z + 1]: the corridor first
        for (int k = 0; k < size; k++) {
            weight[k] = Math.exp(-(cost[k] - least) / 2.0);
            mass[zones[k] + 1] += weight[k];
        }
        int heaviest = 0;
        for (int z = 1; z < mass.length; z++) {
            if (mass[z] > mass[heaviest]) {
                heaviest = z;
            }
        }
        int chosen = heaviest - 1;
        double wx = 0;
        double wy = 0;
        double w = 0;
        for (int k = 0; k < size; k++) {
            if (zones[k] == chosen) {
                wx += xs[k] * weight[k];
                wy += ys[k] * weight[k];
                w += weight[k];
            }
        }
        return fix(wx / w, wy / w, zoneName(chosen));
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

    /** sqrt(dx^2 + dy^2): Math.hypot guards against overflow no metre needs, at ~10 times the cost. */
    private static double distance(double dx, double dy) {
        return Math.sqrt(dx * dx + dy * dy);
    }

    /** The model's expectations (less P0) at a probe over the raster: the plan's own for one
     * of its probes (the last at that place, as in Python), else worked out. */
    private double[] shapeOf(double px, double py) {
        for (int i = probeX.length - 1; i >= 0; i--) {
            if (probeX[i] == px && probeY[i] == py) {
                return shapes[i];
            }
        }
        return raster(px, py, zoneIndex(px, py));
    }
}
