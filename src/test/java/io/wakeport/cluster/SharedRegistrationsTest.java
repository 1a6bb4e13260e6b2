package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.wakeport.testing.RemoteBackend;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registered members across a cluster of three node processes: real member servers on loopback
 * addresses register on one node and are served through the others, report their load on
 * another, leave on a third, expire everywhere when silent, and count against max-members
 * cluster-wide.
 */
class SharedRegistrationsTest {

  private static final String POOL_SECRET = "pool-secret-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  private final List<Node> nodes = new ArrayList<>();
  private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
  private final WebClient http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5000)
      .setKeepAlive(false));

  private static final String TENANTS = """
      tenants:
        pool:
          hosts: [pool.test]
          check: {tcp: true, interval: 200ms}
          registration: {secret: "%s", ttl: 2s, max-members: 2, addresses: [127.0.0.0/8]}
        steady:
          hosts: [steady.test]
          registration: {secret: "%s", ttl: 10m, addresses: [127.0.0.0/8]}
      """.formatted(POOL_SECRET, POOL_SECRET);

  private HttpResponse<Buffer> member(Node node, HttpMethod method, String path, String body) throws Exception {
    var request = http.request(method, node.admin, "127.0.0.1", "/api/tenants/pool/members/" + path)
        .putHeader("Authorization", "Bearer " + POOL_SECRET).timeout(20_000);
    return (body == null ? request.send() : request.putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body))).await(30, TimeUnit.SECONDS);
  }

  private void report(Node node, String route) {
    http.request(HttpMethod.POST, node.admin, "127.0.0.1", "/api/tenants/pool/members/" + route + "/load")
        .putHeader("Authorization", "Bearer " + POOL_SECRET).sendJsonObject(new JsonObject().put("load", 20));
  }

  private HttpResponse<Buffer> register(Node node, RemoteBackend backend) throws Exception {
    return member(node, HttpMethod.PUT, backend.name, "{\"address\":\"" + backend.address() + "\"}");
  }

  /** The registered members {@code node} shows for pool in its admin API. */
  private Set<String> registered(Node node) {
    return registered(node, "pool");
  }

  private Set<String> registered(Node node, String tenant) {
    try {
      JsonObject pool = http.get(node.admin, "127.0.0.1", "/api/tenants/" + tenant)
          .bearerTokenAuthentication(node.token())
          .send().await(15, TimeUnit.SECONDS).bodyAsJsonObject();
      Set<String> routes = new TreeSet<>();
      pool.getJsonArray("instances").forEach(i -> {
        if (((JsonObject) i).getBoolean("registered", false)) {
          routes.add(((JsonObject) i).getString("route"));
        }
      });
      return routes;
    } catch (Exception e) {
      return Set.of("?" + e);
    }
  }

  /** Which member answers a request for pool.test through {@code node}'s front port, or the status. */
  private String servedBy(Node node) {
    try {
      HttpResponse<Buffer> r = http.get(node.front, "127.0.0.1", "/").virtualHost("pool.test").timeout(10_000).send()
          .await(15, TimeUnit.SECONDS);
      return r.statusCode() == 200 ? TestBed.field(r.bodyAsString(), "member") : "status " + r.statusCode();
    } catch (Exception e) {
      return e.toString();
    }
  }

  private void awaitEverywhere(String what, Set<String> routes) throws Exception {
    for (Node node : nodes) {
      TestBed.await(node.name + ": " + what + " " + routes, WAIT, () -> registered(node).equals(routes));
    }
  }

  private boolean logged(String text) {
    return nodes.stream().anyMatch(n -> n.child.stderr().stream().anyMatch(l -> l.contains(text)));
  }

  @Test
  void aMemberRegisteredOnOneNodeIsServedReportedLeftAndExpiredOnEvery() throws Exception {
    Node.startThree(dir, http, nodes, TENANTS, TENANTS);
    Node n1 = nodes.get(0);
    Node n2 = nodes.get(1);
    Node n3 = nodes.get(2);
    try (RemoteBackend a = new RemoteBackend("a", "127.0.0.2");
         RemoteBackend b = new RemoteBackend("b", "127.0.0.3");
         RemoteBackend c = new RemoteBackend("c", "127.0.0.4")) {
      // a registers on n1: n2 and n3 balance to it directly.
      HttpResponse<Buffer> created = register(n1, a);
      assertEquals(201, created.statusCode(), created.bodyAsString());
      // Its load reports go to n2: they renew its lease on every node (its ttl is 2 s). c reports to n1.
      long reporter = vertx.setPeriodic(300, t -> {
        report(n2, "a");
        report(n1, "c");
        for (int i = 0; i < 3; i++) {
          report(n1, "r" + i); // whichever of the three below is admitted
        }
      });
      try {
        awaitEverywhere("a registered", Set.of("a"));
        for (Node node : List.of(n2, n3)) {
          TestBed.await(node.name + " serves a", WAIT, () -> servedBy(node).equals("a"));
        }

        // b registers on n2 and goes silent: max-members 2 counts across the cluster, so c is refused on n3.
        assertEquals(201, register(n2, b).statusCode());
        awaitEverywhere("a and b registered", Set.of("a", "b"));
        HttpResponse<Buffer> refused = register(n3, c);
        assertEquals(429, refused.statusCode(), refused.bodyAsString());

        // b sends no report for its ttl: out on every node; a, reporting through n2, stays.
        awaitEverywhere("b expired", Set.of("a"));
        assertTrue(logged("registered member b at " + b.address() + " sent no report for 2s"), n1.child.printed());
        for (Node node : nodes) {
          for (int i = 0; i < 10; i++) {
            assertEquals("a", servedBy(node), node.name);
          }
        }
        // Gone from the shared map too: there is room for c again.
        HttpResponse<Buffer> admitted = register(n3, c);
        assertEquals(201, admitted.statusCode(), admitted.bodyAsString());
        awaitEverywhere("a and c registered", Set.of("a", "c"));

        // a, registered on n1, deregisters on n3: gone everywhere (its reports to n2 bring nothing back).
        assertEquals(200, member(n3, HttpMethod.DELETE, "a", null).statusCode());
        awaitEverywhere("a deregistered", Set.of("c"));
        assertTrue(logged("member a at " + a.address() + " left on another node"), n1.child.printed());
        for (Node node : nodes) {
          assertEquals("c", servedBy(node), node.name);
        }
        assertEquals(404, member(n2, HttpMethod.POST, "a/load", "{\"load\":20}").statusCode(), "a is gone from n2");
        for (Node node : nodes) {
          assertEquals(Set.of("c"), registered(node), node.name + ": a's reports brought nothing back");
        }

        // Three registrations at once, one on each node, with room for one: one is admitted, across the cluster.
        List<io.vertx.core.Future<HttpResponse<Buffer>>> race = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          race.add(http.request(HttpMethod.PUT, nodes.get(i).admin, "127.0.0.1", "/api/tenants/pool/members/r" + i)
              .putHeader("Authorization", "Bearer " + POOL_SECRET).timeout(20_000)
              .sendJsonObject(new JsonObject().put("address", "127.0.0.9:" + (9000 + i))));
        }
        List<Integer> statuses = new ArrayList<>();
        for (var f : race) {
          statuses.add(f.await(30, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(1, statuses.stream().filter(st -> st == 201).count(), statuses.toString());
        assertEquals(2, statuses.stream().filter(st -> st == 429).count(), statuses.toString());
        for (Node node : nodes) {
          TestBed.await(node.name + " has 2 members", WAIT, () -> registered(node).size() == 2);
        }

        // A node that joins later gets the members registered now: n3 restarted, with none of its own.
        HttpResponse<Buffer> steady = http.request(HttpMethod.PUT, n1.admin, "127.0.0.1",
                "/api/tenants/steady/members/s1").putHeader("Authorization", "Bearer " + POOL_SECRET)
            .sendJsonObject(new JsonObject().put("address", "127.0.0.9:9100")).await(30, TimeUnit.SECONDS);
        assertEquals(201, steady.statusCode(), steady.bodyAsString());
        Set<String> pool = registered(n1);
        n3.child.close();
        n3.start();
        TestBed.await("n3, restarted, has pool's members " + pool, WAIT, () -> registered(n3).equals(pool));
        TestBed.await("n3, restarted, has steady's member (which sent no report since)", WAIT,
            () -> registered(n3, "steady").equals(Set.of("s1")));
      } finally {
        vertx.cancelTimer(reporter);
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (Node node : nodes) {
      if (node.child != null) {
        node.child.close();
        Files.writeString(Path.of("target", "SharedRegistrationsTest-" + node.name + ".log"), node.child.printed());
      }
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
