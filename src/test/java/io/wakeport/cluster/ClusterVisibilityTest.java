package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.wakeport.config.ClusterSettings;
import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees of a cluster: two wakeport nodes as processes on 127.0.0.1, their console
 * (the cluster page, an instance served by the other node) and {@code wakeport status}; and a
 * member named {@code <script>…} (a peer with the secret, whose name no config check saw) shown
 * escaped.
 */
class ClusterVisibilityTest {

  private static final String HOSTILE = "<script>alert(1)</script>";

  @TempDir
  Path dir;

  private final List<Node> nodes = new ArrayList<>();
  private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
  private final WebClient http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5000)
      .setKeepAlive(false));
  private Clusters.Started peer;

  private String page(Node node, String path) throws Exception {
    HttpResponse<Buffer> r = http.get(node.admin, "127.0.0.1", path).bearerTokenAuthentication(node.token())
        .timeout(10_000).send().await(15, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsString();
  }

  private List<String> status(Node node) throws Exception {
    try (Child cli = Child.wakeport(List.of(), Node.JVM, Map.of("WAKEPORT_CLUSTER_SECRET", Node.SECRET), "status",
        "--config", node.config().toString())) {
      assertEquals(0, cli.exitCode(Duration.ofSeconds(60)), cli.printed());
      return cli.stdout();
    }
  }

  @Test
  void consoleAndStatusShowNodesPlacementsAndForwarding() throws Exception {
    List<Integer> members = List.of(Node.freePort(), Node.freePort());
    String tenants = """
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: %s
        """.formatted(Node.freePort(), TestBed.demoCommand());
    for (int i = 0; i < 2; i++) {
      Node node = new Node(dir, http, "n" + (i + 1), members.get(i));
      node.write(members, tenants);
      nodes.add(node);
    }
    for (Node node : nodes) {
      node.start();
    }
    for (Node node : nodes) {
      TestBed.await(node.name + " sees two nodes", Duration.ofSeconds(60), () -> node.aliveNodes() == 2);
    }

    // A request places acme; one through the other node is forwarded to it.
    HttpResponse<Buffer> first = http.get(nodes.get(0).front, "127.0.0.1", "/").virtualHost("acme.test")
        .timeout(60_000).send().await(60, TimeUnit.SECONDS);
    assertEquals(200, first.statusCode(), first.bodyAsString());
    String ownerName = nodes.get(0).cluster().getJsonObject("placements").getString("acme");
    Node owner = nodes.stream().filter(n -> n.name.equals(ownerName)).findFirst().orElseThrow();
    Node other = nodes.stream().filter(n -> n != owner).findFirst().orElseThrow();
    HttpResponse<Buffer> forwarded = http.get(other.front, "127.0.0.1", "/").virtualHost("acme.test")
        .timeout(60_000).send().await(60, TimeUnit.SECONDS);
    assertEquals(200, forwarded.statusCode(), forwarded.bodyAsString());
    // (n1 places on itself on a tie; else the first request was forwarded too.)
    long hops = owner == nodes.get(0) ? 1 : 2;

    // The console: a Cluster link, and the page with both nodes, the placement and the forwarded count.
    String list = page(other, "/console/");
    assertTrue(list.contains("<a href=\"/console/cluster\">Cluster</a>"), list);
    String onOther = page(other, "/console/cluster");
    assertTrue(onOther.contains("<code>" + other.name + "</code>"), "this node's name: " + onOther);
    assertTrue(onOther.contains("data-node=\"n1\"") && onOther.contains("data-node=\"n2\""), onOther);
    assertFalse(onOther.contains("draining</span>"), "no node drains: " + onOther);
    assertTrue(onOther.contains("127.0.0.1:" + owner.forward), "the owner's forward address: " + onOther);
    assertTrue(onOther.contains("<tr data-placement=\"acme\"><td class=\"name\"><a href=\"/console/tenants/acme\">acme"
        + "</a></td><td>" + owner.name + "</td></tr>"), "acme placed on the owner, not here: " + onOther);
    assertTrue(onOther.contains("<tr><td>out</td><td>" + owner.name + "</td><td class=\"num\">" + hops
        + "</td></tr>"), "the requests forwarded to the owner: " + onOther);
    String onOwner = page(owner, "/console/cluster/part");
    assertTrue(onOwner.contains("<td>" + owner.name + " <span class=\"registered\">here</span></td>"), onOwner);
    assertTrue(onOwner.contains("<tr><td>in</td><td>from any</td><td class=\"num\">" + hops + "</td></tr>"),
        onOwner);

    // The tenant on the node that does not run it: served by the owner, not stopped.
    String tenantPage = page(other, "/console/tenants/acme");
    assertTrue(tenantPage.contains("served by node " + owner.name), tenantPage);
    assertTrue(tenantPage.contains("id=\"tenant-state\">ELSEWHERE"), tenantPage);
    assertTrue(page(other, "/console/").contains("served by node " + owner.name));
    assertFalse(page(owner, "/console/tenants/acme").contains("served by node"), "the owner runs it");

    // wakeport status against the other node: the cluster section after the tenants.
    List<String> out = status(other);
    String printed = String.join("\n", out);
    assertTrue(out.stream().anyMatch(l -> l.startsWith("CLUSTER wakeport-") && l.contains("this node " + other.name)),
        printed);
    assertTrue(out.stream().anyMatch(l -> l.matches(other.name + " \\*\\s+yes\\s+no\\s+127\\.0\\.0\\.1:\\d+\\s+\\d+/\\d+")),
        printed);
    assertTrue(out.stream().anyMatch(l -> l.matches(owner.name + "\\s+yes\\s+no\\s+127\\.0\\.0\\.1:" + owner.forward
        + "\\s+1/\\d+")), printed);
    assertTrue(out.stream().anyMatch(l -> l.matches("acme\\s+" + owner.name)), printed);
    assertTrue(out.contains("FORWARDED in 0  out " + owner.name + " " + hops), printed);
    assertTrue(status(owner).stream().anyMatch(l -> l.matches("acme\\s+" + owner.name + " \\(here\\)")));

    // A peer with the secret whose name no config check saw: escaped wherever the console shows it.
    int peerMember = Node.freePort();
    peer = Clusters.start(new ClusterSettings(HOSTILE, "127.0.0.1", peerMember,
        List.of("127.0.0.1:" + members.get(0), "127.0.0.1:" + members.get(1)), "127.0.0.1", Node.freePort(),
        Node.SECRET, Map.of(), null), new VertxOptions(), 3);
    assertTrue(peer.cluster().enabled(), "the peer joined");
    TestBed.await("the peer seen by " + other.name, Duration.ofSeconds(60), () -> {
      try {
        return other.cluster().getJsonArray("nodes").stream()
            .anyMatch(n -> HOSTILE.equals(((JsonObject) n).getString("node")));
      } catch (Exception e) {
        return false;
      }
    });
    String hostile = page(other, "/console/cluster");
    assertTrue(hostile.contains("data-node=\"&lt;script&gt;alert(1)&lt;/script&gt;\"><td class=\"name\">"
        + "&lt;script&gt;alert(1)&lt;/script&gt;</td>"), hostile);
    assertFalse(hostile.contains("<script>alert"), hostile);
  }

  @AfterEach
  void stop() throws Exception {
    if (peer != null) {
      peer.cluster().close().await(10, TimeUnit.SECONDS);
      peer.vertx().close().await(30, TimeUnit.SECONDS);
    }
    for (Node node : nodes) {
      if (node.child != null) {
        node.child.close();
        Files.writeString(Path.of("target", "ClusterVisibilityTest-" + node.name + ".log"), node.child.printed());
      }
      // The backends this node started, with it.
      for (long pid : node.backendPids()) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
