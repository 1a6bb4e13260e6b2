// What recording one answer costs, without the noise of a whole proxy run: the per-tenant handle
// lookup and RequestMeters.record (request counter and duration histogram), in nanoseconds per
// request, on one thread and on two at once (two event loops counting into the same meters).
//
//   java -cp target/wakeport.jar bench/MetricsRecord.java [MILLIONS]      (default 20)
//
// bench/metrics-cost.sh measures the same end to end, as CPU per proxied request.

import io.wakeport.config.ConfigLoader;
import io.wakeport.config.TenantConfig;
import io.wakeport.metrics.Metrics;
import io.wakeport.metrics.RequestMeters;
import java.nio.file.Files;
import java.nio.file.Path;

public class MetricsRecord {
  static volatile long sink;

  public static void main(String[] args) throws Exception {
    long n = (args.length > 0 ? Long.parseLong(args[0]) : 20) * 1_000_000L;
    Path dir = Files.createTempDirectory("metrics-record");
    Path yaml = dir.resolve("wakeport.yaml");
    Files.writeString(yaml, "listen: 127.0.0.1:1\nstate-dir: var\ntenants:\n  seaside:\n    hosts: [seaside.bench]\n"
        + "    port: 18701\n    command: [/bin/false]\n");
    TenantConfig tenant = ConfigLoader.load(yaml).tenants().get("seaside");
    for (Metrics metrics : new Metrics[] {Metrics.off(), Metrics.prometheus()}) {
      String name = metrics.enabled() ? "on " : "off";
      for (int round = 0; round < 3; round++) { // the first rounds warm the JIT up
        double one = run(metrics, tenant, n, 1);
        double two = run(metrics, tenant, n, 2);
        if (round == 2) {
          System.out.printf("metrics %s: %.1f ns per request on one thread, %.1f ns with two threads at once%n",
              name, one, two);
        }
      }
      metrics.close();
    }
  }

  /** ns per request (per thread) of n requests on each of {@code threads} threads. */
  static double run(Metrics metrics, TenantConfig tenant, long n, int threads) throws InterruptedException {
    Thread[] workers = new Thread[threads];
    long[] spent = new long[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers[t] = new Thread(() -> {
        long began = System.nanoTime();
        long x = 0;
        for (long i = 0; i < n; i++) {
          RequestMeters meters = metrics.tenant(tenant); // as TenantDispatch does, once per request
          meters.record(i % 50 == 0 ? 404 : 200, 30_000 + (i & 0xFFFF) * 16);
          x += i;
        }
        sink = x;
        spent[id] = System.nanoTime() - began;
      });
      workers[t].start();
    }
    long total = 0;
    for (int t = 0; t < threads; t++) {
      workers[t].join();
      total += spent[t];
    }
    return (double) total / threads / n;
  }
}
