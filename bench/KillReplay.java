// Kill -9 then the next request at once, ROUNDS times: does a request that never reached a live
// backend get its answer from a new process, or a 502? JDK only, used by bench/kill-replay.sh:
//
//   java bench/KillReplay.java --port 18080 --host-header acme.bench --log STATE/logs/acme.log [--rounds 50]
//
// One keep-alive connection to wakeport (127.0.0.1 only). Each round: GET /pid (answered by the
// demo backend: its pid), SIGKILL to that pid, then at once GET / on the same connection, timed
// from just after the kill to the end of its answer. Spawns are counted from the backend log's
// "booting" lines (one per process the demo backend starts as). Prints one line per failed round,
// and one machine-readable line:
//   KILL-REPLAY rounds=50 ok=... non200=... errors=... spawns=... new_pid=... p50_ms=... max_ms=...
// where ok = 200 from a process other than the killed one, new_pid = rounds answered by a new pid,
// spawns = new spawns during the rounds (target: one per round).

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

public class KillReplay {

    record Answer(int status, String body) {}

    public static void main(String[] args) throws Exception {
        int port = 0;
        int rounds = 50;
        String host = "acme.bench";
        Path log = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--host-header" -> host = args[i + 1];
                case "--log" -> log = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (port <= 0 || log == null) {
            throw new IllegalArgumentException("--port and --log are required");
        }
        Socket socket = connect(port);
        // The first request starts the tenant.
        Answer first = get(socket, host, "/pid");
        if (first.status != 200) {
            throw new IllegalStateException("the first request got " + first.status + ": " + first.body);
        }
        long spawnsBefore = spawns(log);
        int ok = 0;
        int non200 = 0;
        int errors = 0;
        int newPid = 0;
        long[] millis = new long[rounds];
        for (int round = 1; round <= rounds; round++) {
            Answer pidAnswer;
            try {
                pidAnswer = get(socket, host, "/pid");
            } catch (IOException e) {
                socket.close();
                socket = connect(port);
                pidAnswer = get(socket, host, "/pid");
            }
            if (pidAnswer.status != 200) {
                throw new IllegalStateException("round " + round + ": GET /pid got " + pidAnswer.status + ": " + pidAnswer.body);
            }
            long pid = Long.parseLong(pidAnswer.body.trim());
            ProcessHandle victim = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no process " + pid));
            victim.destroyForcibly();
            long began = System.nanoTime();
            Answer next;
            try {
                next = get(socket, host, "/");
            } catch (IOException e) {
                errors++;
                millis[round - 1] = (System.nanoTime() - began) / 1_000_000;
                System.out.println("round " + round + ": " + e);
                socket.close();
                socket = connect(port);
                continue;
            }
            millis[round - 1] = (System.nanoTime() - began) / 1_000_000;
            String servedBy = field(next.body, "pid");
            boolean fromNew = servedBy != null && Long.parseLong(servedBy) != pid;
            if (fromNew) {
                newPid++;
            }
            if (next.status == 200 && fromNew) {
                ok++;
            } else {
                non200 += next.status == 200 ? 0 : 1;
                System.out.println("round " + round + ": " + next.status + " " + next.body.strip().replace('\n', ' '));
            }
            // The killed process is gone before the next round looks for the serving pid.
            victim.onExit().get(30, TimeUnit.SECONDS);
        }
        socket.close();
        long spawns = spawns(log) - spawnsBefore;
        long[] sorted = millis.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "KILL-REPLAY rounds=%d ok=%d non200=%d errors=%d spawns=%d new_pid=%d p50_ms=%d max_ms=%d%n",
                rounds, ok, non200, errors, spawns, newPid, sorted[rounds / 2], sorted[rounds - 1]);
    }

    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(120_000);
        return s;
    }

    /** One keep-alive GET; wakeport and the demo backend always send Content-Length. */
    static Answer get(Socket s, String host, String path) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: wakeport-kill-replay\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        String statusLine = line(in);
        if (statusLine == null) {
            throw new IOException("connection closed before an answer");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        int length = -1;
        for (String header; !(header = line(in)).isEmpty(); ) {
            int colon = header.indexOf(':');
            if (colon > 0 && header.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(header.substring(colon + 1).trim());
            }
        }
        if (length < 0) {
            throw new IOException("answer without Content-Length: " + statusLine);
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("answer cut short");
        }
        return new Answer(status, new String(body, StandardCharsets.UTF_8));
    }

    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\n') {
                String text = buf.toString(StandardCharsets.US_ASCII);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            buf.write(c);
        }
        if (buf.size() == 0) {
            return null;
        }
        throw new IOException("connection closed in a header line");
    }

    static String field(String body, String key) {
        for (String line : body.split("\n")) {
            if (line.startsWith(key + "=")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        return null;
    }

    static long spawns(Path log) throws IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.startsWith("demo backend ") && l.endsWith(" booting")).count();
        }
    }
}
