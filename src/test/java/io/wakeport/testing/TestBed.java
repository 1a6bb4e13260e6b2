package io.wakeport.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real wakeport on a loopback port, with a config file in a temporary directory and a client to
 * talk to it. Backends are real processes: the demo backend from test-fixtures/, compiled with the tests.
 */
public final class TestBed implements AutoCloseable {

  public static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  public static final String CLASSES = Path.of("target", "test-classes").toAbsolutePath().toString();

  public final Path dir;
  public final Path configFile;
  public final int port;
  /** The admin listener's port, or 0 when this test bed runs with {@code admin: off} (the default). */
  public final int adminPort;
  public final Wakeport wakeport;
  public final Vertx vertx;
  public final WebClient client;

  private TestBed(Path dir, Path configFile, int port, int adminPort, Wakeport wakeport) {
    this.dir = dir;
    this.configFile = configFile;
    this.port = port;
    this.adminPort = adminPort;
    this.wakeport = wakeport;
    this.vertx = Vertx.vertx();
    this.client = WebClient.wrap(vertx.httpClientBuilder()
        .with(new HttpClientOptions().setKeepAlive(true))
        .with(new PoolOptions().setHttp1MaxSize(200))
        .build());
  }

  /**
   * Starts wakeport on a free loopback port with {@code body} (YAML: defaults, tenants, …) as its
   * config, with {@code admin: off}: test beds run side by side, and the admin default port is one.
   */
  public static TestBed start(Path dir, String body) throws Exception {
    return start(dir, body, false);
  }

  /** As {@link #start(Path, String)}; with {@code admin}, the admin listener on a free loopback port of its own. */
  public static TestBed start(Path dir, String body, boolean admin) throws Exception {
    return start(dir, body, admin, null);
  }

  /** As {@link #start(Path, String)}, a node of {@code cluster} (a test's own; null for none). */
  public static TestBed start(Path dir, String body, io.wakeport.cluster.Cluster cluster) throws Exception {
    return start(dir, body, false, cluster);
  }

  private static TestBed start(Path dir, String body, boolean admin, io.wakeport.cluster.Cluster cluster)
      throws Exception {
    int port = freePort();
    int adminPort = admin ? freePort() : 0;
    Path config = dir.resolve("wakeport.yaml");
    String portRange = privatePortRange();
    Files.writeString(config, header(port) + withPortRange(body, portRange) + adminSection(adminPort));
    TestBed bed = new TestBed(dir, config, port, adminPort, Wakeport.start(ConfigLoader.load(config), cluster));
    bed.portRange = portRange;
    return bed;
  }

  /** How a test bed's config file ends without an admin listener. */
  public static final String ADMIN_OFF = "\nadmin: off\n";

  /** Last in the file, so the lines tests expect in config problems stay where they were. */
  private static String adminSection(int adminPort) {
    return adminPort == 0 ? ADMIN_OFF : "\nadmin:\n  listen: 127.0.0.1:" + adminPort + "\n";
  }

  /**
   * Gives each test bed its own random port range, so that test beds running side by side (or a
   * stray backend) never meet on a port: wakeport would take such a port for a running backend.
   */
  private static String privatePortRange() {
    int first = 20000 + new java.util.Random().nextInt(120) * 100; // below the ephemeral range
    return first + "-" + (first + 99);
  }

  private static String withPortRange(String body, String portRange) {
    if (body.contains("ports:")) {
      return body;
    }
    String range = "  ports: " + portRange + "\n";
    return body.contains("defaults:\n")
        ? body.replace("defaults:\n", "defaults:\n" + range)
        : "defaults:\n" + range + body;
  }

  private static String header(int port) {
    return "listen: 127.0.0.1:" + port + "\nstate-dir: var\n";
  }

  private String portRange;

  /** Replaces the config file's body (as an operator's editor would: a new file renamed over the old one). */
  public void rewrite(String body) throws IOException {
    Path tmp = configFile.resolveSibling(".wakeport.yaml.tmp");
    Files.writeString(tmp, header(port) + withPortRange(body, portRange) + adminSection(adminPort));
    Files.move(tmp, configFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** One tenant, acme on Host acme.test, running the demo backend with {@code args}; {@code extra} adds tenant keys. */
  public static String acmeTenant(String extra, String... args) {
    return """
        tenants:
          acme:
            hosts: [acme.test]
            command: %s
        %s""".formatted(demoCommand(args), extra.indent(4));
  }

  /**
   * One tenant, acme on Host acme.test, served by a process someone else started on {@code port}:
   * its command would fail if it were ever run, so the open port must be used as it is.
   * {@code extra} adds tenant keys.
   */
  public static String foreignTenant(int port, String extra) {
    return """
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: [/nonexistent/never-run]
        %s""".formatted(port, extra.indent(4));
  }

  /** The demo backend as a YAML flow sequence, with extra arguments appended. */
  public static String demoCommand(String... extra) {
    StringBuilder sb = new StringBuilder("[" + quote(JAVA) + ", -cp, " + quote(CLASSES)
        + ", DemoBackend, --port, \"${port}\", --tenant, \"${tenant}\"");
    for (String arg : extra) {
      sb.append(", ").append(quote(arg));
    }
    return sb.append("]").toString();
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public HttpRequest<Buffer> request(HttpMethod method, String host, String path) {
    HttpRequest<Buffer> request = client.request(method, port, "127.0.0.1", path);
    if (host != null) {
      request.virtualHost(host);
    }
    return request;
  }

  public HttpResponse<Buffer> get(String host, String path) throws Exception {
    return request(HttpMethod.GET, host, path).send().await(60, TimeUnit.SECONDS);
  }

  public Path logFile(String tenant) {
    return dir.resolve("var/logs/" + tenant + ".log");
  }

  /** How many times the demo backend of {@code tenant} was spawned (each spawn logs one "booting" line). */
  public long spawnCount(String tenant) throws IOException {
    Path log = logFile(tenant);
    if (!Files.exists(log)) {
      return 0;
    }
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.startsWith("demo backend " + tenant + " pid") && l.endsWith("booting")).count();
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Waits for a condition instead of sleeping a fixed time. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Key=value lines of a demo backend answer. */
  public static String field(String body, String key) {
    for (String line : body.split("\n")) {
      if (line.startsWith(key + "=")) {
        return line.substring(key.length() + 1);
      }
    }
    return null;
  }

  /**
   * {@code body} after the least a config needs (listen, state-dir) in {@code dir}/wakeport.yaml,
   * for the tests that only load or check a config.
   */
  public static Path writeConfig(Path dir, String body) throws IOException {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, "listen: 127.0.0.1:18080\nstate-dir: var\n" + body);
    return file;
  }

  public static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  /** A client for a wakeport started by the test itself. */
  public static final class Client implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final WebClient web = WebClient.create(vertx);
    private final int port;

    public Client(int port) {
      this.port = port;
    }

    public HttpResponse<Buffer> get(String host, String path) throws Exception {
      return web.get(port, "127.0.0.1", path).virtualHost(host).send().await(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
      web.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      client.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    } finally {
      wakeport.close();
    }
  }
}
