package io.wakeport.bench;

import io.wakeport.config.ConfigLoader;
import io.wakeport.config.WakeportConfig;
import io.wakeport.routing.RoutingTable;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Rough split of a reload's time into its parts, on a config written by bench/scale-10k.sh
 * (KEEP_TMP=1): SnakeYAML parsing alone, ConfigLoader.check (parsing, validation, port assignment
 * without saving), ConfigLoader.load (the same and ports.properties written when it changed) and
 * building the RoutingTable. Each part runs ROUNDS times in one JVM: the first rounds show a cold
 * JVM (start-up), the later ones a JIT as warm as a long-running wakeport's after a few reloads.
 *
 * <pre>java -cp bench/jmh/target/benchmarks.jar io.wakeport.bench.ReloadProfile CONFIG [ROUNDS]</pre>
 */
public final class ReloadProfile {

  public static void main(String[] args) throws Exception {
    Path config = Path.of(args[0]).toAbsolutePath();
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    List<Path> files = new ArrayList<>();
    files.add(config);
    WakeportConfig loaded = ConfigLoader.check(config);
    files.addAll(loaded.sources().subList(1, loaded.sources().size()));
    System.out.printf(Locale.ROOT, "%s: %d tenants in %d files%n", config, loaded.tenants().size(), files.size());
    System.out.println("round  yaml-compose  check(parse+validate+ports)  load(+save ports)  new RoutingTable   (ms)"
        + "  allocated by load + table (MiB)");
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long me = Thread.currentThread().getId();
    for (int r = 1; r <= rounds; r++) {
      long t0 = System.nanoTime();
      int nodes = 0;
      for (Path f : files) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        try (Reader reader = Files.newBufferedReader(f)) {
          nodes += new Yaml(new SafeConstructor(options)).compose(reader) != null ? 1 : 0;
        }
      }
      long t1 = System.nanoTime();
      WakeportConfig checked = ConfigLoader.check(config);
      long t2 = System.nanoTime();
      long a0 = threads.getThreadAllocatedBytes(me);
      WakeportConfig next = ConfigLoader.load(config);
      long t3 = System.nanoTime();
      RoutingTable table = new RoutingTable(next);
      long t4 = System.nanoTime();
      long allocated = threads.getThreadAllocatedBytes(me) - a0;
      if (nodes != files.size() || checked.tenants().size() != next.tenants().size() || table.route("x", "/") != null) {
        throw new IllegalStateException("unexpected result");
      }
      System.out.printf(Locale.ROOT, "%5d  %12.1f  %27.1f  %17.1f  %16.1f  %30.1f%n", r,
          (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, allocated / 1048576.0);
    }
  }
}
