// Slowloris beside normal traffic: how keep-alive clients fare while an attacker holds ~1,000
// connections open with request heads that never end. JDK only, used by bench/slowloris.sh:
//
//   java bench/Slowloris.java --port 18400 --host-header demo.bench [--conns 16] [--requests 20000]
//       [--max-seconds 20] [--warmup-seconds 30] [--timeout-ms 5000] [--attack 1000]
//       [--sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5] [--ramp-seconds 10] [--settle-seconds 5]
//       [--server-pid PID]
//
// 1. warm-up: the normal traffic below in rounds of 3 s, not recorded: at least 4 rounds, then
//    until a round is no more than 5 % faster than the best before it, at most --warmup-seconds;
// 2. phase "alone": --requests keep-alive `GET /` from --conns connections (one thread and one
//    socket each, bound to 127.0.0.1), at most --max-seconds; a request that fails or gets no whole
//    answer within --timeout-ms is counted and its connection replaced;
// 3. the attack: --attack connections from the --sources addresses (bound before connect, taken in
//    turn), each sends `GET / HTTP/1.1\r\nHost: ...\r\n` and then one more header byte per second
//    (`X-a: b\r\n` over and over), never the empty line; one selector thread drives them all. A
//    connection the server closes (EOF, reset, failed write) is opened again at once; whatever the
//    server wrote before closing is kept (its status line, e.g. 408). It waits until all are
//    connected (at most --ramp-seconds), then --settle-seconds more;
// 4. phase "attack": the same normal traffic again while the attack runs;
// 5. stops the attack and prints, besides a few progress lines, machine-readable lines:
//      PHASE phase=alone requests=... ok=... non2xx=... errors=... timeouts=... p50_ms=... p99_ms=... max_ms=... seconds=...
//      PHASE phase=attack ...
//      ATTACK target=1000 held_end=... held_min=... opened=... reconnects=... closed_by_server=...
//             answered=... silent=... reset=... connect_errors=... statuses={408=...} fds_before=... fds_end=...
//    Latency percentiles are over every attempt (a failed one counts with the time until it failed).
//    held_end = attack connections open when phase "attack" ended; held_min = the fewest open at
//    any moment during that phase; closed_by_server = answered (server wrote something, then
//    closed) + silent (plain EOF) + reset (RST or failed write); fds_* = open file descriptors of
//    --server-pid before the attack and when phase "attack" ended (-1 without --server-pid).

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

public class Slowloris {

    static int port;
    static String hostHeader = "localhost";
    static int timeoutMs = 5000;

    public static void main(String[] args) throws Exception {
        int conns = 16;
        int requests = 20_000;
        int maxSeconds = 20;
        int warmupSeconds = 30;
        int attack = 1000;
        int rampSeconds = 10;
        int settleSeconds = 5;
        long serverPid = -1;
        String sources = "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5";
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(v);
                case "--host-header" -> hostHeader = v;
                case "--conns" -> conns = Integer.parseInt(v);
                case "--requests" -> requests = Integer.parseInt(v);
                case "--max-seconds" -> maxSeconds = Integer.parseInt(v);
                case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(v);
                case "--timeout-ms" -> timeoutMs = Integer.parseInt(v);
                case "--attack" -> attack = Integer.parseInt(v);
                case "--sources" -> sources = v;
                case "--ramp-seconds" -> rampSeconds = Integer.parseInt(v);
                case "--settle-seconds" -> settleSeconds = Integer.parseInt(v);
                case "--server-pid" -> serverPid = Long.parseLong(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (port <= 0) {
            throw new IllegalArgumentException("--port is required");
        }

        // Warm-up: at least 4 rounds of 3 s, then until a round is no more than 5 % faster than the
        // best before it (the JIT of the three JVMs has settled), at most --warmup-seconds.
        double best = 0;
        List<String> rounds = new ArrayList<>();
        for (int spent = 0; spent + 3 <= warmupSeconds; spent += 3) {
            Load warm = Load.run(conns, 1_000_000, 3);
            double rate = warm.attempts() / (warm.wallNanos / 1e9);
            rounds.add(String.format(Locale.ROOT, "%.0f", rate));
            if (rounds.size() >= 4 && rate <= best * 1.05) {
                break;
            }
            best = Math.max(best, rate);
        }
        progress("warm-up: %d rounds of 3 s, requests/s %s, not recorded", rounds.size(), rounds);
        Load alone = Load.run(conns, requests, maxSeconds);
        print("alone", alone);

        int fdsBefore = fds(serverPid);
        Attacker attacker = new Attacker(attack, sources.split(","));
        Thread driver = new Thread(attacker, "slowloris");
        driver.setDaemon(true);
        driver.start();
        long rampEnd = System.nanoTime() + rampSeconds * 1_000_000_000L;
        while (attacker.held() < attack && System.nanoTime() < rampEnd) {
            Thread.sleep(100);
        }
        progress("attack: %d of %d connections held after the ramp; settling %d s", attacker.held(), attack, settleSeconds);
        Thread.sleep(settleSeconds * 1000L);
        progress("attack: %d held, %d closed by the server so far", attacker.held(), attacker.closedByServer());

        attacker.heldMin = attacker.held();
        attacker.trackMin = true;
        Load underAttack = Load.run(conns, requests, maxSeconds);
        attacker.trackMin = false;
        int heldEnd = attacker.held();
        int fdsEnd = fds(serverPid);
        print("attack", underAttack);
        attacker.stop();
        driver.join(5000);

        System.out.printf(Locale.ROOT,
                "ATTACK target=%d held_end=%d held_min=%d opened=%d reconnects=%d closed_by_server=%d answered=%d silent=%d reset=%d"
                        + " connect_errors=%d statuses=%s fds_before=%d fds_end=%d%n",
                attack, heldEnd, attacker.heldMin, attacker.opened, attacker.reconnects, attacker.closedByServer(),
                attacker.answered, attacker.silent, attacker.reset, attacker.connectErrors,
                attacker.statuses.toString().replace(" ", ""), fdsBefore, fdsEnd);
    }

    static void print(String phase, Load l) {
        long[] sorted = Arrays.copyOf(l.latencyNanos, l.attempts());
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT,
                "PHASE phase=%s requests=%d ok=%d non2xx=%d errors=%d timeouts=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f seconds=%.1f%n",
                phase, l.attempts(), l.ok.get(), l.non2xx.get(), l.errors.get(), l.timeouts.get(),
                pct(sorted, 50), pct(sorted, 99), pct(sorted, 100), l.wallNanos / 1e9);
        if (!l.errorKinds.isEmpty()) {
            progress("%s: errors %s", phase, l.errorKinds);
        }
    }

    static void progress(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    static int fds(long pid) {
        if (pid <= 0) {
            return -1;
        }
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    /** Normal traffic: keep-alive GETs from a few connections, one thread each. */
    static final class Load {
        final long[] latencyNanos;
        final AtomicInteger tickets = new AtomicInteger();
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger non2xx = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicInteger timeouts = new AtomicInteger();
        final Map<String, Integer> errorKinds = new TreeMap<>();
        long wallNanos;

        Load(int limit) {
            this.latencyNanos = new long[limit];
        }

        int attempts() {
            return Math.min(tickets.get(), latencyNanos.length);
        }

        static Load run(int conns, int requests, int maxSeconds) throws InterruptedException {
            Load l = new Load(requests);
            long start = System.nanoTime();
            long deadline = start + maxSeconds * 1_000_000_000L;
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < conns; i++) {
                Thread t = new Thread(() -> l.client(deadline), "client-" + i);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            l.wallNanos = System.nanoTime() - start;
            return l;
        }

        void client(long deadline) {
            byte[] request = ("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\nUser-Agent: wakeport-slowloris-bench\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            Socket socket = null;
            InputStream in = null;
            OutputStream out = null;
            while (System.nanoTime() < deadline) {
                int ticket = tickets.getAndIncrement();
                if (ticket >= latencyNanos.length) {
                    return;
                }
                long t0 = System.nanoTime();
                try {
                    if (socket == null) {
                        socket = new Socket();
                        socket.setTcpNoDelay(true);
                        socket.bind(new InetSocketAddress("127.0.0.1", 0));
                        socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
                        socket.setSoTimeout(timeoutMs);
                        in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
                        out = socket.getOutputStream();
                    }
                    out.write(request);
                    out.flush();
                    int status = readResponse(in, t0 + timeoutMs * 1_000_000L);
                    if (status >= 200 && status < 300) {
                        ok.incrementAndGet();
                    } else {
                        non2xx.incrementAndGet();
                        count("status " + status);
                    }
                } catch (SocketTimeoutException e) {
                    timeouts.incrementAndGet();
                    count("timeout");
                    socket = close(socket);
                } catch (IOException | RuntimeException e) {
                    errors.incrementAndGet();
                    count(e.getClass().getSimpleName());
                    socket = close(socket);
                }
                latencyNanos[ticket] = System.nanoTime() - t0;
            }
            close(socket);
        }

        synchronized void count(String kind) {
            errorKinds.merge(kind, 1, Integer::sum);
        }

        static Socket close(Socket s) {
            try {
                if (s != null) {
                    s.close();
                }
            } catch (IOException ignored) {
                // closing anyway
            }
            return null;
        }

        /** Reads one response (Content-Length or chunked); returns its status. */
        static int readResponse(InputStream in, long deadlineNanos) throws IOException {
            String statusLine = line(in);
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
                throw new IOException("bad status line");
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            for (String h; !(h = line(in)).isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(lower.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    close = true;
                }
            }
            if (chunked) {
                for (long size; (size = Long.parseLong(line(in).split(";")[0].trim(), 16)) > 0; ) {
                    skip(in, size);
                    line(in);
                }
                while (!line(in).isEmpty()) {
                    // trailers
                }
            } else if (length > 0) {
                skip(in, length);
            }
            if (System.nanoTime() > deadlineNanos) {
                throw new SocketTimeoutException("answer took longer than the timeout");
            }
            if (close) {
                throw new IOException("server closed the keep-alive connection");
            }
            return status;
        }

        static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder(64);
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    throw new IOException("EOF");
                }
                if (c != '\r') {
                    sb.append((char) c);
                }
            }
            return sb.toString();
        }

        static void skip(InputStream in, long n) throws IOException {
            byte[] buf = new byte[8192];
            while (n > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, n));
                if (r < 0) {
                    throw new IOException("EOF in body");
                }
                n -= r;
            }
        }
    }

    /** The attack: every connection driven by one selector thread. */
    static final class Attacker implements Runnable {
        static final byte[] DRIP = "X-a: b\r\n".getBytes(StandardCharsets.US_ASCII);

        final int n;
        final InetAddress[] sources;
        final Selector selector;
        final SocketChannel[] channels;
        final boolean[] connected;
        final long[] dripped;
        final byte[][] answers;
        final boolean[] retry;
        final byte[] head;
        volatile boolean running = true;
        volatile boolean trackMin;
        volatile int heldMin;
        volatile int heldNow;
        volatile int opened;
        volatile int reconnects;
        volatile int answered;
        volatile int silent;
        volatile int reset;
        volatile int connectErrors;
        final Map<Integer, Integer> statuses = new TreeMap<>();

        Attacker(int n, String[] sources) throws IOException {
            this.n = n;
            this.sources = new InetAddress[sources.length];
            for (int i = 0; i < sources.length; i++) {
                this.sources[i] = InetAddress.getByName(sources[i].trim());
            }
            this.selector = Selector.open();
            this.channels = new SocketChannel[n];
            this.connected = new boolean[n];
            this.dripped = new long[n];
            this.answers = new byte[n][];
            this.retry = new boolean[n];
            this.head = ("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }

        int held() {
            return heldNow;
        }

        int closedByServer() {
            return answered + silent + reset;
        }

        void stop() {
            running = false;
            selector.wakeup();
        }

        @Override
        public void run() {
            for (int i = 0; i < n; i++) {
                open(i);
            }
            long nextTick = System.nanoTime() + 1_000_000_000L;
            ByteBuffer buf = ByteBuffer.allocate(4096);
            try {
                while (running) {
                    long waitMs = Math.max(1, (nextTick - System.nanoTime()) / 1_000_000);
                    selector.select(waitMs);
                    for (SelectionKey key : selector.selectedKeys()) {
                        int i = (Integer) key.attachment();
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isConnectable()) {
                            connectDone(i, key);
                        } else if (key.isReadable()) {
                            readable(i, buf);
                        }
                    }
                    selector.selectedKeys().clear();
                    if (System.nanoTime() >= nextTick) {
                        nextTick += 1_000_000_000L;
                        tick();
                    }
                    if (trackMin && heldNow < heldMin) {
                        heldMin = heldNow;
                    }
                }
            } catch (IOException e) {
                System.out.println("attacker stopped: " + e);
            }
            for (SocketChannel ch : channels) {
                closeQuietly(ch);
            }
        }

        private void open(int i) {
            retry[i] = false;
            connected[i] = false;
            dripped[i] = 0;
            answers[i] = null;
            try {
                SocketChannel ch = SocketChannel.open();
                channels[i] = ch;
                ch.configureBlocking(false);
                ch.bind(new InetSocketAddress(sources[i % sources.length], 0));
                opened++;
                if (ch.connect(new InetSocketAddress("127.0.0.1", port))) {
                    ch.register(selector, SelectionKey.OP_READ, i);
                    established(i);
                } else {
                    ch.register(selector, SelectionKey.OP_CONNECT, i);
                }
            } catch (IOException e) {
                connectFailed(i);
            }
        }

        private void connectDone(int i, SelectionKey key) {
            try {
                channels[i].finishConnect();
                key.interestOps(SelectionKey.OP_READ);
                established(i);
            } catch (IOException e) {
                connectFailed(i);
            }
        }

        private void established(int i) {
            connected[i] = true;
            heldNow++;
            try {
                channels[i].write(ByteBuffer.wrap(head));
            } catch (IOException e) {
                closedByServer(i, true);
            }
        }

        /** A connect that failed is tried again on the next tick, not at once. */
        private void connectFailed(int i) {
            connectErrors++;
            closeQuietly(channels[i]);
            channels[i] = null;
            retry[i] = true;
        }

        private void readable(int i, ByteBuffer buf) {
            buf.clear();
            int r;
            try {
                r = channels[i].read(buf);
            } catch (IOException e) {
                closedByServer(i, true);
                return;
            }
            if (r < 0) {
                closedByServer(i, false);
            } else if (r > 0 && (answers[i] == null || answers[i].length < 16)) {
                byte[] prev = answers[i] == null ? new byte[0] : answers[i];
                byte[] next = Arrays.copyOf(prev, Math.min(16, prev.length + r));
                buf.flip();
                buf.get(next, prev.length, next.length - prev.length);
                answers[i] = next;
            }
        }

        private void closedByServer(int i, boolean wasReset) {
            byte[] a = answers[i];
            if (a != null && a.length > 0) {
                answered++;
                String s = new String(a, StandardCharsets.US_ASCII);
                int status = s.startsWith("HTTP/1.") && s.length() >= 12 ? Integer.parseInt(s.substring(9, 12)) : -1;
                statuses.merge(status, 1, Integer::sum);
            } else if (wasReset) {
                reset++;
            } else {
                silent++;
            }
            if (connected[i]) {
                heldNow--;
            }
            closeQuietly(channels[i]);
            channels[i] = null;
            if (running) {
                reconnects++;
                open(i);
            }
        }

        private void tick() {
            for (int i = 0; i < n; i++) {
                if (retry[i]) {
                    reconnects++;
                    open(i);
                } else if (connected[i] && channels[i] != null) {
                    try {
                        channels[i].write(ByteBuffer.wrap(DRIP, (int) (dripped[i] % DRIP.length), 1));
                        dripped[i]++;
                    } catch (IOException e) {
                        closedByServer(i, true);
                    }
                }
            }
        }

        private static void closeQuietly(SocketChannel ch) {
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
