// A stampede: N clients hit one URL at the same instant, one request each, each on its own
// connection, as when a crowd arrives at a tenant that is not running. JDK only, used by
// bench/compare.sh:
//
//   java bench/Stampede.java --port 18080 --host-header cold.bench [--n 1000] [--timeout-s 90]
//
// All N sockets are connected first (to 127.0.0.1 only); then every thread writes its
// `GET / HTTP/1.1` (Connection: close) at once, released by one latch, and reads the response to
// EOF. Latency is from that release to the end of the response. Prints the status histogram and one
// machine-readable line:
//   STAMPEDE n=1000 ok=... non2xx=... errors=... p50_ms=... p99_ms=... max_ms=... wall_ms=...
// where ok = 2xx, non2xx = any other status, errors = connect/read failures or no status line.

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

public class Stampede {

    public static void main(String[] args) throws Exception {
        int port = 0;
        int n = 1000;
        int timeoutSeconds = 90;
        String hostHeader = "localhost";
        String path = "/";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--n" -> n = Integer.parseInt(args[i + 1]);
                case "--timeout-s" -> timeoutSeconds = Integer.parseInt(args[i + 1]);
                case "--host-header" -> hostHeader = args[i + 1];
                case "--path" -> path = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (port <= 0) {
            throw new IllegalArgumentException("--port is required");
        }
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader
                + "\r\nUser-Agent: wakeport-stampede\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

        Socket[] sockets = new Socket[n];
        AtomicInteger connectErrors = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            try {
                Socket s = new Socket();
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                s.setSoTimeout(timeoutSeconds * 1000);
                sockets[i] = s;
            } catch (Exception e) {
                connectErrors.incrementAndGet();
            }
        }

        long[] latencyNanos = new long[n];
        Arrays.fill(latencyNanos, -1);
        int[] status = new int[n];
        Map<String, AtomicInteger> errorKinds = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(n);
        long[] release = new long[1];
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            final int k = i;
            Thread t = new Thread(null, () -> {
                try {
                    Socket s = sockets[k];
                    if (s == null) {
                        status[k] = -1;
                        errorKinds.computeIfAbsent("connect", x -> new AtomicInteger()).incrementAndGet();
                        return;
                    }
                    go.await();
                    OutputStream out = s.getOutputStream();
                    out.write(request);
                    out.flush();
                    InputStream in = s.getInputStream();
                    ByteArrayOutputStream head = new ByteArrayOutputStream(256);
                    byte[] buf = new byte[8192];
                    int r;
                    while ((r = in.read(buf)) >= 0) {
                        if (head.size() < 64) {
                            head.write(buf, 0, Math.min(r, 64));
                        }
                    }
                    latencyNanos[k] = System.nanoTime() - release[0];
                    String first = head.toString(StandardCharsets.US_ASCII);
                    if (first.startsWith("HTTP/1.") && first.length() >= 12) {
                        status[k] = Integer.parseInt(first.substring(9, 12));
                    } else {
                        status[k] = -1;
                        errorKinds.computeIfAbsent("no status line", x -> new AtomicInteger()).incrementAndGet();
                    }
                } catch (Exception e) {
                    status[k] = -1;
                    errorKinds.computeIfAbsent(e.getClass().getSimpleName(), x -> new AtomicInteger()).incrementAndGet();
                } finally {
                    try {
                        if (sockets[k] != null) {
                            sockets[k].close();
                        }
                    } catch (Exception ignored) {
                        // closing
                    }
                    done.countDown();
                }
            }, "stampede-" + i, 256 * 1024);
            threads.add(t);
            t.start();
        }
        Thread.sleep(200); // let every thread reach the latch
        release[0] = System.nanoTime();
        go.countDown();
        done.await();
        long wall = System.nanoTime() - release[0];

        Map<Integer, Integer> histogram = new TreeMap<>();
        int ok = 0;
        int non2xx = 0;
        int errors = 0;
        List<Long> ok2xx = new ArrayList<>();
        long[] all = Arrays.stream(latencyNanos).filter(v -> v >= 0).sorted().toArray();
        for (int i = 0; i < n; i++) {
            histogram.merge(status[i], 1, Integer::sum);
            if (status[i] >= 200 && status[i] < 300) {
                ok++;
                ok2xx.add(latencyNanos[i]);
            } else if (status[i] > 0) {
                non2xx++;
            } else {
                errors++;
            }
        }
        long[] okSorted = ok2xx.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.println("status histogram (-1 = socket error): " + histogram);
        if (!errorKinds.isEmpty()) {
            System.out.println("socket errors: " + errorKinds);
        }
        System.out.printf(Locale.ROOT, "2xx latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(okSorted, 50), pct(okSorted, 99), pct(okSorted, 100));
        System.out.printf(Locale.ROOT,
                "STAMPEDE n=%d ok=%d non2xx=%d errors=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f wall_ms=%.1f%n",
                n, ok, non2xx, errors, pct(all, 50), pct(all, 99), pct(all, 100), wall / 1e6);
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
