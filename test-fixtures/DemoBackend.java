// Demo backend for wakeport: a tiny HTTP server that stands in for a per-tenant
// application image. JDK only, default package, so it runs both as
//   java test-fixtures/DemoBackend.java --port 8081 --tenant acme
// and as a compiled class (the build puts it in target/test-classes).

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

public class DemoBackend {
    static final long PID = ProcessHandle.current().pid();
    static final SecureRandom RANDOM = new SecureRandom();
    static final List<byte[]> HOARD = new java.util.concurrent.CopyOnWriteArrayList<>();
    // session id -> request counter; lets tests check that sticky routing works
    static final Map<String, AtomicInteger> SESSIONS = new ConcurrentHashMap<>();

    static String tenant;
    static String route;
    static String host = "127.0.0.1";
    static int port;
    static volatile long boundAt;
    // --ready-after: the port opens at once but the application reports healthy only later,
    // like an image that listens before it has loaded its data.
    static long readyAfterMillis;
    static volatile boolean healthy = true;

    public static void main(String[] args) throws Exception {
        // Without TCP_NODELAY the JDK server's split writes meet delayed ACKs: ~40 ms per keep-alive request.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        // Environment first, then command-line flags override it.
        String portText = System.getenv("PORT");
        tenant = envOr("WAKEPORT_TENANT", "demo");
        route = envOr("WAKEPORT_ROUTE", "");
        String delayText = envOr("BOOT_DELAY_MS", "0");
        String exitBeforeReady = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) usage("missing value for " + flag);
            String value = args[++i];
            switch (flag) {
                case "--port" -> portText = value;
                case "--tenant" -> tenant = value;
                case "--route" -> route = value;
                case "--boot-delay" -> delayText = value;
                case "--exit-before-ready" -> exitBeforeReady = value;
                case "--bind" -> host = value;
                case "--ready-after" -> readyAfterMillis = Long.parseLong(value);
                default -> usage("unknown option " + flag);
            }
        }
        if (portText == null || portText.isBlank()) usage("missing --port (or PORT environment variable)");
        long bootDelay = 0;
        Integer exitCode = null;
        try {
            if (exitBeforeReady != null) exitCode = parseInt("--exit-before-ready", exitBeforeReady);
            port = parseInt("--port", portText);
            bootDelay = parseInt("--boot-delay", delayText);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }

        System.out.println("demo backend " + tenant + " pid " + PID + " booting");
        System.out.flush();
        // Imitate an image that needs time before it accepts connections.
        if (bootDelay > 0) Thread.sleep(bootDelay);
        // Imitate an image that dies during boot (after the delay, like a real crash would).
        if (exitCode != null) {
            System.err.println("fatal: simulated boot failure");
            System.err.flush();
            System.exit(exitCode);
        }

        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
            // The port accepts connections from here on (the kernel queues them until start()).
            boundAt = System.currentTimeMillis();
            healthy = readyAfterMillis <= 0;
        } catch (IOException e) {
            System.err.println("fatal: cannot bind " + host + ":" + port + ": " + e);
            System.exit(1);
            return;
        }
        server.createContext("/", DemoBackend::dispatch);
        // Cached pool: a /slow request must not hold up other requests.
        server.setExecutor(Executors.newCachedThreadPool());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("demo backend " + tenant + " stopping");
            System.out.flush();
        }));
        server.start();
        System.out.println("READY demo backend " + tenant + " pid " + PID + " listening on " + host + ":" + port);
        System.out.flush();
        if (readyAfterMillis > 0) {
            Thread.sleep(readyAfterMillis);
            healthy = true;
            System.out.println("APP READY " + tenant);
            System.out.flush();
        }
    }

    static void dispatch(HttpExchange ex) throws IOException {
        try {
            switch (ex.getRequestURI().getPath()) {
                case "/headers" -> headers(ex);
                case "/echo" -> echo(ex);
                case "/slow" -> slow(ex);
                case "/exit" -> exit(ex);
                case "/timing" -> send(ex, 200, "text/plain; charset=utf-8",
                        "bound=" + boundAt + "\nnow=" + System.currentTimeMillis() + "\nhealthy=" + healthy + "\n");
                case "/health" -> send(ex, healthy ? 200 : 503, "text/plain; charset=utf-8", healthy ? "ok\n" : "loading\n");
                case "/print" -> {
                    // Floods stdout, to exercise log rotation.
                    int n = Integer.parseInt(query(ex, "lines", "1000"));
                    for (int i = 0; i < n; i++) {
                        System.out.println("line " + i + " of a chatty backend .......................................");
                    }
                    System.out.flush();
                    send(ex, 200, "text/plain; charset=utf-8", "printed=" + n + "\n");
                }
                case "/pid" -> send(ex, 200, "text/plain; charset=utf-8", PID + "\n");
                case "/redirect-self" -> {
                    // Absolute URLs on its own bind address, as apps that build them from their listener do.
                    String self = "http://" + host + ":" + port + query(ex, "to", "/");
                    ex.getResponseHeaders().set("Location", self);
                    ex.getResponseHeaders().set("Content-Location", self);
                    ex.getResponseHeaders().set("Refresh", "3; url=" + self);
                    ex.getResponseHeaders().set("X-Self", self);
                    send(ex, 302, "text/plain; charset=utf-8", "see " + self + "\n");
                }
                case "/redirect-to" -> {
                    // A redirect to whatever ?url= says (percent-decoded), as an app that knows
                    // neither its public prefix nor its public host writes them: "/login",
                    // "http://app.internal:8080/login".
                    String to = java.net.URLDecoder.decode(query(ex, "url", "/"), StandardCharsets.UTF_8);
                    ex.getResponseHeaders().set("Location", to);
                    ex.getResponseHeaders().set("Content-Location", to);
                    ex.getResponseHeaders().set("URI", to);
                    ex.getResponseHeaders().set("Refresh", "0; url=" + to);
                    send(ex, 302, "text/plain; charset=utf-8", "see " + to + "\n");
                }
                case "/cookies" -> {
                    // Cookies as apps behind a proxy set them: for their bind address, for their
                    // own root, for an internal domain, in any case, with and without attributes.
                    var h = ex.getResponseHeaders();
                    h.add("Set-Cookie", "own=1; Domain=127.0.0.1; Path=/");
                    h.add("Set-Cookie", "scoped=2;path=/account ; HttpOnly");
                    h.add("Set-Cookie", "internal=\"a=b\"; DOMAIN=.App.Internal; PATH=/app/x; Secure");
                    h.add("Set-Cookie", "plain=4");
                    h.add("Set-Cookie", "dated=5; Expires=Wed, 09 Jun 2027 10:18:14 GMT; domain=localhost; SameSite=Lax");
                    h.add("Set-Cookie", "other=6; Domain=example.test; Path=relative");
                    send(ex, 200, "text/plain; charset=utf-8", "cookies\n");
                }
                case "/redirect-away" -> {
                    ex.getResponseHeaders().set("Location", "http://elsewhere.test:" + port + "/login");
                    send(ex, 302, "text/plain; charset=utf-8", "away\n");
                }
                case "/alloc" -> {
                    // Takes and touches memory it keeps, to run into a memory limit.
                    int mb = parseInt("mb", query(ex, "mb", "64"));
                    for (int i = 0; i < mb; i++) {
                        byte[] block = new byte[1024 * 1024];
                        for (int j = 0; j < block.length; j += 4096) block[j] = 1;
                        HOARD.add(block);
                    }
                    send(ex, 200, "text/plain; charset=utf-8", "holding " + HOARD.size() + " MB\n");
                }
                default -> page(ex);
            }
        } catch (Exception e) {
            // Only possible if nothing was sent yet; otherwise just drop the connection.
            if (ex.getResponseCode() == -1) {
                send(ex, 500, "text/plain; charset=utf-8", "error: " + e + "\n");
            }
        } finally {
            ex.close();
        }
    }

    static void headers(HttpExchange ex) throws IOException {
        // Lowercase and merge names so tests can compare regardless of how they were sent.
        Map<String, List<String>> sorted = new TreeMap<>();
        ex.getRequestHeaders().forEach((name, values) ->
                sorted.computeIfAbsent(name.toLowerCase(java.util.Locale.ROOT), k -> new ArrayList<>()).addAll(values));
        StringBuilder out = new StringBuilder();
        sorted.forEach((name, values) -> values.forEach(v -> out.append(name).append(": ").append(v).append('\n')));
        send(ex, 200, "text/plain; charset=utf-8", out.toString());
    }

    static void echo(HttpExchange ex) throws Exception {
        // Stream the body so large uploads do not need to fit in memory.
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long length = 0;
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = ex.getRequestBody()) {
            for (int n; (n = in.read(buf)) != -1; ) {
                sha.update(buf, 0, n);
                length += n;
            }
        }
        send(ex, 200, "text/plain; charset=utf-8",
                "length=" + length + "\nsha256=" + HexFormat.of().formatHex(sha.digest()) + "\n");
    }

    static void slow(HttpExchange ex) throws Exception {
        long ms = parseInt("ms", query(ex, "ms", "1000"));
        Thread.sleep(ms);
        send(ex, 200, "text/plain; charset=utf-8", "slept=" + ms + "\n");
    }

    static void exit(HttpExchange ex) throws IOException {
        int code = parseInt("code", query(ex, "code", "0"));
        send(ex, 200, "text/plain; charset=utf-8", "exiting\n");
        ex.close();
        // Exit from another thread a little later so the response reaches the client.
        Thread t = new Thread(() -> {
            try { Thread.sleep(50); } catch (InterruptedException ignored) { }
            System.exit(code);
        });
        t.start();
    }

    static void page(HttpExchange ex) throws IOException {
        String id = cookie(ex, "_s");
        if (id == null || !SESSIONS.containsKey(id)) {
            // mod_proxy_balancer convention: the route follows the last dot of the session id.
            id = HexFormat.of().formatHex(randomBytes(8))
                    + (route.isEmpty() ? "" : "." + route);
            SESSIONS.put(id, new AtomicInteger());
            ex.getResponseHeaders().add("Set-Cookie", "_s=" + id + "; Path=/; HttpOnly");
        }
        int count = SESSIONS.get(id).incrementAndGet();
        String query = ex.getRequestURI().getRawQuery();
        String path = ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);

        String accept = ex.getRequestHeaders().getFirst("Accept");
        if (accept != null && accept.contains("text/html")) {
            String[][] facts = {{"tenant", tenant}, {"route", route}, {"pid", "" + PID}, {"port", "" + port},
                    {"session", id}, {"count", "" + count}, {"path", path}};
            StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>wakeport demo: ")
                    .append(esc(tenant)).append("</title></head>\n<body><h1>wakeport demo: ").append(esc(tenant))
                    .append("</h1>\n<dl>\n");
            for (String[] f : facts) {
                html.append("<dt>").append(f[0]).append("</dt><dd>").append(esc(f[1])).append("</dd>\n");
            }
            html.append("</dl>\n</body></html>\n");
            send(ex, 200, "text/html; charset=utf-8", html.toString());
        } else {
            send(ex, 200, "text/plain; charset=utf-8",
                    "tenant=" + tenant + "\nroute=" + route + "\npid=" + PID + "\nport=" + port
                            + "\nsession=" + id + "\ncount=" + count + "\npath=" + path + "\n");
        }
    }

    // Always send a Content-Length (never chunked); HEAD gets the headers only.
    static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = "HEAD".equalsIgnoreCase(ex.getRequestMethod());
        // For HEAD the JDK only sends a Content-Length that is set explicitly.
        if (head) ex.getResponseHeaders().set("Content-Length", Integer.toString(bytes.length));
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    static String cookie(HttpExchange ex, String name) {
        List<String> headers = ex.getRequestHeaders().get("Cookie");
        if (headers == null) return null;
        for (String header : headers) {
            for (String part : header.split(";")) {
                String p = part.trim();
                if (p.startsWith(name + "=")) return p.substring(name.length() + 1);
            }
        }
        return null;
    }

    static String query(HttpExchange ex, String key, String dflt) {
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) return dflt;
        for (String pair : q.split("&")) {
            if (pair.startsWith(key + "=")) return pair.substring(key.length() + 1);
        }
        return dflt;
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String envOr(String name, String dflt) {
        String v = System.getenv(name);
        return v == null ? dflt : v;
    }

    static int parseInt(String what, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad number for " + what + ": " + text);
        }
    }

    static void usage(String problem) {
        System.err.println("demo backend: " + problem);
        System.err.println("usage: DemoBackend --port N [--tenant NAME] [--route R] [--boot-delay MS]"
                + " [--exit-before-ready CODE] [--bind HOST]");
        System.exit(2);
    }
}
