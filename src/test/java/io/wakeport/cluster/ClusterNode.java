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

/** One wakeport node of a test cluster, a process of its own: its ports, directory and process. */
final class ClusterNode {

  static final String SECRET = "a-cluster-secret-of-the-test-0123456789";
  static final List<String> JVM = List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  final String name;
  final Path home;
  final int front = TestBed.freePort();
  final int admin = TestBed.freePort();
  final int member;
  final int forward = TestBed.freePort();
  private final WebClient http;
  Child child;

  ClusterNode(Path dir, WebClient http, String name, int member) throws Exception {
    this.http = http;
    this.name = name;
    this.member = member;
    this.home = dir.resolve(name);
    Files.createDirectories(home);
  }

  /** Three nodes joined over TCP/IP on 127.0.0.1, added to {@code nodes}; the third with its own tenants. */
  static List<ClusterNode> startThree(Path dir, WebClient http, List<ClusterNode> nodes, String tenants,
      String onNodeThree) throws Exception {
    List<Integer> members = List.of(TestBed.freePort(), TestBed.freePort(), TestBed.freePort());
    for (int i = 0; i < 3; i++) {
      ClusterNode node = new ClusterNode(dir, http, "n" + (i + 1), members.get(i));
      node.write(members, i == 2 ? onNodeThree : tenants);
      nodes.add(node);
    }
    for (ClusterNode node : nodes) {
      node.start();
    }
    for (ClusterNode node : nodes) {
      TestBed.await(node.name + " sees three nodes", Duration.ofSeconds(60), () -> node.aliveNodes() == 3);
    }
    return nodes;
  }

  void write(List<Integer> members, String tenants) throws Exception {
    StringBuilder list = new StringBuilder();
    for (int port : members) {
      list.append(list.length() == 0 ? "" : ", ").append("127.0.0.1:").append(port);
    }
    Files.writeString(home.resolve("wakeport.yaml"), """
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
        %s""".formatted(front, admin, name, member, list, forward, tenants));
  }

  void start() throws Exception {
    child = Child.wakeport(List.of(), JVM, Map.of("WAKEPORT_CLUSTER_SECRET", SECRET), "run", "--config",
        home.resolve("wakeport.yaml").toString());
    child.awaitStderr("node " + name + " started", Duration.ofSeconds(90),
        line -> line.contains("Main - started in "));
  }

  JsonObject cluster() throws Exception {
    String token = token();
    HttpResponse<Buffer> r = http.get(admin, "127.0.0.1", "/api/cluster").bearerTokenAuthentication(token)
        .timeout(10_000).send().await(15, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  long aliveNodes() {
    try {
      JsonObject seen = cluster();
      long alive = seen.getJsonArray("nodes").stream().filter(n -> ((JsonObject) n).getBoolean("alive")).count();
      if (alive != 3) {
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

  /** The admin token this node wrote. */
  String token() throws Exception {
    return Files.readString(home.resolve("var/admin.token")).trim();
  }
}
