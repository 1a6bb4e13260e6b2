package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One wakeport cluster node of a test, a process of its own: its ports, directory and process. */
final class Node {

  static final String SECRET = "a-cluster-secret-of-the-test-0123456789";
  static final List<String> JVM = List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  final String name;
  final Path home;
  final int front = freePort();
  final int admin = freePort();
  final int member;
  final int forward = freePort();
  private final WebClient http;
  /** More of its cluster section, such as a {@code tls:} line (indented, ending in a newline). */
  String clusterExtra = "";
  Child child;

  /**
   * @param dir    the test's directory; the node's is {@code dir/name}
   * @param member its Hazelcast member port
   */
  Node(Path dir, WebClient http, String name, int member) throws Exception {
    this.name = name;
    this.member = member;
    this.http = http;
    this.home = dir.resolve(name);
    Files.createDirectories(home);
  }

  /** Three nodes joined over TCP/IP on 127.0.0.1, added to {@code nodes}; the third with its own tenants. */
  static List<Node> startThree(Path dir, WebClient http, List<Node> nodes, String tenants, String onNodeThree)
      throws Exception {
    return startThree(dir, http, nodes, List.of(tenants, tenants, onNodeThree), List.of("", "", ""));
  }

  /** Three nodes joined over TCP/IP on 127.0.0.1, each with its tenants and its {@code cluster.labels}. */
  static List<Node> startThree(Path dir, WebClient http, List<Node> nodes, List<String> tenants, List<String> labels)
      throws Exception {
    List<Integer> members = List.of(freePort(), freePort(), freePort());
    for (int i = 0; i < 3; i++) {
      Node node = new Node(dir, http, "n" + (i + 1), members.get(i));
      node.write(members, tenants.get(i), labels.get(i));
      nodes.add(node);
    }
    for (Node node : nodes) {
      node.start();
    }
    for (Node node : nodes) {
      TestBed.await(node.name + " sees three nodes", Duration.ofSeconds(60), () -> node.aliveNodes() == 3);
    }
    return nodes;
  }

  /** Every port handed out in this run: two listeners of one node on one port would share it (Vert.x), not fail. */
  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** A free port not handed out before in this run (a closed probe socket's port may come back at once). */
  static int freePort() {
    try {
      while (true) {
        int port = TestBed.freePort();
        if (HANDED_OUT.add(port)) {
          return port;
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  void write(List<Integer> members, String tenants) throws Exception {
    write(members, tenants, "");
  }

  /** @param labels this node's {@code cluster.labels}, such as {@code zone: a, disk: ssd}; "" for none */
  void write(List<Integer> members, String tenants, String labels) throws Exception {
    StringBuilder list = new StringBuilder();
    for (int port : members) {
      list.append(list.length() == 0 ? "" : ", ").append("127.0.0.1:").append(port);
    }
    Files.writeString(config(), """
        listen: 127.0.0.1:%d
        state-dir: var
        admin:
          listen: 127.0.0.1:%d
        cluster:
          node: %s
          bind: 127.0.0.1:%d
          members: [%s]
          forward-listen: 127.0.0.1:%d
          secret: ${env:WAKEPORT_CLUSTER_SECRET}
          labels: {%s}
        %s%s""".formatted(front, admin, name, member, list, forward, labels, clusterExtra, tenants));
  }

  Path config() {
    return home.resolve("wakeport.yaml");
  }

  String token() throws Exception {
    return Files.readString(home.resolve("var/admin.token")).trim();
  }

  void start() throws Exception {
    child = Child.wakeport(List.of(), JVM, Map.of("WAKEPORT_CLUSTER_SECRET", SECRET), "run", "--config",
        config().toString());
    child.awaitStderr("node " + name + " started", Duration.ofSeconds(90),
        line -> line.contains("Main - started in "));
  }

  /** POST {@code path} on this node's admin API. */
  HttpResponse<Buffer> post(String path) throws Exception {
    return http.post(admin, "127.0.0.1", path).bearerTokenAuthentication(token()).timeout(60_000).send()
        .await(65, TimeUnit.SECONDS);
  }

  /** What this node's admin API says of {@code node} among its cluster's nodes. */
  JsonObject seen(String node) throws Exception {
    return cluster().getJsonArray("nodes").stream().map(n -> (JsonObject) n)
        .filter(n -> n.getString("node").equals(node)).findFirst().orElseThrow();
  }

  JsonObject cluster() throws Exception {
    return api("/api/cluster");
  }

  /** Requests in flight on this node's (first) instance of {@code tenant}: its leases. */
  int inFlight(String tenant) throws Exception {
    return api("/api/tenants/" + tenant).getJsonArray("instances").getJsonObject(0).getInteger("inFlight");
  }

  /** GET {@code path} on the admin listener, which must answer 200 with JSON. */
  JsonObject api(String path) throws Exception {
    HttpResponse<Buffer> r = http.get(admin, "127.0.0.1", path).bearerTokenAuthentication(token())
        .timeout(10_000).send().await(15, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  /** The nodes this one sees alive; -1 when it cannot say. */
  long aliveNodes() {
    try {
      JsonObject seen = cluster();
      long alive = seen.getJsonArray("nodes").stream().filter(n -> ((JsonObject) n).getBoolean("alive")).count();
      if (alive != seen.getJsonArray("nodes").size()) {
        System.out.println(name + ": " + seen.encode());
      }
      return alive;
    } catch (Exception | AssertionError e) {
      System.out.println(name + ": /api/cluster: " + e);
      return -1;
    }
  }

  long spawns(String tenant) throws Exception {
    Path log = home.resolve("var/logs/" + tenant + ".log");
    if (!Files.exists(log)) {
      return 0;
    }
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.startsWith("demo backend " + tenant + " pid") && l.endsWith("booting")).count();
    }
  }

  /** The demo backends this node started (their pids, from the lines they logged as they booted). */
  List<Long> backendPids() throws Exception {
    List<Long> pids = new java.util.ArrayList<>();
    Path logs = home.resolve("var/logs");
    if (!Files.isDirectory(logs)) {
      return pids;
    }
    java.util.regex.Pattern booting = java.util.regex.Pattern.compile("^demo backend \\S+ pid (\\d+) booting$");
    try (var files = Files.list(logs)) {
      for (Path log : files.toList()) {
        for (String line : Files.readAllLines(log)) {
          java.util.regex.Matcher m = booting.matcher(line);
          if (m.matches()) {
            pids.add(Long.parseLong(m.group(1)));
          }
        }
      }
    }
    return pids;
  }

  /**
   * kill -STOP of this node: its connections stay open and take bytes without an answer, as a
   * machine's that is dying (Hazelcast drops it after 5 s without heartbeats).
   */
  void freeze() throws Exception {
    Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(child.process.pid())).inheritIO().start();
    if (stop.waitFor() != 0) {
      throw new IllegalStateException("kill -STOP " + child.process.pid() + " failed");
    }
  }

  /** kill -9 of this node and of every demo backend it started: its machine is gone. */
  void killMachine() throws Exception {
    // Found first, so that node and backends die together: the other nodes' next request finds it gone.
    List<Long> backends = backendPids();
    child.process.destroyForcibly();
    for (long pid : backends) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    child.process.waitFor();
  }
}
