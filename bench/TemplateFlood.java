// A flood of random labels against a template, beside a steady stream of requests to one warm
// tenant. JDK only, used by bench/template-flood.sh:
//
//   java bench/TemplateFlood.java --port 18090 --suffix apps.bench --warm-host warm.apps.bench
//       [--labels 10000] [--conns 64] [--timeout-ms 30000] [--server-pid PID] [--settle-seconds 10]
//       [--alone-seconds 5]
//
// 1. samples the server's VmRSS (from /proc/PID/status) every 50 ms from start to end;
// 2. "before": RSS once the warm tenant answered 200 (the script has warmed it); then the warm
//    requests below alone for --alone-seconds, as a baseline (WARM_ALONE);
// 3. flood: --labels distinct random labels (f + 12 base-36 characters), one GET each with Host
//    <label>.<suffix>, at most --conns at once over keep-alive connections; meanwhile one thread
//    sends GET to --warm-host one after the other (keep-alive) until the flood is over;
// 4. "after": RSS when the flood is over, and again --settle-seconds later (the 5 s cache of
//    refused labels has expired by then);
// 5. prints machine-readable lines:
//      FLOOD labels=... seconds=... statuses={200=..., 503=...} errors=... timeouts=...
//      WARM_ALONE requests=... ok=... errors=... p50_ms=... p99_ms=... max_ms=...
//      WARM requests=... ok=... errors=... p50_ms=... p99_ms=... max_ms=...
//      RSS before_kib=... peak_kib=... after_kib=... settled_kib=... hwm_kib=...
//    Warm percentiles cover every warm request sent during the flood, failed ones included.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public class TemplateFlood {

    public static void main(String[] args) throws Exception {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        int port = 0;
        String suffix = "apps.bench";
        String warmHost = null;
        int labels = 10_000;
        int conns = 64;
        int timeoutMs = 30_000;
        long serverPid = -1;
        int settleSeconds = 10;
        int aloneSeconds = 5;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(v);
                case "--suffix" -> suffix = v;
                case "--warm-host" -> warmHost = v;
                case "--labels" -> labels = Integer.parseInt(v);
                case "--conns" -> conns = Integer.parseInt(v);
                case "--timeout-ms" -> timeoutMs = Integer.parseInt(v);
                case "--server-pid" -> serverPid = Long.parseLong(v);
                case "--settle-seconds" -> settleSeconds = Integer.parseInt(v);
                case "--alone-seconds" -> aloneSeconds = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        if (port == 0 || warmHost == null) {
            throw new IllegalArgumentException("--port and --warm-host are required");
        }
        URI uri = URI.create("http://127.0.0.1:" + port + "/");
        Duration timeout = Duration.ofMillis(timeoutMs);
        HttpClient flood = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient warm = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        long pid = serverPid;
        AtomicLong peak = new AtomicLong();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                long rss = status(pid, "VmRSS");
                peak.accumulateAndGet(rss, Math::max);
                sleep(50);
            }
        }, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();

        HttpRequest warmRequest = HttpRequest.newBuilder(uri).header("Host", warmHost).timeout(timeout).GET().build();
        HttpResponse<Void> first = warm.send(warmRequest, HttpResponse.BodyHandlers.discarding());
        if (first.statusCode() != 200) {
            throw new IllegalStateException("the warm tenant answered " + first.statusCode());
        }
        long before = status(pid, "VmRSS");
        List<Double> aloneMillis = new ArrayList<>();
        int aloneErrors = 0;
        long aloneEnd = System.nanoTime() + aloneSeconds * 1_000_000_000L;
        while (System.nanoTime() < aloneEnd) {
            long t0 = System.nanoTime();
            try {
                if (warm.send(warmRequest, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
                    aloneErrors++;
                }
            } catch (Exception e) {
                aloneErrors++;
            }
            aloneMillis.add((System.nanoTime() - t0) / 1e6);
        }
        Collections.sort(aloneMillis);

        AtomicBoolean flooding = new AtomicBoolean(true);
        List<Double> warmMillis = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger warmErrors = new AtomicInteger();
        Thread warmThread = new Thread(() -> {
            while (flooding.get()) {
                long t0 = System.nanoTime();
                try {
                    HttpResponse<Void> r = warm.send(warmRequest, HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() != 200) {
                        warmErrors.incrementAndGet();
                    }
                } catch (Exception e) {
                    warmErrors.incrementAndGet();
                }
                warmMillis.add((System.nanoTime() - t0) / 1e6);
            }
        }, "warm");

        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger timeouts = new AtomicInteger();
        Semaphore slots = new Semaphore(conns);
        CountDownLatch done = new CountDownLatch(labels);
        Random random = new Random(42);
        long began = System.nanoTime();
        warmThread.start();
        for (int i = 0; i < labels; i++) {
            String label = "f" + pad(Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
            HttpRequest request = HttpRequest.newBuilder(uri).header("Host", label + "." + suffix).timeout(timeout)
                .GET().build();
            slots.acquire();
            flood.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, failure) -> {
                if (r != null) {
                    statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                } else if (failure instanceof java.net.http.HttpTimeoutException
                    || failure != null && failure.getCause() instanceof java.net.http.HttpTimeoutException) {
                    timeouts.incrementAndGet();
                } else {
                    errors.incrementAndGet();
                }
                slots.release();
                done.countDown();
            });
        }
        done.await();
        double seconds = (System.nanoTime() - began) / 1e9;
        flooding.set(false);
        warmThread.join();
        long after = status(pid, "VmRSS");
        sleep(settleSeconds * 1000L);
        long settled = status(pid, "VmRSS");
        sampling.set(false);
        long hwm = status(pid, "VmHWM");

        Map<Integer, Integer> counts = new TreeMap<>();
        statuses.forEach((k, v) -> counts.put(k, v.get()));
        System.out.printf("FLOOD labels=%d seconds=%.1f statuses=%s errors=%d timeouts=%d%n", labels, seconds,
            counts.toString().replace(" ", ""), errors.get(), timeouts.get());
        List<Double> sorted;
        synchronized (warmMillis) {
            sorted = new ArrayList<>(warmMillis);
        }
        Collections.sort(sorted);
        System.out.printf("WARM_ALONE requests=%d ok=%d errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f%n",
            aloneMillis.size(), aloneMillis.size() - aloneErrors, aloneErrors, pct(aloneMillis, 0.50),
            pct(aloneMillis, 0.99), aloneMillis.isEmpty() ? 0 : aloneMillis.get(aloneMillis.size() - 1));
        System.out.printf("WARM requests=%d ok=%d errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f%n", sorted.size(),
            sorted.size() - warmErrors.get(), warmErrors.get(), pct(sorted, 0.50), pct(sorted, 0.99),
            sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1));
        System.out.printf("RSS before_kib=%d peak_kib=%d after_kib=%d settled_kib=%d hwm_kib=%d%n", before,
            Math.max(peak.get(), Math.max(after, settled)), after, settled, hwm);
        System.exit(0);
    }

    private static String pad(String s) {
        return s.length() >= 12 ? s.substring(0, 12) : "0".repeat(12 - s.length()) + s;
    }

    private static double pct(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    /** A kB field of /proc/PID/status (VmRSS, VmHWM), or -1. */
    private static long status(long pid, String field) {
        if (pid < 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
