package io.wakeport.bench;

import io.wakeport.config.ConfigLoader;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.routing.RoutingTable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of the routing decision, {@link RoutingTable#route(String, String)}, with 100 and with
 * 10,000 tenants. Hash lookups should cost about the same for both; a scan would cost 100 times more
 * with the bigger map.
 *
 * <p>The config is generated as YAML and read by {@link ConfigLoader#check(Path)} (nothing is
 * written to a state dir), so the tenants are exactly what wakeport would serve: tenant
 * {@code tNNNNN} has hosts {@code tNNNNN.bench.test} and {@code www.tNNNNN.bench.test}, path
 * {@code /tNNNNN} and command {@code /bin/true}.
 *
 * <p>Every call takes the next request from a pre-built array of {@value #SAMPLES} (host, path)
 * pairs of random tenants, so the JIT cannot fold the lookup into a constant and the lookups spread
 * over the whole map (with 10,000 tenants the tables no longer fit in L1/L2, which is part of what
 * is measured). The strings are built once, so {@code String.hashCode()} is cached after the
 * first round; {@code hostHitFreshString} copies the host into a new String on every call, as a
 * request header would arrive, to show what hashing and the copy add.
 *
 * <p>Two controls: {@code hostHitHot100} looks up only tenants t00001…t00100, whatever the size of
 * the map, which separates the cost of the map's size from that of the lookups' spread over
 * memory; {@code scanForComparison} is a linear search over the same tenants (not wakeport code),
 * to show what growing with the map looks like. {@code buildTable} is the table's construction,
 * as on every reload.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RoutingBench {

  static final int SAMPLES = 4096; // a power of two: the index wraps with a mask
  private static final int MASK = SAMPLES - 1;

  @Param({"100", "10000"})
  public int tenants;

  private Path dir;
  private WakeportConfig config;
  private RoutingTable table;

  private final String[] hitHosts = new String[SAMPLES];
  private final String[] hotHosts = new String[SAMPLES];
  /** For the scan: the tenants in config order, as a list a linear search would walk. */
  private TenantConfig[] list;
  private final byte[][] hitHostBytes = new byte[SAMPLES][];
  private final String[] missHosts = new String[SAMPLES];
  private final String[] hitPaths = new String[SAMPLES];
  private final String[] missPaths = new String[SAMPLES];
  private int next;

  static String name(int i) {
    return String.format("t%05d", i);
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("wakeport-routing-bench");
    Path file = dir.resolve("wakeport.yaml");
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("listen: 127.0.0.1:18999\n");
      w.write("state-dir: var\n");
      w.write("defaults:\n  ports: 30000-49999\n");
      w.write("tenants:\n");
      for (int i = 1; i <= tenants; i++) {
        String t = name(i);
        w.write("  " + t + ":\n");
        w.write("    hosts: [" + t + ".bench.test, www." + t + ".bench.test]\n");
        w.write("    paths: [/" + t + "]\n");
        w.write("    command: [/bin/true]\n");
      }
    }
    config = ConfigLoader.check(file);
    if (config.tenants().size() != tenants) {
      throw new IllegalStateException("expected " + tenants + " tenants, got " + config.tenants().size());
    }
    table = new RoutingTable(config);

    Random random = new Random(4711);
    for (int k = 0; k < SAMPLES; k++) {
      // Sample 0 is /t04711/x/y (and t04711's host) whenever tenant t04711 exists.
      String t = k == 0 && tenants >= 4711 ? name(4711) : name(1 + random.nextInt(tenants));
      // Half the hits use the www. alias, so both hosts of a tenant are in play.
      hitHosts[k] = (random.nextBoolean() ? "www." : "") + t + ".bench.test";
      hitHostBytes[k] = hitHosts[k].getBytes(StandardCharsets.ISO_8859_1);
      // The same 100 tenants whatever the size of the map: the working set of the 100-tenant map.
      hotHosts[k] = name(1 + random.nextInt(Math.min(100, tenants))) + ".bench.test";
      // Unknown hosts of the same shape and length as the real ones.
      missHosts[k] = String.format("u%05d.bench.test", 1 + random.nextInt(99_999));
      hitPaths[k] = "/" + t + "/x/y";
      missPaths[k] = String.format("/u%05d/x/y", 1 + random.nextInt(99_999));
    }
    list = config.tenants().values().toArray(new TenantConfig[0]);
    // Check the answers once, so the benchmark measures the lookups it claims to.
    for (int k = 0; k < SAMPLES; k++) {
      String expected = hitPaths[k].substring(1, 7);
      check(table.route(hitHosts[k], "/"), expected, "host hit " + hitHosts[k]);
      check(table.route(hotHosts[k], "/"), hotHosts[k].substring(0, 6), "hot host hit " + hotHosts[k]);
      check(scan(hitHosts[k]), expected, "scan " + hitHosts[k]);
      check(table.route(missHosts[k], hitPaths[k]), expected, "path hit " + hitPaths[k]);
      check(table.route(missHosts[k], missPaths[k]), null, "miss " + missHosts[k] + missPaths[k]);
    }
  }

  private static void check(TenantConfig tenant, String expected, String what) {
    String got = tenant == null ? null : tenant.name();
    if (expected == null ? got != null : !expected.equals(got)) {
      throw new IllegalStateException(what + ": expected " + expected + ", got " + got);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Host header names a tenant: one hash lookup. */
  @Benchmark
  public TenantConfig hostHit() {
    int k = next++ & MASK;
    return table.route(hitHosts[k], "/");
  }

  /**
   * Control: host hits on tenants t00001…t00100 only, whatever the size of the map. With 10,000
   * tenants this costs what {@link #hostHit} costs with 100 if the size of the map itself does not
   * matter and only the spread of the lookups over memory (caches) does.
   */
  @Benchmark
  public TenantConfig hostHitHot100() {
    int k = next++ & MASK;
    return table.route(hotHosts[k], "/");
  }

  /**
   * Negative control, not wakeport code: what a linear scan over the tenants' hosts would cost for
   * the same requests as {@link #hostHit}. It grows with the map; the hash lookups must not.
   */
  @Benchmark
  public TenantConfig scanForComparison() {
    int k = next++ & MASK;
    return scan(hitHosts[k]);
  }

  private TenantConfig scan(String host) {
    for (TenantConfig tenant : list) {
      for (String h : tenant.hosts()) {
        if (h.equals(host)) {
          return tenant;
        }
      }
    }
    return null;
  }

  /** As {@link #hostHit}, with a new String each time (its hash is not cached yet). */
  @Benchmark
  public TenantConfig hostHitFreshString() {
    int k = next++ & MASK;
    return table.route(new String(hitHostBytes[k], StandardCharsets.ISO_8859_1), "/");
  }

  /** Unknown host, path /tNNNNN/x/y names a tenant: a missed host lookup, then one path lookup. */
  @Benchmark
  public TenantConfig hostMissPathHit() {
    int k = next++ & MASK;
    return table.route(missHosts[k], hitPaths[k]);
  }

  /** Neither host nor path is known: 404. */
  @Benchmark
  public TenantConfig miss() {
    int k = next++ & MASK;
    return table.route(missHosts[k], missPaths[k]);
  }

  /** Building the table from a loaded config, as every reload does (microseconds). */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public RoutingTable buildTable() {
    return new RoutingTable(config);
  }
}
