// Cold-start overhead benchmark for wakeport. JDK 17 only, single file:
//   java bench/ColdStartBench.java [--runs N] [--boot-delay MS] ...
// Run it from the repository root after `mvn package -DskipTests` and `mvn test-compile`
// (bench/cold-start.sh does both when needed).
//
// What it measures, per run, interleaved (direct, wakeport, direct, wakeport, ...):
//   direct   - exec of `java -cp target/test-classes DemoBackend --port P --boot-delay D` by this
//              program, then a raw-socket HTTP GET tried every ~0.2 ms until the first 200:
//              time from just before exec to the end of that response.
//   wakeport - ONE wakeport process serves N cold tenants (same demo command, distinct fixed ports);
//              each run sends one GET with a cold tenant's Host header: time from just before the
//              connect to wakeport to the end of the response.
//   overhead = median(wakeport) - median(direct); the median of the per-pair differences is printed too.
// Both sides request /timing, on which the demo backend reports (wall clock) when HttpServer.create()
// returned and when the request reached its handler, which splits each run into "start -> bound" and
// "bound -> request". (The JDK server listens a little before create() returns, so a poller can
// connect slightly before "bound".)
// The machine may be shared: before each run the program measures, over one pause, how busy all CPUs
// are while everything of its own is idle, waits (bounded) for that to drop below --quiet-busy, and
// reports the results a second time for the pairs that stayed quiet.
// Cleanup: the direct backend is killed after each run; wakeport gets TERM at the end (it stops its
// backends) and the program checks that no backend it started is left.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

public class ColdStartBench {

    static final String LOOPBACK = "127.0.0.1";
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    /** Ports for backends come from below the usual ephemeral range, so client sockets never take them. */
    static final int FIRST_BACKEND_PORT = 23000;

    // Options
    static int runs = 30;
    static int bootDelay = 300;
    static int warmupRequests = 200;
    static long pollNanos = 200_000;
    /** When > 0: a third, direct arm polling this many ns apart, to show what the tight poll itself costs. */
    static long altPollNanos = 0;
    static int pauseMillis = 300;
    static int maxSeconds = 240;
    static Path jar = Path.of("target/wakeport.jar");
    static Path classes = Path.of("target/test-classes");
    static boolean keep;
    /** A pair counts as quiet when the machine was at most this busy (fraction of all cores) around it. */
    static double quietBusy = 0.25;
    static int quietWaitSeconds = 15;

    static int nextPort = FIRST_BACKEND_PORT;
    static Path tmp;
    /** What to stop if this program is interrupted (Ctrl-C, TERM) half-way. */
    static volatile Process wakeportProcess;
    static volatile Process directProcess;

    public static void main(String[] args) throws Exception {
        parseArgs(args);
        if (!Files.isRegularFile(jar)) die(jar + " not found: run `mvn -q -B package -DskipTests` first");
        if (!Files.isRegularFile(classes.resolve("DemoBackend.class"))) {
            die(classes.resolve("DemoBackend.class") + " not found: run `mvn -q -B test-compile` first");
        }
        jar = jar.toAbsolutePath();
        classes = classes.toAbsolutePath();
        tmp = Files.createTempDirectory("wakeport-bench-");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);

        System.out.printf(Locale.ROOT, "wakeport cold-start benchmark: %d runs each, boot delay %d ms, poll every %.1f ms,"
                + " %d warm-up requests, %d ms pause between runs%n", runs, bootDelay, pollNanos / 1e6, warmupRequests, pauseMillis);
        System.out.println("java: " + JAVA + " (" + System.getProperty("java.vm.version") + "), temp dir " + tmp);

        // Ports: one per direct run (plus a warm-up run), one per wakeport tenant (plus the warm tenant).
        int[] directPorts = new int[runs + 1];
        for (int i = 0; i < directPorts.length; i++) directPorts[i] = freeBackendPort();
        int[] altPorts = new int[runs];
        if (altPollNanos > 0) for (int i = 0; i < runs; i++) altPorts[i] = freeBackendPort();
        int[] tenantPorts = new int[runs];
        for (int i = 0; i < runs; i++) tenantPorts[i] = freeBackendPort();
        int warmPort = freeBackendPort();
        int listenPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            listenPort = s.getLocalPort();
        }

        Path config = writeConfig(listenPort, tenantPorts, warmPort);
        Path wakeportLog = tmp.resolve("wakeport.log");
        Process wakeport = new ProcessBuilder(JAVA, "-jar", jar.toString(), "run", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(wakeportLog.toFile())
                .start();
        wakeportProcess = wakeport;
        Runtime.getRuntime().addShutdownHook(new Thread(ColdStartBench::stopLeftovers, "bench-cleanup"));
        List<Sample> direct = new ArrayList<>();
        List<Sample> viaWakeport = new ArrayList<>();
        List<Sample> directAlt = new ArrayList<>();
        List<Boolean> quietPair = new ArrayList<>();
        System.out.println("load average at start: " + loadAverage());
        List<ProcessHandle> backends = new ArrayList<>();
        boolean clean = true;
        try {
            waitForListen(wakeport, listenPort, wakeportLog);
            System.out.println("wakeport pid " + wakeport.pid() + " listening on " + LOOPBACK + ":" + listenPort);

            // Warm-up: the wakeport JVM (cold-starts the warm tenant, then warm requests), and one
            // discarded direct run (page cache, this JVM's process and socket code).
            long t0 = System.nanoTime();
            Response first = httpGet(listenPort, "warm.bench", "/", 60_000);
            if (first.status != 200) die("warm-up request answered " + first.status + ": " + first.body);
            System.out.printf(Locale.ROOT, "warm-up: warm tenant cold start %.1f ms (discarded)%n", ms(System.nanoTime() - t0));
            for (int i = 0; i < warmupRequests; i++) {
                Response r = httpGet(listenPort, "warm.bench", "/timing", 10_000);
                if (r.status != 200) die("warm-up request " + i + " answered " + r.status);
            }
            Sample w = directRun(directPorts[runs], "warmup", pollNanos);
            System.out.printf(Locale.ROOT, "warm-up: direct run %.1f ms (discarded)%n", w.millis);

            System.out.println();
            System.out.println("ms; '>bound' = start to the backend's bind() returning (wall clock), 'b>req' = from there to"
                    + " the request reaching its handler,");
            System.out.println("S-T = wakeport's Server-Timing cold-start dur, busy = other load on all CPUs in the "
                    + pauseMillis + " ms window before each run and after the last one");
            System.out.println("  run   direct  >bound  b>req   wakeport  >bound  b>req    S-T    diff"
                    + (altPollNanos > 0 ? String.format(Locale.ROOT, "  direct@%.1fms", altPollNanos / 1e6) : "")
                    + "  busy %");
            for (int i = 0; i < runs; i++) {
                if (System.nanoTime() > deadline) {
                    System.out.println("time budget of " + maxSeconds + " s used up after " + i + " pairs; stopping early");
                    break;
                }
                // Each run starts after a window in which everything of ours was idle, so what keeps the
                // CPUs busy then is someone else's load; wait (a bounded time) for it to pass.
                List<Double> busy = new ArrayList<>();
                boolean quiet = true;
                double[] q = waitForQuiet(deadline);
                quiet &= q[1] <= quietBusy;
                busy.add(q[1]);
                Sample d = directRun(directPorts[i], "d" + i, pollNanos);
                direct.add(d);
                q = waitForQuiet(deadline);
                quiet &= q[0] <= quietBusy && q[1] <= quietBusy;
                busy.add(q[0]);
                if (q[1] != q[0]) busy.add(q[1]);
                Sample p = wakeportRun(listenPort, tenant(i));
                viaWakeport.add(p);
                Sample a = null;
                if (altPollNanos > 0) {
                    q = waitForQuiet(deadline);
                    quiet &= q[0] <= quietBusy && q[1] <= quietBusy;
                    busy.add(q[0]);
                    if (q[1] != q[0]) busy.add(q[1]);
                    a = directRun(altPorts[i], "a" + i, altPollNanos);
                    directAlt.add(a);
                }
                double after = busyFraction(pauseMillis);
                quiet &= after <= quietBusy;
                busy.add(after);
                quietPair.add(quiet);
                System.out.printf(Locale.ROOT, "  %3d  %7.1f  %6d  %5d    %7.1f  %6d  %5d  %5.1f  %6.1f%s  %s%s%n", i + 1,
                        d.millis, d.toBound, d.boundToRequest, p.millis, p.toBound, p.boundToRequest, p.serverTiming,
                        p.millis - d.millis, a == null ? "" : String.format(Locale.ROOT, "  %12.1f", a.millis),
                        String.join("/", busy.stream().map(b -> String.format(Locale.ROOT, "%.0f", 100 * b)).toList()),
                        quiet ? "" : "  (busy)");
            }
        } finally {
            // wakeport stops its backends on TERM; remember them first to check that it did.
            wakeport.descendants().forEach(backends::add);
            wakeport.destroy();
            if (!wakeport.waitFor(60, TimeUnit.SECONDS)) {
                System.out.println("WARNING: wakeport did not exit within 60 s of TERM; killing it");
                clean = false;
                wakeport.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            backends.addAll(pidsFromBackendLogs());
            for (ProcessHandle h : backends) {
                if (h.isAlive()) {
                    clean = false;
                    System.out.println("WARNING: backend pid " + h.pid() + " still alive after wakeport exited; killing it");
                    h.destroyForcibly();
                }
            }
        }
        System.out.println("wakeport exited with code " + wakeport.exitValue() + " after TERM; "
                + countDistinct(backends) + " backend processes it started, "
                + (clean ? "none left running" : "SOME HAD TO BE KILLED (see above)"));
        System.out.println("load average at end: " + loadAverage());

        report("all pairs", direct, viaWakeport, directAlt);
        List<Sample> quietDirect = new ArrayList<>();
        List<Sample> quietWakeport = new ArrayList<>();
        List<Sample> quietAlt = new ArrayList<>();
        for (int i = 0; i < quietPair.size(); i++) {
            if (quietPair.get(i)) {
                quietDirect.add(direct.get(i));
                quietWakeport.add(viaWakeport.get(i));
                if (!directAlt.isEmpty()) quietAlt.add(directAlt.get(i));
            }
        }
        if (quietDirect.size() < quietPair.size()) {
            System.out.printf(Locale.ROOT, "%n%d of %d pairs saw other load above %.0f%% of all CPUs just before or after a run%n",
                    quietPair.size() - quietDirect.size(), quietPair.size(), 100 * quietBusy);
            if (quietDirect.size() >= 5) {
                report("quiet pairs only", quietDirect, quietWakeport, quietAlt);
            } else {
                System.out.println("(fewer than 5 quiet pairs: no separate summary)");
            }
        }
        summarizeLog(wakeportLog);
        if (keep) {
            System.out.println("kept " + tmp + " (config, wakeport.log, backend logs)");
        } else {
            deleteTree(tmp);
        }
    }

    // ---------------------------------------------------------------- the two kinds of run

    /**
     * millis: the measured time; toBound: start to the backend's bind() returning (wall clock, ms);
     * boundToRequest: from there to its handler running; serverTiming: wakeport's cold-start dur (NaN
     * for direct runs); attempts: HTTP attempts the direct poller made (0 for wakeport runs).
     */
    record Sample(double millis, long toBound, long boundToRequest, double serverTiming, int attempts) {}

    /** Exec the demo backend and poll it with HTTP GETs, {@code pause} ns apart, until the first 200. */
    static Sample directRun(int port, String name, long pause) throws Exception {
        Path log = tmp.resolve("direct-" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder(JAVA, "-cp", classes.toString(), "DemoBackend",
                "--port", Integer.toString(port), "--tenant", name, "--boot-delay", Integer.toString(bootDelay))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        long wallStart = System.currentTimeMillis();
        long began = System.nanoTime();
        Process process = pb.start();
        directProcess = process;
        try {
            long giveUp = began + TimeUnit.SECONDS.toNanos(30);
            int attempts = 0;
            while (true) {
                attempts++;
                Response r = tryGet(port, "/timing");
                if (r != null && r.status == 200) {
                    long elapsed = System.nanoTime() - began;
                    long[] t = timing(r.body);
                    return new Sample(ms(elapsed), t[0] - wallStart, t[1] - t[0], Double.NaN, attempts);
                }
                if (!process.isAlive()) die("direct backend exited with " + process.exitValue() + "; see " + log);
                if (System.nanoTime() > giveUp) die("direct backend on port " + port + " not ready after 30 s");
                LockSupport.parkNanos(pause);
            }
        } finally {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** One GET through wakeport to a tenant that has never been started. */
    static Sample wakeportRun(int listenPort, String tenant) throws Exception {
        long wallStart = System.currentTimeMillis();
        long began = System.nanoTime();
        Response r = httpGet(listenPort, tenant + ".bench", "/timing", 60_000);
        long elapsed = System.nanoTime() - began;
        if (r.status != 200) die("wakeport answered " + r.status + " for tenant " + tenant + ": " + r.body);
        String header = r.headers.get("server-timing");
        double dur = Double.NaN;
        Matcher m = header == null ? null : Pattern.compile("cold-start;dur=([0-9.]+)").matcher(header);
        if (m != null && m.find()) {
            dur = Double.parseDouble(m.group(1));
        } else {
            System.out.println("WARNING: no cold-start Server-Timing for " + tenant + " (" + header + "): was it really cold?");
        }
        long[] t = timing(r.body);
        return new Sample(ms(elapsed), t[0] - wallStart, t[1] - t[0], dur, 0);
    }

    /** A GET that returns null when the port refuses (or drops) the connection. */
    static Response tryGet(int port, String path) {
        try {
            return httpGet(port, "127.0.0.1:" + port, path, 10_000);
        } catch (ConnectException e) {
            return null;
        } catch (IOException e) {
            return null; // accepted but reset/closed before an answer: the server was not ready yet
        }
    }

    // ---------------------------------------------------------------- minimal HTTP/1.1 client

    record Response(int status, Map<String, String> headers, String body) {}

    static Response httpGet(int port, String host, String path, int timeoutMillis) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(LOOPBACK, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return readResponse(socket.getInputStream());
        }
    }

    static Response readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed before the response headers ended");
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) throw new IOException("bad status line: " + lines[0]);
        int status = Integer.parseInt(statusLine[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        byte[] body;
        String length = headers.get("content-length");
        if (length != null) {
            body = in.readNBytes(Integer.parseInt(length));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(in);
                int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                if (size == 0) break;
                all.write(in.readNBytes(size));
                readLine(in);
            }
            body = all.toByteArray();
        } else {
            body = in.readAllBytes(); // Connection: close
        }
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) throw new IOException("unexpected end of chunked body");
            if (b != '\r') sb.append((char) b);
        }
        return sb.toString();
    }

    /** From the demo backend's /timing answer: {bound, now}, epoch ms of its bind() and of the request. */
    static long[] timing(String body) {
        long bound = -1, now = -1;
        for (String line : body.split("\n")) {
            if (line.startsWith("bound=")) bound = Long.parseLong(line.substring(6).trim());
            if (line.startsWith("now=")) now = Long.parseLong(line.substring(4).trim());
        }
        if (bound < 0 || now < 0) die("not a /timing answer: " + body);
        return new long[] {bound, now};
    }

    // ---------------------------------------------------------------- wakeport set-up

    static String tenant(int i) {
        return String.format(Locale.ROOT, "t%02d", i);
    }

    static Path writeConfig(int listenPort, int[] tenantPorts, int warmPort) throws IOException {
        String command = "[" + q(JAVA) + ", -cp, " + q(classes.toString()) + ", DemoBackend, --port, \"${port}\","
                + " --tenant, \"${tenant}\", --boot-delay, \"" + bootDelay + "\"]";
        StringBuilder yaml = new StringBuilder()
                .append("# generated by bench/ColdStartBench.java\n")
                .append("listen: ").append(LOOPBACK).append(':').append(listenPort).append('\n')
                .append("state-dir: var\n")
                .append("defaults:\n")
                .append("  start-timeout: 30s\n")
                .append("  command: ").append(command).append('\n')
                .append("tenants:\n")
                .append("  warm:\n    hosts: [warm.bench]\n    port: ").append(warmPort).append('\n');
        for (int i = 0; i < tenantPorts.length; i++) {
            yaml.append("  ").append(tenant(i)).append(":\n    hosts: [").append(tenant(i)).append(".bench]\n    port: ")
                    .append(tenantPorts[i]).append('\n');
        }
        Path file = tmp.resolve("wakeport.yaml");
        Files.writeString(file, yaml.toString());
        return file;
    }

    static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static void waitForListen(Process wakeport, int port, Path log) throws Exception {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(LOOPBACK, port), 1000);
                return;
            } catch (IOException e) {
                if (!wakeport.isAlive()) die("wakeport exited with " + wakeport.exitValue() + ":\n" + Files.readString(log));
                if (System.nanoTime() > giveUp) die("wakeport not listening after 60 s:\n" + Files.readString(log));
                Thread.sleep(20);
            }
        }
    }

    static int freeBackendPort() {
        while (nextPort < 32000) {
            int port = nextPort++;
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(LOOPBACK, port));
                return port;
            } catch (IOException e) {
                // taken: try the next one
            }
        }
        die("no free port between " + FIRST_BACKEND_PORT + " and 32000");
        return -1;
    }

    /** Backend pids from the "demo backend NAME pid PID booting" lines of wakeport's backend logs. */
    static List<ProcessHandle> pidsFromBackendLogs() throws IOException {
        List<ProcessHandle> handles = new ArrayList<>();
        Path logs = tmp.resolve("var/logs");
        if (!Files.isDirectory(logs)) return handles;
        Pattern p = Pattern.compile("^demo backend \\S+ pid (\\d+) booting$");
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.toList()) {
                for (String line : Files.readAllLines(f)) {
                    Matcher m = p.matcher(line);
                    if (m.matches()) ProcessHandle.of(Long.parseLong(m.group(1))).ifPresent(handles::add);
                }
            }
        }
        return handles;
    }

    static long countDistinct(List<ProcessHandle> handles) {
        return handles.stream().map(ProcessHandle::pid).distinct().count();
    }

    // ---------------------------------------------------------------- machine load

    /** Busy share of all CPUs over the next {@code millis} ms, from /proc/stat (-1 when unavailable). */
    static double busyFraction(long millis) throws InterruptedException {
        long[] a = cpuTicks();
        Thread.sleep(millis);
        long[] b = cpuTicks();
        if (a == null || b == null || b[0] == a[0]) return -1;
        return (double) ((b[0] - a[0]) - (b[1] - a[1])) / (b[0] - a[0]);
    }

    /** {total, idle+iowait} ticks of the "cpu" line of /proc/stat. */
    static long[] cpuTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]);
            return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Measures the load over one pause, then waits (at most quietWaitSeconds) until the machine is
     * quiet; returns {first, last} busy share seen.
     */
    static double[] waitForQuiet(long deadline) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(quietWaitSeconds);
        double first = busyFraction(pauseMillis);
        double busy = first;
        while (busy > quietBusy && System.nanoTime() < giveUp && System.nanoTime() < deadline) {
            busy = busyFraction(pauseMillis);
        }
        return new double[] {first, busy};
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    // ---------------------------------------------------------------- report

    static void report(String title, List<Sample> direct, List<Sample> wakeport, List<Sample> alt) {
        int n = Math.min(direct.size(), wakeport.size());
        if (n == 0) {
            System.out.println("no runs completed");
            return;
        }
        direct = direct.subList(0, n);
        wakeport = wakeport.subList(0, n);
        double[] d = values(direct, Sample::millis);
        double[] w = values(wakeport, Sample::millis);
        double[] diff = new double[n];
        for (int i = 0; i < n; i++) diff[i] = w[i] - d[i];

        System.out.println();
        System.out.printf(Locale.ROOT, "%-46s median      p90      min      max%n", title + ": " + n + " interleaved pairs (ms)");
        row("direct: exec -> first 200", d);
        row("  exec -> bind() returned", values(direct, s -> s.toBound));
        row("  bind() returned -> request handled", values(direct, s -> s.boundToRequest));
        row("  time per poll attempt", values(direct, s -> s.millis / s.attempts));
        row("wakeport: request -> response", w);
        row("  request -> bind() returned", values(wakeport, s -> s.toBound));
        row("  bind() returned -> request handled", values(wakeport, s -> s.boundToRequest));
        row("  Server-Timing cold-start dur", values(wakeport, Sample::serverTiming));
        row("per-pair difference (wakeport - direct)", diff);
        if (!alt.isEmpty()) {
            alt = alt.subList(0, Math.min(n, alt.size()));
            double[] a = values(alt, Sample::millis);
            row(String.format(Locale.ROOT, "direct, poll %.1f ms apart: exec -> 200", altPollNanos / 1e6), a);
            row("  exec -> bind() returned", values(alt, s -> s.toBound));
            row("  time per poll attempt", values(alt, s -> s.millis / s.attempts));
        }
        double iqrD = percentile(d, 75) - percentile(d, 25);
        double iqrW = percentile(w, 75) - percentile(w, 25);
        System.out.printf(Locale.ROOT, "OVERHEAD (median wakeport - median direct): %.1f ms   (IQR direct %.1f ms, wakeport %.1f ms)%n",
                median(w) - median(d), iqrD, iqrW);
        System.out.printf(Locale.ROOT, "median of per-pair differences: %.1f ms (p10 %.1f, p90 %.1f ms)%n",
                median(diff), percentile(diff, 10), percentile(diff, 90));
        if (!alt.isEmpty()) {
            System.out.printf(Locale.ROOT, "overhead against the %.1f ms poller instead: %.1f ms%n", altPollNanos / 1e6,
                    median(w) - median(values(alt, Sample::millis)));
        }
    }

    static double[] values(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
        return samples.stream().mapToDouble(f).filter(v -> !Double.isNaN(v)).toArray();
    }

    static void row(String label, double[] v) {
        if (v.length == 0) return;
        System.out.printf(Locale.ROOT, "  %-38s %8.1f %8.1f %8.1f %8.1f%n", label, median(v), percentile(v, 90), min(v), max(v));
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Nearest-rank percentile. */
    static double percentile(double[] v, double p) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElse(Double.NaN);
    }

    static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(Double.NaN);
    }

    /** Prints what wakeport said about readiness polling, and every warning or error it logged. */
    static void summarizeLog(Path log) throws IOException {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
        // "port open after N ms" in early versions, "ready after N ms[ + settle ...]" later.
        Pattern open = Pattern.compile("tenant (t\\d+) .*STARTING -> READY \\((?:port open|ready) after (\\d+) ms");
        List<String> readies = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String line : lines) {
            Matcher m = open.matcher(line);
            if (m.find()) readies.add(m.group(1) + "=" + m.group(2));
            if (line.contains(" WARN ") || line.contains(" ERROR ") || line.contains("Exception")) problems.add(line);
        }
        System.out.println();
        System.out.println("wakeport log: " + lines.size() + " lines; readiness seen after (ms since the request): "
                + String.join(" ", readies));
        if (problems.isEmpty()) {
            System.out.println("wakeport log: no WARN/ERROR lines");
        } else {
            System.out.println("wakeport log: " + problems.size() + " WARN/ERROR/exception lines:");
            problems.stream().limit(40).forEach(l -> System.out.println("  | " + l));
        }
    }

    // ---------------------------------------------------------------- plumbing

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static void parseArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("""
                        usage: java bench/ColdStartBench.java [options]   (from the repository root)
                          --runs N           cold starts measured on each side (default 30, at least 15 recommended)
                          --boot-delay MS    the demo backend's simulated boot time (default 300)
                          --warmup N         warm requests to wakeport before measuring (default 200)
                          --poll-us US       direct side: pause between HTTP attempts (default 200)
                          --compare-poll-us US  add a third arm: direct again, but polling US apart
                          --pause MS         pause between runs, also the window for measuring other load (default 300)
                          --quiet-busy PCT   wait before a pair while other load exceeds PCT% of all CPUs (default 25)
                          --quiet-wait S     ...but at most S seconds per pair (default 15; 0 = never wait)
                          --max-seconds S    stop starting new runs after S seconds (default 240)
                          --jar PATH         wakeport jar (default target/wakeport.jar)
                          --classes DIR      where DemoBackend.class is (default target/test-classes)
                          --keep             keep the temp dir (config, wakeport.log, backend logs)""");
                System.exit(0);
            }
            if (a.equals("--keep")) {
                keep = true;
                continue;
            }
            if (i + 1 >= args.length) die("missing value for " + a);
            String v = args[++i];
            switch (a) {
                case "--runs" -> runs = positive(a, v);
                case "--boot-delay" -> bootDelay = Integer.parseInt(v);
                case "--warmup" -> warmupRequests = Integer.parseInt(v);
                case "--poll-us" -> pollNanos = Long.parseLong(v) * 1000;
                case "--compare-poll-us" -> altPollNanos = Long.parseLong(v) * 1000;
                case "--pause" -> pauseMillis = Integer.parseInt(v);
                case "--max-seconds" -> maxSeconds = positive(a, v);
                case "--quiet-busy" -> quietBusy = Double.parseDouble(v) / 100;
                case "--quiet-wait" -> quietWaitSeconds = Integer.parseInt(v);
                case "--jar" -> jar = Path.of(v);
                case "--classes" -> classes = Path.of(v);
                default -> die("unknown option " + a + " (try --help)");
            }
        }
    }

    static int positive(String flag, String v) {
        int n = Integer.parseInt(v);
        if (n < 1) die(flag + " must be at least 1");
        return n;
    }

    static void die(String message) {
        throw new IllegalStateException(message);
    }

    /** Shutdown hook: normally everything is gone already; after an interruption, stop what is left. */
    static void stopLeftovers() {
        try {
            Process d = directProcess;
            if (d != null && d.isAlive()) {
                d.destroy();
                d.waitFor(10, TimeUnit.SECONDS);
            }
            Process w = wakeportProcess;
            if (w != null && w.isAlive()) {
                System.err.println("bench interrupted: stopping wakeport pid " + w.pid() + " (it stops its backends)");
                w.destroy();
                if (!w.waitFor(60, TimeUnit.SECONDS)) w.destroyForcibly();
            }
            if (!keep && tmp != null && Files.isDirectory(tmp)) deleteTree(tmp);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // best effort: it is a temp dir
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
