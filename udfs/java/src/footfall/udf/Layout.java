package footfall.udf;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mall layout (probes with their mall, shop, position and time zone; malls with their
 * time zone; shops' polygons, as each mall's floor plan), the malls' staff devices and the
 * privacy registries (devices opted out of tracking, devices consenting to the feed), held
 * in memory, reloaded from PostgreSQL in the background.
 *
 * <p>Why not Flink's JDBC lookup join: it queries PostgreSQL on a cache miss and fails the
 * task when the database does not answer, and it connects in open(), so a job cannot even
 * restart while PostgreSQL is down. Here a failed reload keeps the last layout read, every
 * good one is also written to a snapshot file, and a (re)started job reads the snapshot
 * until PostgreSQL answers again. One instance per JVM and configuration is shared by every
 * function instance and survives task restarts.
 *
 * <p>Configuration comes from the environment of the JVM, never from the job graph or its
 * parameters (which Flink's REST API shows): FOOTFALL_LAYOUT_JDBC_URL, _USER, _PASSWORD,
 * _SCHEMA, _RELOAD_SECONDS, _SNAPSHOT (set by the job's launcher, jobs/metrics/job.py).
 */
public final class Layout {
    private static final Logger LOG = LoggerFactory.getLogger(Layout.class);
    private static final int SNAPSHOT_VERSION = 7;
    private static final JsonFactory JSON = new JsonFactory();
    /** A staff device's first day when it is staff on every day (an override with no day). */
    static final long ALWAYS = Long.MIN_VALUE;
    private static final long RETRY_MILLIS = 5_000;
    /** After a read for a missed lookup that did not help, the next such read waits this long. */
    private static final long MISS_RELOAD_MILLIS = 2_000;
    private static final Map<String, Layout> SHARED = new HashMap<>();

    /**
     * A probe as the ingestion needs it; shopCode and shopName may be null (a corridor
     * probe). frontCodes and frontNames: the shops whose fronts a corridor probe hears
     * (table shop_fronts), empty for most probes.
     */
    public static final class Probe {
        public final String mallId;
        public final String shopCode;
        public final double x;
        public final double y;
        public final String shopName;
        public final String tz;
        public final List<String> frontCodes = new ArrayList<>();
        public final List<String> frontNames = new ArrayList<>();

        Probe(String mallId, String shopCode, double x, double y, String shopName, String tz) {
            this.mallId = mallId;
            this.shopCode = shopCode;
            this.x = x;
            this.y = y;
            this.shopName = shopName;
            this.tz = tz;
        }
    }

    private static final class Snapshot {
        final Map<String, Probe> probes;
        final Map<String, String> mallZones;
        /** mall_id -> its currency (ISO 4217), which its tills' transactions must be in. */
        final Map<String, String> mallCurrencies;
        /** mall_id -> device_id -> the local day (epoch day) from which it is staff. */
        final Map<String, Map<String, Long>> staff;
        /** mall_id -> its shops, with their polygons. */
        final Map<String, List<FloorPlan.Shop>> shops;
        /** mall_id -> shop_code -> shop_name, for the shops a device is placed in. */
        final Map<String, Map<String, String>> shopNames;
        /** Device ids whose owner opted out of tracking (privacy_opt_outs). */
        final Set<String> optedOut;
        /** Device ids whose owner consented to the favourite-shop feed (privacy_consents). */
        final Set<String> consented;
        /** (mall_id, estimator) -> the floor plan, built when first asked for. */
        final Map<List<Object>, FloorPlan> plans = new ConcurrentHashMap<>();

        Snapshot(Map<String, Probe> probes, Map<String, String> mallZones, Map<String, String> mallCurrencies,
                Map<String, Map<String, Long>> staff, Map<String, List<FloorPlan.Shop>> shops,
                Map<String, Map<String, String>> shopNames, Set<String> optedOut, Set<String> consented) {
            this.probes = probes;
            this.mallZones = mallZones;
            this.mallCurrencies = mallCurrencies;
            this.staff = staff;
            this.shops = shops;
            this.shopNames = shopNames;
            this.optedOut = optedOut;
            this.consented = consented;
        }

        /** The mall's plan from this layout; `earlier` (the plan of a layout read before) if
         * nothing of it changed. */
        FloorPlan build(String mallId, FloorPlan.Estimator estimator, FloorPlan earlier) {
            List<Probe> mine = new ArrayList<>();
            List<String> macs = new ArrayList<>(probes.keySet());
            macs.sort(Comparator.naturalOrder());
            for (String apMac : macs) {
                if (probes.get(apMac).mallId.equals(mallId)) {
                    mine.add(probes.get(apMac));
                }
            }
            double[] xs = mine.stream().mapToDouble(p -> p.x).toArray();
            double[] ys = mine.stream().mapToDouble(p -> p.y).toArray();
            List<FloorPlan.Shop> mallShops = shops.getOrDefault(mallId, List.of());
            // Building a plan takes tens of milliseconds a mall: not again at every reload.
            return earlier != null && earlier.isOf(mallShops, xs, ys, estimator) ? earlier
                    : new FloorPlan(mallShops, xs, ys, estimator);
        }
    }

    private final String url;
    private final Properties credentials = new Properties();
    private final String schema;
    private final long reloadMillis;
    private final Path snapshotFile;
    private final ScheduledExecutorService reloader;
    private volatile Snapshot current;
    /** (mall_id, estimator) -> the plan last handed out, for the next layout read to keep. */
    private final Map<List<Object>, FloorPlan> lastPlans = new ConcurrentHashMap<>();
    private volatile long loadedAt;
    private volatile long failingSince;
    private volatile long lastAttempt;
    /** When a read made for a lookup that missed left it missing (see lookAgain). */
    private volatile long lastFruitlessReload;
    /** Reads made for lookups that missed, in this JVM. */
    private volatile long missReloads;

    private Layout(String url, String user, String password, String schema, long reloadMillis, Path snapshotFile) {
        this.url = url;
        credentials.setProperty("user", user);
        credentials.setProperty("password", password);
        credentials.setProperty("connectTimeout", "3");
        credentials.setProperty("socketTimeout", "30");
        credentials.setProperty("ApplicationName", "footfall-layout");
        this.schema = schema;
        this.reloadMillis = reloadMillis;
        this.snapshotFile = snapshotFile;
        this.current = readSnapshot();
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "footfall-layout-reload");
            thread.setDaemon(true);
            return thread;
        });
        reload();
        reloader.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** Every second: reload when the period is up, or every few seconds while failing, so
     * that PostgreSQL coming back is noticed soon. */
    private void tick() {
        long since = System.currentTimeMillis() - lastAttempt;
        if (since >= reloadMillis || (failingSince != 0 && since >= RETRY_MILLIS)) {
            reload();
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            if (fallback == null) {
                throw new IllegalStateException(name + " is not set in the Flink worker's environment");
            }
            return fallback;
        }
        return value;
    }

    /**
     * The layout of this JVM's configuration. It is kept for the JVM's life on purpose: a
     * restarted task finds the last layout here even when PostgreSQL is down.
     */
    public static synchronized Layout acquire() {
        String url = env("FOOTFALL_LAYOUT_JDBC_URL", null);
        String schema = env("FOOTFALL_LAYOUT_SCHEMA", "footfall");
        String key = url + "|" + schema;
        Layout layout = SHARED.get(key);
        if (layout == null) {
            layout = new Layout(url, env("FOOTFALL_LAYOUT_USER", null), env("FOOTFALL_LAYOUT_PASSWORD", ""), schema,
                    Long.parseLong(env("FOOTFALL_LAYOUT_RELOAD_SECONDS", "60")) * 1000L,
                    Paths.get(env("FOOTFALL_LAYOUT_SNAPSHOT", null)));
            SHARED.put(key, layout);
        }
        return layout;
    }

    /**
     * The current layout; before any layout was ever read (a first start with PostgreSQL
     * down and no snapshot) this waits and retries, so the job pauses instead of turning
     * every report away as an unknown probe.
     */
    private Snapshot snapshot() {
        Snapshot snapshot = current;
        long backoff = 500;
        while (snapshot == null) {
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the first layout", e);
            }
            backoff = Math.min(backoff * 2, 10_000);
            synchronized (this) {
                if (current == null) {
                    reload();
                }
            }
            snapshot = current;
        }
        return snapshot;
    }

    public Probe probe(String apMac) {
        if (apMac == null) {
            return null;
        }
        Snapshot seen = snapshot();
        Probe probe = seen.probes.get(apMac);
        return probe != null ? probe : lookAgain(seen, fresh -> fresh.probes.get(apMac));
    }

    /**
     * A lookup that missed in `seen` (a probe or mall just added to PostgreSQL, say), decided
     * against a layout read now: the layout is read again unless another thread just did, so
     * a new probe counts from its first report instead of after the next periodic reload.
     * Reports of probes that stay unknown (a typo, hostile input) would make that a read per
     * message, so after a read that did not help, misses are decided against the layout held
     * for MISS_RELOAD_MILLIS; and none is tried while PostgreSQL is failing (tick retries).
     */
    private <T> T lookAgain(Snapshot seen, Function<Snapshot, T> lookup) {
        if (failingSince != 0 || System.currentTimeMillis() - lastFruitlessReload < MISS_RELOAD_MILLIS) {
            return null;
        }
        synchronized (this) {
            if (current == seen) {
                reload();
                missReloads++;
            }
            T found = lookup.apply(current);
            if (found == null) {
                lastFruitlessReload = System.currentTimeMillis();
            }
            return found;
        }
    }

    /** The mall's floor plan (its shops and probes) for the estimator; an unknown mall's is empty. */
    public FloorPlan plan(String mallId, FloorPlan.Estimator estimator) {
        Snapshot snapshot = snapshot();
        return snapshot.plans.computeIfAbsent(Arrays.asList(mallId, estimator), key -> {
            FloorPlan plan = snapshot.build(mallId, estimator, lastPlans.get(key));
            lastPlans.put(key, plan);
            return plan;
        });
    }

    /** The name of a shop of the mall; null for a code the layout does not hold. */
    public String shopName(String mallId, String shopCode) {
        Map<String, String> names = mallId == null ? null : snapshot().shopNames.get(mallId);
        return names == null || shopCode == null ? null : names.get(shopCode);
    }

    public String mallZone(String mallId) {
        if (mallId == null) {
            return null;
        }
        Snapshot seen = snapshot();
        String zone = seen.mallZones.get(mallId);
        return zone != null ? zone : lookAgain(seen, fresh -> fresh.mallZones.get(mallId));
    }

    /** The mall's currency (ISO 4217); null for a mall the layout does not hold. */
    public String mallCurrency(String mallId) {
        return mallId == null ? null : snapshot().mallCurrencies.get(mallId);
    }

    /** Whether the device is staff of the mall on the local day `epochDay`. */
    public boolean isStaff(String mallId, String deviceId, long epochDay) {
        if (mallId == null || deviceId == null) {
            return false;
        }
        Map<String, Long> devices = snapshot().staff.get(mallId);
        if (devices == null) {
            return false;
        }
        Long since = devices.get(deviceId);
        return since != null && since <= epochDay;
    }

    /** Whether the device's owner opted out of tracking: its reports are dropped at ingestion. */
    public boolean isOptedOut(String deviceId) {
        return deviceId != null && snapshot().optedOut.contains(deviceId);
    }

    /** Whether the device's owner consented to the favourite-shop feed. */
    public boolean hasConsent(String deviceId) {
        return deviceId != null && snapshot().consented.contains(deviceId);
    }

    public int optedOutCount() {
        Snapshot snapshot = current;
        return snapshot == null ? 0 : snapshot.optedOut.size();
    }

    public int consentingCount() {
        Snapshot snapshot = current;
        return snapshot == null ? 0 : snapshot.consented.size();
    }

    public int staffCount() {
        Snapshot snapshot = current;
        return snapshot == null ? 0 : snapshot.staff.values().stream().mapToInt(Map::size).sum();
    }

    /** Epoch ms of the last good read of PostgreSQL (0: none in this JVM). */
    public long loadedAt() {
        return loadedAt;
    }

    /** Epoch ms since when reloads fail (0: the last one worked). */
    public long failingSince() {
        return failingSince;
    }

    public long missReloads() {
        return missReloads;
    }

    public int probeCount() {
        Snapshot snapshot = current;
        return snapshot == null ? 0 : snapshot.probes.size();
    }

    private synchronized void reload() {
        lastAttempt = System.currentTimeMillis();
        try {
            Snapshot fresh = query();
            current = fresh;
            loadedAt = System.currentTimeMillis();
            if (failingSince != 0) {
                LOG.info("layout: PostgreSQL answers again, " + fresh.probes.size() + " probes");
            }
            failingSince = 0;
            writeSnapshot(fresh);
        } catch (SQLException | RuntimeException e) {
            if (failingSince == 0) {
                failingSince = System.currentTimeMillis();
                LOG.warn("layout: cannot read PostgreSQL, keeping the last layout read ("
                        + (current == null ? "none yet" : current.probes.size() + " probes") + "): " + e.getMessage());
            }
        }
    }

    private static String quoted(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private Snapshot query() throws SQLException {
        String s = quoted(schema);
        Map<String, Probe> probes = new HashMap<>();
        Map<String, String> zones = new HashMap<>();
        Map<String, String> currencies = new HashMap<>();
        Map<String, Map<String, Long>> staff = new HashMap<>();
        Map<String, List<FloorPlan.Shop>> shops = new HashMap<>();
        Map<String, Map<String, String>> shopNames = new HashMap<>();
        Set<String> optedOut = new HashSet<>();
        Set<String> consented = new HashSet<>();
        // The driver class comes with the job's jars; no DriverManager, whose class-loader
        // rules do not see a job's own jars.
        Connection opened = new org.postgresql.Driver().connect(url, credentials);
        if (opened == null) {
            throw new SQLException("not a PostgreSQL JDBC URL: " + url);
        }
        try (Connection connection = opened; Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(30);
            try (ResultSet rows = statement.executeQuery("SELECT mall_id, tz, currency FROM " + s + ".malls")) {
                while (rows.next()) {
                    zones.put(rows.getString(1), rows.getString(2));
                    currencies.put(rows.getString(1), rows.getString(3));
                }
            }
            try (ResultSet rows = statement.executeQuery(
                    "SELECT p.ap_mac, p.mall_id, p.shop_code, p.x, p.y, sh.shop_name FROM " + s + ".probes AS p"
                            + " LEFT JOIN " + s + ".shops AS sh ON sh.mall_id = p.mall_id AND sh.shop_code = p.shop_code")) {
                while (rows.next()) {
                    String mallId = rows.getString(2);
                    String tz = zones.get(mallId);
                    if (tz == null) {
                        continue; // a probe of no known mall is an unknown probe
                    }
                    probes.put(rows.getString(1), new Probe(mallId, rows.getString(3), rows.getDouble(4),
                            rows.getDouble(5), rows.getString(6), tz));
                }
            }
            try (ResultSet rows = statement.executeQuery(
                    "SELECT f.ap_mac, f.shop_code, sh.shop_name FROM " + s + ".shop_fronts AS f"
                            + " JOIN " + s + ".shops AS sh ON sh.mall_id = f.mall_id AND sh.shop_code = f.shop_code"
                            + " ORDER BY f.ap_mac, f.shop_code")) {
                while (rows.next()) {
                    Probe probe = probes.get(rows.getString(1));
                    if (probe != null) {
                        probe.frontCodes.add(rows.getString(2));
                        probe.frontNames.add(rows.getString(3));
                    }
                }
            }
            try (ResultSet rows = statement.executeQuery(
                    "SELECT mall_id, shop_code, polygon, shop_name FROM " + s + ".shops ORDER BY mall_id, shop_code")) {
                while (rows.next()) {
                    FloorPlan.Shop shop = shop(rows.getString(2), rows.getString(3));
                    shops.computeIfAbsent(rows.getString(1), k -> new ArrayList<>()).add(shop);
                    shopNames.computeIfAbsent(rows.getString(1), k -> new HashMap<>()).put(rows.getString(2),
                            rows.getString(4));
                }
            }
            // The job's detections, then the operators' overrides, which win.
            try (ResultSet rows = statement.executeQuery(
                    "SELECT mall_id, device_id, since_day - DATE '1970-01-01', NULL FROM " + s + ".staff_detected"
                            + " UNION ALL SELECT mall_id, device_id, since_day - DATE '1970-01-01', is_staff FROM "
                            + s + ".staff_overrides ORDER BY 4 NULLS FIRST")) {
                while (rows.next()) {
                    String mallId = rows.getString(1);
                    String deviceId = rows.getString(2);
                    long since = rows.getLong(3);
                    boolean always = rows.wasNull();
                    boolean isStaff = rows.getBoolean(4);
                    boolean override = !rows.wasNull();
                    Map<String, Long> devices = staff.computeIfAbsent(mallId, k -> new HashMap<>());
                    if (override && !isStaff) {
                        devices.remove(deviceId);
                    } else {
                        devices.put(deviceId, always ? ALWAYS : since);
                    }
                }
            }
            readIds(statement, "SELECT device_id FROM " + s + ".privacy_opt_outs", optedOut);
            readIds(statement, "SELECT device_id FROM " + s + ".privacy_consents", consented);
        }
        return new Snapshot(probes, zones, currencies, staff, shops, shopNames, optedOut, consented);
    }

    private static void readIds(Statement statement, String query, Set<String> into) throws SQLException {
        try (ResultSet rows = statement.executeQuery(query)) {
            while (rows.next()) {
                into.add(rows.getString(1));
            }
        }
    }

    private static void writeIds(DataOutputStream out, Set<String> ids) throws IOException {
        out.writeInt(ids.size());
        for (String id : ids) {
            out.writeUTF(id);
        }
    }

    private static Set<String> readIds(DataInputStream in) throws IOException {
        Set<String> ids = new HashSet<>();
        for (int n = in.readInt(); n > 0; n--) {
            ids.add(in.readUTF());
        }
        return ids;
    }

    /** A shop from its polygon column, JSON [[x, y], ...] (the schema checks it is an array):
     * its numbers in order, read with the JSON parser the ingestion uses (Fields). */
    static FloorPlan.Shop shop(String code, String polygon) {
        List<Double> numbers = new ArrayList<>();
        try (JsonParser parser = JSON.createParser(polygon)) {
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
                    numbers.add(parser.getDoubleValue());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("shop " + code + ": its polygon is not JSON: " + e.getMessage(), e);
        }
        int corners = numbers.size() / 2;
        double[] xs = new double[corners];
        double[] ys = new double[corners];
        for (int i = 0; i < corners; i++) {
            xs[i] = numbers.get(2 * i);
            ys[i] = numbers.get(2 * i + 1);
        }
        return new FloorPlan.Shop(code, xs, ys);
    }

    private static void writeNullable(DataOutputStream out, String value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeUTF(value);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private void writeSnapshot(Snapshot snapshot) {
        try {
            Files.createDirectories(snapshotFile.toAbsolutePath().getParent());
            Path partial = snapshotFile.resolveSibling(snapshotFile.getFileName() + ".partial");
            try (OutputStream file = Files.newOutputStream(partial);
                 DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(file))) {
                out.writeInt(SNAPSHOT_VERSION);
                out.writeInt(snapshot.mallZones.size());
                for (Map.Entry<String, String> mall : snapshot.mallZones.entrySet()) {
                    out.writeUTF(mall.getKey());
                    writeNullable(out, mall.getValue());
                }
                out.writeInt(snapshot.probes.size());
                for (Map.Entry<String, Probe> entry : snapshot.probes.entrySet()) {
                    Probe p = entry.getValue();
                    out.writeUTF(entry.getKey());
                    out.writeUTF(p.mallId);
                    writeNullable(out, p.shopCode);
                    out.writeDouble(p.x);
                    out.writeDouble(p.y);
                    writeNullable(out, p.shopName);
                    out.writeUTF(p.tz);
                    out.writeInt(p.frontCodes.size());
                    for (int i = 0; i < p.frontCodes.size(); i++) {
                        out.writeUTF(p.frontCodes.get(i));
                        out.writeUTF(p.frontNames.get(i));
                    }
                }
                out.writeInt(snapshot.staff.size());
                for (Map.Entry<String, Map<String, Long>> mall : snapshot.staff.entrySet()) {
                    out.writeUTF(mall.getKey());
                    out.writeInt(mall.getValue().size());
                    for (Map.Entry<String, Long> device : mall.getValue().entrySet()) {
                        out.writeUTF(device.getKey());
                        out.writeLong(device.getValue());
                    }
                }
                out.writeInt(snapshot.shops.size());
                for (Map.Entry<String, List<FloorPlan.Shop>> mall : snapshot.shops.entrySet()) {
                    out.writeUTF(mall.getKey());
                    out.writeInt(mall.getValue().size());
                    for (FloorPlan.Shop shop : mall.getValue()) {
                        out.writeUTF(shop.code);
                        out.writeInt(shop.xs.length);
                        for (int i = 0; i < shop.xs.length; i++) {
                            out.writeDouble(shop.xs[i]);
                            out.writeDouble(shop.ys[i]);
                        }
                    }
                }
                out.writeInt(snapshot.shopNames.size());
                for (Map.Entry<String, Map<String, String>> mall : snapshot.shopNames.entrySet()) {
                    out.writeUTF(mall.getKey());
                    out.writeInt(mall.getValue().size());
                    for (Map.Entry<String, String> shop : mall.getValue().entrySet()) {
                        out.writeUTF(shop.getKey());
                        writeNullable(out, shop.getValue());
                    }
                }
                writeIds(out, snapshot.optedOut);
                writeIds(out, snapshot.consented);
                out.writeInt(snapshot.mallCurrencies.size());
                for (Map.Entry<String, String> mall : snapshot.mallCurrencies.entrySet()) {
                    out.writeUTF(mall.getKey());
                    writeNullable(out, mall.getValue());
                }
            }
            Files.move(partial, snapshotFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("layout: cannot write the snapshot " + snapshotFile + ": " + e.getMessage());
        }
    }

    private Snapshot readSnapshot() {
        if (!Files.isRegularFile(snapshotFile)) {
            return null;
        }
        try (InputStream file = Files.newInputStream(snapshotFile);
             DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(file))) {
            if (in.readInt() != SNAPSHOT_VERSION) {
                return null;
            }
            Map<String, String> zones = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                zones.put(in.readUTF(), readNullable(in));
            }
            Map<String, Probe> probes = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                String apMac = in.readUTF();
                Probe probe = new Probe(in.readUTF(), readNullable(in), in.readDouble(), in.readDouble(),
                        readNullable(in), in.readUTF());
                for (int fronts = in.readInt(); fronts > 0; fronts--) {
                    probe.frontCodes.add(in.readUTF());
                    probe.frontNames.add(in.readUTF());
                }
                probes.put(apMac, probe);
            }
            Map<String, Map<String, Long>> staff = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                Map<String, Long> devices = staff.computeIfAbsent(in.readUTF(), k -> new HashMap<>());
                for (int d = in.readInt(); d > 0; d--) {
                    devices.put(in.readUTF(), in.readLong());
                }
            }
            Map<String, List<FloorPlan.Shop>> shops = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                List<FloorPlan.Shop> mine = shops.computeIfAbsent(in.readUTF(), k -> new ArrayList<>());
                for (int s = in.readInt(); s > 0; s--) {
                    String code = in.readUTF();
                    int corners = in.readInt();
                    double[] xs = new double[corners];
                    double[] ys = new double[corners];
                    for (int i = 0; i < corners; i++) {
                        xs[i] = in.readDouble();
                        ys[i] = in.readDouble();
                    }
                    mine.add(new FloorPlan.Shop(code, xs, ys));
                }
            }
            Map<String, Map<String, String>> shopNames = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                Map<String, String> names = shopNames.computeIfAbsent(in.readUTF(), k -> new HashMap<>());
                for (int s = in.readInt(); s > 0; s--) {
                    names.put(in.readUTF(), readNullable(in));
                }
            }
            Set<String> optedOut = readIds(in);
            Set<String> consented = readIds(in);
            Map<String, String> currencies = new HashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                currencies.put(in.readUTF(), readNullable(in));
            }
            return new Snapshot(probes, zones, currencies, staff, shops, shopNames, optedOut, consented);
        } catch (IOException e) {
            LOG.warn("layout: ignoring an unreadable snapshot " + snapshotFile + ": " + e.getMessage());
            return null;
        }
    }
}
