package io.wakeport.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three wakeport nodes as separate processes, joined over TCP/IP on 127.0.0.1, serving real demo
 * backends: one spawn for a burst spread over every node, any node serving any tenant, failover
 * after kill -9 of the owner, a drained node placing nothing new; node labels, undrain, starts no
 * request asked for (an operator's, an adopted backend's) and a reload of the cluster section; a
 * replayed forward refused, at its node and at every other; two nodes forwarding over mutual TLS,
 * a plain-HTTP client's scheme kept across the TLS hop (route cookie without Secure, http redirect).
 */
class ClusterTest {

  private static final String SECRET = Node.SECRET;
  private static final List<String> JVM = Node.JVM;

  @TempDir
  Path dir;

  private final List<Node> nodes = new ArrayList<>();
  private final Set<Long> backendPids = new HashSet<>();
  private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
  private final WebClient http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5000)
      .setKeepAlive(false));

  /** acme and globex alike on every node; initech with {@code bootDelay}, which one node sets apart. */
  private static String tenants(int acmePort, int globexPort, int initechPort, String bootDelay) {
    return """
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: %s
          globex:
            hosts: [globex.test]
            port: %d
            command: %s
          initech:
            hosts: [initech.test]
            port: %d
            idle-timeout: 1s
            command: %s
          hooli:
            hosts: [hooli.test]
            port: %d
            min-running: 1
            command: %s
        """.formatted(acmePort, TestBed.demoCommand(), globexPort, TestBed.demoCommand(), initechPort,
        TestBed.demoCommand("--boot-delay", bootDelay), freePort(), TestBed.demoCommand());
  }

  private static int freePort() {
    return Node.freePort();
  }

  private long spawns(String tenant) throws Exception {
    long n = 0;
    for (Node node : nodes) {
      n += node.spawns(tenant);
    }
    return n;
  }

  private void awaitSpawns(String tenant, long count) throws Exception {
    TestBed.await(tenant + " spawned " + count + " time(s) in all", Duration.ofSeconds(30), () -> {
      try {
        return spawns(tenant) == count;
      } catch (Exception e) {
        return false;
      }
    });
  }

  private HttpResponse<Buffer> get(int port, String host) throws Exception {
    return request(port, host).await(60, TimeUnit.SECONDS);
  }

  private Future<HttpResponse<Buffer>> request(int port, String host) {
    return http.get(port, "127.0.0.1", "/").virtualHost(host).timeout(60_000).send();
  }

  private long pid(HttpResponse<Buffer> r) {
    long pid = Long.parseLong(TestBed.field(r.bodyAsString(), "pid"));
    backendPids.add(pid);
    return pid;
  }

  private List<Node> startThree(String tenants, String onNodeThree) throws Exception {
    return startThree(List.of(tenants, tenants, onNodeThree), List.of("", "", ""));
  }

  /** Three nodes, each with its tenants and its labels. */
  private List<Node> startThree(List<String> tenants, List<String> labels) throws Exception {
    return Node.startThree(dir, http, nodes, tenants, labels);
  }

  /** Two nodes with the tenants {@code tenants}, with {@code extra} lines in each one's cluster section; joined. */
  private List<Node> startTwo(String tenants, java.util.function.Function<String, String> extra) throws Exception {
    return startTwo(tenants, extra, List.of("", ""));
  }

  /** As {@link #startTwo(String, java.util.function.Function)}, n1 and n2 with their {@code labels}. */
  private List<Node> startTwo(String tenants, java.util.function.Function<String, String> extra, List<String> labels)
      throws Exception {
    List<Integer> members = List.of(freePort(), freePort());
    for (int i = 0; i < 2; i++) {
      Node node = new Node(dir, http, "n" + (i + 1), members.get(i));
      node.clusterExtra = extra.apply(node.name);
      node.write(members, tenants, labels.get(i));
      nodes.add(node);
    }
    for (Node node : nodes) {
      node.start();
    }
    for (Node node : nodes) {
      TestBed.await(node.name + " sees two nodes", Duration.ofSeconds(60), () -> node.aliveNodes() == 2);
    }
    return nodes;
  }

  /**
   * What a raw socket to 127.0.0.1:{@code port} gets for {@code request} (sent as is, through
   * {@code tls} when not null) up to the end of the connection: "" when refused at the handshake.
   */
  private static String raw(int port, String request, javax.net.ssl.SSLContext tls) throws Exception {
    try (java.net.Socket socket = tls == null ? new java.net.Socket() : tls.getSocketFactory().createSocket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    } catch (javax.net.ssl.SSLException | java.net.SocketException refused) {
      return "";
    }
  }

  /** A GET of / for {@code host} as a node forwards it to node {@code to}, signed with the cluster secret by the real signer. */
  private static String signedRequest(String host, String to) {
    io.vertx.core.MultiMap headers = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
    new ForwardAuth("n-captured", SECRET).sign(to, "GET", "/", host, "http", headers);
    StringBuilder request = new StringBuilder("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
    headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    return request.append("\r\n").toString();
  }

  @Test
  void burstSpawnsOnceAnyNodeServesFailoverAndDrain() throws Exception {
    int acmePort = freePort();
    int globexPort = freePort();
    startThree(tenants(acmePort, globexPort, freePort(), "100"),
        tenants(acmePort, globexPort, freePort(), "200"));
    Node n1 = nodes.get(0);
    // n1 started first: alone, and said so; the others joined it.
    assertTrue(n1.child.stderr().stream().anyMatch(l -> l.contains("cluster wakeport-")
        && l.contains("node n1 at 127.0.0.1:" + n1.member + " reached none of the other members")
        && l.contains("running alone until they join")), n1.child.printed());
    assertTrue(nodes.get(2).child.stderr().stream().anyMatch(l -> l.contains("node n3 at 127.0.0.1:")
        && l.contains("joined; members [")), nodes.get(2).child.printed());

    // min-running: kept warm where it is placed, once across the cluster, not on every node.
    awaitSpawns("hooli", 1);
    String hooliOwner = n1.cluster().getJsonObject("placements").getString("hooli");

    // A burst to the cold tenant, spread over all three nodes: one placement, one spawn.
    List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      burst.add(request(nodes.get(i % 3).front, "acme.test"));
    }
    Set<Long> pids = new HashSet<>();
    for (Future<HttpResponse<Buffer>> f : burst) {
      HttpResponse<Buffer> r = f.await(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.bodyAsString());
      pids.add(pid(r));
    }
    assertEquals(1, pids.size(), "one backend process served the whole burst: " + pids);
    long spawns = 0;
    for (Node node : nodes) {
      spawns += node.spawns("acme");
    }
    assertEquals(1, spawns, "acme spawned once across the cluster");
    String ownerName = n1.cluster().getJsonObject("placements").getString("acme");
    Node owner = nodes.stream().filter(n -> n.name.equals(ownerName)).findFirst().orElseThrow();
    assertEquals(1, owner.spawns("acme"));

    // Any node takes any request: a non-owner forwards to the owner.
    Node other = nodes.stream().filter(n -> n != owner).findFirst().orElseThrow();
    long before = owner.cluster().getJsonObject("forwarded").getLong("in");
    HttpResponse<Buffer> viaOther = get(other.front, "acme.test");
    assertEquals(200, viaOther.statusCode());
    assertEquals(pids.iterator().next(), pid(viaOther), "served by the owner's backend");
    assertTrue(owner.cluster().getJsonObject("forwarded").getLong("in") > before);
    assertTrue(other.cluster().getJsonObject("forwarded").getJsonObject("out").getLong(owner.name, 0L) > 0);

    // The owner's backend sees the client's forwarding headers extended by the hop, and no cluster header.
    HttpResponse<Buffer> echoed = http.get(other.front, "127.0.0.1", "/headers").virtualHost("acme.test").send()
        .await(30, TimeUnit.SECONDS);
    String headers = echoed.statusCode() + " " + echoed.headers() + "\n" + echoed.bodyAsString();
    assertTrue(headers.contains("x-forwarded-for: 127.0.0.1, 127.0.0.1\n"), headers);
    assertTrue(headers.contains("x-forwarded-host: acme.test"), headers);
    assertFalse(headers.contains("x-wakeport-"), headers);
    String metrics = http.get(other.admin, "127.0.0.1", "/metrics")
        .bearerTokenAuthentication(Files.readString(other.home.resolve("var/admin.token")).trim()).send()
        .await(30, TimeUnit.SECONDS).bodyAsString();
    assertTrue(metrics.contains("wakeport_cluster_nodes 3.0"), metrics);
    assertTrue(metrics.contains("wakeport_cluster_forwarded_out "), metrics);

    // A tenant defined differently on n3 is never forwarded across nodes: n3 serves its own.
    Node n2 = nodes.get(1);
    Node n3 = nodes.get(2);
    HttpResponse<Buffer> initech1 = get(n1.front, "initech.test");
    HttpResponse<Buffer> initech3 = get(n3.front, "initech.test");
    assertEquals(200, initech1.statusCode());
    assertEquals(200, initech3.statusCode());
    assertNotEquals(pid(initech1), pid(initech3));
    assertEquals(1, n3.spawns("initech"));
    assertTrue(n3.child.stderr().stream().anyMatch(l -> l.contains("tenant initech is defined differently on node")),
        n3.child.printed());
    // Idled out on its owner (idle-timeout 1s), its placement is given back.
    assertNotEquals(n3.name, n1.cluster().getJsonObject("placements").getString("initech"), "never where it differs");
    TestBed.await("initech's placement given back", Duration.ofSeconds(30), () -> {
      try {
        return !n2.cluster().getJsonObject("placements").containsKey("initech");
      } catch (Exception e) {
        return false;
      }
    });

    // The forward listener takes only signed requests.
    assertEquals(403, get(owner.forward, "acme.test").statusCode());
    // Each signature once, at its own node: a captured signed request, replayed within its window, is
    // refused there, and by every other node (which never saw its nonce).
    String captured = signedRequest("acme.test", owner.name);
    String first = raw(owner.forward, captured, null);
    assertTrue(first.startsWith("HTTP/1.1 200 "), first);
    String replayed = raw(owner.forward, captured, null);
    assertTrue(replayed.startsWith("HTTP/1.1 403 "), replayed);
    for (Node notFor : nodes.stream().filter(n -> n != owner).toList()) {
      String elsewhere = raw(notFor.forward, captured, null);
      assertTrue(elsewhere.startsWith("HTTP/1.1 403 "), notFor.name + ": " + elsewhere);
    }
    TestBed.await("the replay logged", Duration.ofSeconds(10), () -> owner.child.stderr().stream()
        .anyMatch(l -> l.contains("cluster-forward-replay: forward listener: replayed request")));

    // kill -9 of the owner (and of its machine's backend): the next request is served from a live node.
    long oldPid = pids.iterator().next();
    owner.killMachine();
    ProcessHandle.of(oldPid).ifPresent(ProcessHandle::destroyForcibly);
    long killed = System.nanoTime();
    List<Node> live = nodes.stream().filter(n -> n != owner).toList();
    long newPid = -1;
    while (newPid < 0) {
      assertTrue(System.nanoTime() - killed < 60_000_000_000L, "no failover within 60 s");
      HttpResponse<Buffer> r;
      try {
        r = get(live.get(0).front, "acme.test");
      } catch (Exception e) {
        continue;
      }
      if (r.statusCode() == 200) {
        newPid = pid(r);
      }
    }
    long failoverMillis = (System.nanoTime() - killed) / 1_000_000;
    System.out.println("failover after kill -9 of the owner: served again after " + failoverMillis + " ms");
    assertNotEquals(oldPid, newPid);
    assertEquals(newPid, pid(get(live.get(1).front, "acme.test")), "both live nodes reach the one new instance");
    assertEquals(1, live.get(0).spawns("acme") + live.get(1).spawns("acme"), "started again once");
    for (Node node : live) {
      TestBed.await(node.name + " sees two nodes", Duration.ofSeconds(30), () -> node.aliveNodes() == 2);
    }

    // drain-node: the drained node places nothing new, even for its own requests.
    Node drained = live.get(0);
    Node kept = live.get(1);
    try (Child cli = Child.wakeport(List.of(), JVM, Map.of("WAKEPORT_CLUSTER_SECRET", SECRET), "drain-node",
        "--config", drained.home.resolve("wakeport.yaml").toString())) {
      assertEquals(0, cli.exitCode(Duration.ofSeconds(60)), cli.printed());
    }
    TestBed.await("the drain seen by " + kept.name, Duration.ofSeconds(10), () -> {
      try {
        return kept.cluster().getJsonArray("nodes").stream().map(n -> (JsonObject) n)
            .anyMatch(n -> n.getString("node").equals(drained.name) && n.getBoolean("draining"));
      } catch (Exception e) {
        return false;
      }
    });
    HttpResponse<Buffer> globex = get(drained.front, "globex.test");
    assertEquals(200, globex.statusCode(), globex.bodyAsString());
    pid(globex);
    assertEquals(0, drained.spawns("globex"), "nothing new placed on the drained node");
    assertEquals(1, kept.spawns("globex"));
    assertEquals(kept.name, drained.cluster().getJsonObject("placements").getString("globex"));
    // The warm tenant ran once, and once more on a live node if it was the dead owner's.
    awaitSpawns("hooli", hooliOwner.equals(owner.name) ? 2 : 1);
    System.out.println("min-running tenant hooli was on " + hooliOwner + ", the killed owner " + owner.name);
  }

  /**
   * A WebSocket opened on a node that does not own its instance goes through to the owner's
   * backend, which stays leased while it is open; a POST sent to a live node right after kill -9
   * of the owner is served from the new placement with its body whole, and so is a GET that went
   * out on a pooled connection to the owner as it died (again on a fresh one, refused).
   */
  @Test
  void aWebSocketCrossesNodesAndABodyIsReplayedAfterTheOwnerDied() throws Exception {
    String tenants = """
        tenants:
          chat:
            hosts: [chat.test]
            port: %d
            command: ["%s", -cp, "%s", io.wakeport.testing.WebSocketBackend, "${port}"]
          acme:
            hosts: [acme.test]
            port: %d
            command: %s
        """.formatted(TestBed.freePort(), TestBed.JAVA, System.getProperty("java.class.path"), TestBed.freePort(),
        TestBed.demoCommand());
    startThree(tenants, tenants);
    Node n1 = nodes.get(0);

    // Placed (and started) by a plain request through n1; the WebSocket is opened on another node.
    HttpResponse<Buffer> plain = get(n1.front, "chat.test");
    assertEquals(200, plain.statusCode(), plain.bodyAsString());
    Node chatOwner = owner(n1, "chat");
    Node opener = nodes.stream().filter(n -> n != chatOwner).findFirst().orElseThrow();
    io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient();
    io.vertx.core.http.WebSocket ws = wsClient.connect(new io.vertx.core.http.WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(opener.front).setURI("/room?x=1").addHeader("Host", "chat.test"))
        .await(30, TimeUnit.SECONDS);
    java.util.concurrent.BlockingQueue<String> echoes = new java.util.concurrent.LinkedBlockingQueue<>();
    ws.textMessageHandler(echoes::add);
    ws.writeTextMessage("across the cluster");
    assertEquals("across the cluster", echoes.poll(30, TimeUnit.SECONDS));
    ws.writeTextMessage("?uri");
    assertEquals("/room?x=1", echoes.poll(30, TimeUnit.SECONDS), "the target as the client sent it");
    assertTrue(opener.cluster().getJsonObject("forwarded").getJsonObject("out").getLong(chatOwner.name, 0L) > 0);
    // The owner's backend is leased for as long as the socket is open, and given back when it closes.
    TestBed.await("the open socket leases the owner's backend", Duration.ofSeconds(30),
        () -> inFlight(chatOwner, "chat") == 1);
    backendPids.add(chatOwner.api("/api/tenants/chat").getJsonArray("instances").getJsonObject(0).getLong("pid"));
    ws.close().await(10, TimeUnit.SECONDS);
    TestBed.await("the closed socket's lease given back", Duration.ofSeconds(30),
        () -> inFlight(chatOwner, "chat") == 0);

    // A POST right after kill -9 of the owner, to a node that has not sent it plain requests: the
    // owner refuses, the instance is placed anew, and the request replayed there with its body.
    // The third node holds pooled keep-alive connections to the owner from traffic before: a GET
    // and a POST sent there while the owner is frozen go out on them, and die with the owner
    // unanswered. The GET (idempotent) goes again on a fresh connection, refused, and is served
    // from the new placement; the POST may have been processed and gets 502. A POST after is served.
    HttpResponse<Buffer> warm = get(n1.front, "acme.test");
    assertEquals(200, warm.statusCode(), warm.bodyAsString());
    pid(warm);
    Node acmeOwner = owner(n1, "acme");
    Node survivor = nodes.stream().filter(n -> n != acmeOwner && n != n1).findFirst().orElseThrow();
    Node pooling = nodes.stream().filter(n -> n != acmeOwner && n != survivor).findFirst().orElseThrow();
    WebClient keepAlive = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true));
    for (int round = 0; round < 3; round++) {
      List<Future<HttpResponse<Buffer>>> traffic = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        traffic.add(keepAlive.get(pooling.front, "127.0.0.1", "/").virtualHost("acme.test").timeout(60_000).send());
      }
      for (Future<HttpResponse<Buffer>> r : traffic) {
        assertEquals(200, r.await(60, TimeUnit.SECONDS).statusCode());
      }
    }
    byte[] upload = new byte[48 * 1024];
    new java.util.Random(15).nextBytes(upload);
    String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(upload));
    String echoed = "length=" + upload.length + "\nsha256=" + digest + "\n";
    acmeOwner.freeze();
    Future<HttpResponse<Buffer>> pooledGet = keepAlive.get(pooling.front, "127.0.0.1", "/").virtualHost("acme.test")
        .timeout(60_000).send();
    Future<HttpResponse<Buffer>> pooledPost = keepAlive.post(pooling.front, "127.0.0.1", "/echo")
        .virtualHost("acme.test").timeout(60_000).sendBuffer(Buffer.buffer(upload));
    TestBed.await("the GET and the POST waiting in the frozen owner's connections", Duration.ofSeconds(3),
        () -> unreadConnections(acmeOwner.forward) >= 2);
    acmeOwner.killMachine();
    Future<HttpResponse<Buffer>> postedThere = http.post(survivor.front, "127.0.0.1", "/echo")
        .virtualHost("acme.test").timeout(60_000).sendBuffer(Buffer.buffer(upload));
    HttpResponse<Buffer> got = pooledGet.await(60, TimeUnit.SECONDS);
    assertEquals(200, got.statusCode(), "a GET on a pooled connection to the dead owner: " + got.bodyAsString());
    HttpResponse<Buffer> maybeProcessed = pooledPost.await(60, TimeUnit.SECONDS);
    assertEquals(502, maybeProcessed.statusCode(), "a POST the dead owner may have processed is not sent again");
    HttpResponse<Buffer> posted = postedThere.await(60, TimeUnit.SECONDS);
    assertEquals(200, posted.statusCode(), posted.bodyAsString());
    assertEquals(echoed, posted.bodyAsString());
    HttpResponse<Buffer> postedAfter = keepAlive.post(pooling.front, "127.0.0.1", "/echo").virtualHost("acme.test")
        .timeout(60_000).sendBuffer(Buffer.buffer(upload)).await(60, TimeUnit.SECONDS);
    assertEquals(200, postedAfter.statusCode(), postedAfter.bodyAsString());
    assertEquals(echoed, postedAfter.bodyAsString());
    keepAlive.close();
    // Whether the dead owner's refusal comes before Hazelcast ends its membership (after which the
    // survivor places the instance anew at once, with no refusal) is a race the test cannot hold;
    // on one machine the refusal came about 0.3 s after the kill, the end of membership about 0.35 s.
    // ReplayToNewPlacementTest asserts the replay to the new placement itself, deterministically.
    boolean refused = survivor.child.stderr().stream()
        .anyMatch(l -> l.contains("node " + acmeOwner.name + " was unreachable for a forwarded request for acme"));
    System.out.println("POST after kill -9 of the owner: " + (refused ? "refused by the dead owner, replayed"
        : "the owner's membership had ended already; the replay was not needed"));
  }

  /** The node {@code asked} says owns {@code tenant}'s instance. */
  private Node owner(Node asked, String tenant) throws Exception {
    String name = asked.cluster().getJsonObject("placements").getString(tenant);
    return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
  }

  private static int inFlight(Node node, String tenant) {
    try {
      return node.inFlight(tenant);
    } catch (Exception | AssertionError e) {
      return -1;
    }
  }

  /**
   * ssd, fast: only on nodes labelled disk: ssd (n2 alone); tape: on none. umbrella: anywhere, its
   * port {@code umbrellaPort} (a port of its own on each node: a backend left by a killed node keeps its port).
   */
  private static String labelledTenants(int ssdPort, int fastPort, int tapePort, int umbrellaPort) {
    return """
        tenants:
          ssd:
            hosts: [ssd.test]
            port: %d
            command: %s
            placement: {labels: {disk: ssd}}
          fast:
            hosts: [fast.test]
            port: %d
            command: %s
            placement:
              labels: {disk: ssd}
          tape:
            hosts: [tape.test]
            port: %d
            command: %s
            placement: {labels: {disk: tape}}
          umbrella:
            hosts: [umbrella.test]
            port: %d
            command: %s
        """.formatted(ssdPort, TestBed.demoCommand(), fastPort, TestBed.demoCommand(), tapePort, TestBed.demoCommand(),
        umbrellaPort, TestBed.demoCommand());
  }

  @Test
  void labelsDrainAndUndrainPlacedStartsAdoptionAndAClusterReload() throws Exception {
    int ssdPort = freePort();
    int fastPort = freePort();
    int tapePort = freePort();
    List<String> tenants = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      tenants.add(labelledTenants(ssdPort, fastPort, tapePort, freePort()));
    }
    List<String> labels = List.of("zone: a", "zone: b, disk: ssd", "zone: c");
    startThree(tenants, labels);
    Node n1 = nodes.get(0);
    Node n2 = nodes.get(1);
    Node n3 = nodes.get(2);
    assertEquals(new JsonObject().put("zone", "b").put("disk", "ssd"), n1.seen("n2").getJsonObject("labels"));
    assertEquals(new JsonObject().put("zone", "a"), n3.seen("n1").getJsonObject("labels"));

    // Placed only on the node whose labels match, whichever node the requests reach.
    HttpResponse<Buffer> ssd1 = get(n1.front, "ssd.test");
    assertEquals(200, ssd1.statusCode(), ssd1.bodyAsString());
    HttpResponse<Buffer> ssd3 = get(n3.front, "ssd.test");
    assertEquals(200, ssd3.statusCode(), ssd3.bodyAsString());
    assertEquals(pid(ssd1), pid(ssd3));
    assertEquals(List.of(0L, 1L, 0L), List.of(n1.spawns("ssd"), n2.spawns("ssd"), n3.spawns("ssd")));
    assertEquals("n2", n1.cluster().getJsonObject("placements").getString("ssd"));

    // No node has the labels: spawned nowhere, a 503 that says why, a log line.
    for (Node node : nodes) {
      HttpResponse<Buffer> tape = get(node.front, "tape.test");
      assertEquals(503, tape.statusCode(), tape.bodyAsString());
      assertTrue(tape.bodyAsString().contains("no node of this cluster with the labels it needs (disk=tape)"),
          tape.bodyAsString());
      assertEquals("10", tape.getHeader("Retry-After"));
      assertEquals(0, node.spawns("tape"));
      node.child.awaitStderr("the reason tape starts nowhere", Duration.ofSeconds(10), l -> l.contains(
          "tape is not started anywhere: tenant tape needs nodes labelled disk=tape and no live node has those labels"));
    }

    // An operator's start on a node where the instance is placed elsewhere: refused, naming the owner.
    HttpResponse<Buffer> startHere = n1.post("/api/tenants/ssd/start");
    assertEquals(409, startHere.statusCode(), startHere.bodyAsString());
    assertEquals("placed-elsewhere", startHere.bodyAsJsonObject().getString("error"));
    assertTrue(startHere.bodyAsJsonObject().getString("message").contains("tenant ssd is placed on node n2, not on "
        + "node n1: it runs only there; start it there (wakeport start ssd --config <n2's config>"),
        startHere.bodyAsString());
    // A restart there too: it goes through the same claim, never starting a second copy here.
    HttpResponse<Buffer> restartHere = n1.post("/api/tenants/ssd/restart");
    assertEquals(409, restartHere.statusCode(), restartHere.bodyAsString());
    assertEquals("placed-elsewhere", restartHere.bodyAsJsonObject().getString("error"));
    assertTrue(restartHere.bodyAsJsonObject().getString("message").contains("tenant ssd is placed on node n2, not on "
        + "node n1: it runs only there; restart it there (wakeport restart ssd --config <n2's config>"),
        restartHere.bodyAsString());
    assertEquals("n2", n1.cluster().getJsonObject("placements").getString("ssd"));
    // Unplaced, and this node lacks its labels: refused too.
    HttpResponse<Buffer> wrongLabels = n1.post("/api/tenants/fast/start");
    assertEquals(409, wrongLabels.statusCode(), wrongLabels.bodyAsString());
    assertTrue(wrongLabels.bodyAsString().contains("needs nodes labelled disk=ssd and node n1 has the labels zone=a"),
        wrongLabels.bodyAsString());
    assertEquals(0, n1.spawns("ssd") + n1.spawns("fast"));

    // Drained, the only ssd node places nothing new; undrained (no restart), it places again.
    assertEquals(200, n2.post("/api/cluster/drain").statusCode());
    TestBed.await("n1 sees n2 draining", Duration.ofSeconds(10), () -> seenDraining(n1, "n2") == Boolean.TRUE);
    HttpResponse<Buffer> fastDrained = get(n1.front, "fast.test");
    assertEquals(503, fastDrained.statusCode(), fastDrained.bodyAsString());
    n1.child.awaitStderr("the reason fast starts nowhere", Duration.ofSeconds(10), l -> l.contains(
        "fast is not started anywhere: tenant fast needs nodes labelled disk=ssd and the node(s) that have them drain: n2"));
    try (Child cli = Child.wakeport(List.of(), JVM, Map.of("WAKEPORT_CLUSTER_SECRET", SECRET), "undrain-node",
        "--config", n2.home.resolve("wakeport.yaml").toString())) {
      assertEquals(0, cli.exitCode(Duration.ofSeconds(60)), cli.printed());
      assertTrue(cli.printed().contains("node n2 undrained: instances are placed on it again"), cli.printed());
    }
    assertFalse(n2.cluster().getBoolean("draining"));
    TestBed.await("n1 sees n2 undrained", Duration.ofSeconds(10), () -> seenDraining(n1, "n2") == Boolean.FALSE);
    HttpResponse<Buffer> fast = get(n1.front, "fast.test");
    assertEquals(200, fast.statusCode(), fast.bodyAsString());
    pid(fast);
    assertEquals(1, n2.spawns("fast"));
    assertEquals("n2", n3.cluster().getJsonObject("placements").getString("fast"));

    // A reload whose cluster section differs keeps the running one, and says so.
    n1.write(List.of(n1.member, n2.member, n3.member), tenants.get(0), "zone: z");
    HttpResponse<Buffer> reload = n1.post("/api/reload");
    assertEquals(200, reload.statusCode(), reload.bodyAsString());
    assertTrue(reload.bodyAsString().contains("cluster section changed (labels): takes effect on restart"),
        reload.bodyAsString());
    String token = Files.readString(n1.home.resolve("var/admin.token")).trim();
    String config = http.get(n1.admin, "127.0.0.1", "/api/config").bearerTokenAuthentication(token).send()
        .await(30, TimeUnit.SECONDS).bodyAsString();
    assertTrue(config.contains("cluster section changed (labels): takes effect on restart"), config);
    assertTrue(n1.child.stderr().stream().anyMatch(l -> l.contains("config: cluster section changed (labels): takes "
        + "effect on restart (cluster membership cannot change live); this node keeps the cluster settings it started "
        + "with")), n1.child.printed());
    assertEquals(new JsonObject().put("zone", "a"), n2.seen("n1").getJsonObject("labels"));

    // An operator's start of an unplaced instance places it on that node; the others forward to it.
    HttpResponse<Buffer> started = n3.post("/api/tenants/umbrella/start");
    assertEquals(200, started.statusCode(), started.bodyAsString());
    assertEquals(1, n3.spawns("umbrella"));
    assertEquals("n3", n1.cluster().getJsonObject("placements").getString("umbrella"));
    long leftover = pid(get(n1.front, "umbrella.test"));
    assertEquals(1, n3.spawns("umbrella"), "served by n3's instance");

    // n3's wakeport killed, its backend left running: umbrella starts again elsewhere; n3, back, adopts its
    // leftover backend, finds it placed on another node, and stops it.
    n3.child.process.destroyForcibly();
    n3.child.process.waitFor();
    assertTrue(ProcessHandle.of(leftover).map(ProcessHandle::isAlive).orElse(false), "the backend outlives wakeport");
    long again = -1;
    long killed = System.nanoTime();
    while (again < 0) {
      assertTrue(System.nanoTime() - killed < 60_000_000_000L, "umbrella not served again within 60 s");
      HttpResponse<Buffer> r;
      try {
        r = get(n1.front, "umbrella.test");
      } catch (Exception e) {
        continue;
      }
      if (r.statusCode() == 200) {
        again = pid(r);
      }
    }
    assertNotEquals(leftover, again);
    String owner = n1.cluster().getJsonObject("placements").getString("umbrella");
    assertNotEquals("n3", owner);
    Child killedChild = n3.child;
    n3.start();
    killedChild.close();
    TestBed.await("n3 stops its leftover backend", Duration.ofSeconds(30),
        () -> !ProcessHandle.of(leftover).map(ProcessHandle::isAlive).orElse(false));
    assertTrue(n3.child.stderr().stream().anyMatch(l -> l.contains("backend of umbrella (pid " + leftover
        + ") left by an earlier run is stopped: its instance is placed on node " + owner)), n3.child.printed());
    assertEquals(again, pid(get(n3.front, "umbrella.test")), "n3 forwards to the one instance");
  }

  /** Whether {@code seer} sees {@code node} draining; null when it cannot tell. */
  private static Boolean seenDraining(Node seer, String node) {
    try {
      return seer.seen(node).getBoolean("draining");
    } catch (Exception | AssertionError e) {
      return null;
    }
  }

  @Test
  void nodesForwardOverMutualTlsAndTheListenerTakesOnlyTheirCertificates() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    TestCertificates.Pair n1Cert = certs.leaf("n1", 2, "127.0.0.1");
    certs.leaf("n2", 2, "127.0.0.1");
    String tenant = """
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: %s
          shop:
            hosts: [shop.test]
            instances: 2
            sticky: {insert-cookie: ROUTEID}
            placement: {labels: {home: shop}}
            command: %s
        """.formatted(freePort(), TestBed.demoCommand(), TestBed.demoCommand());
    startTwo(tenant, name -> "  tls: {cert: %s, key: %s, ca: %s}\n".formatted(
        certs.dir.resolve(name + ".crt"), certs.dir.resolve(name + ".key"), certs.caCert), List.of("home: shop", ""));
    HttpResponse<Buffer> first = get(nodes.get(0).front, "acme.test");
    assertEquals(200, first.statusCode(), first.bodyAsString());
    String ownerName = nodes.get(0).cluster().getJsonObject("placements").getString("acme");
    Node owner = nodes.stream().filter(n -> n.name.equals(ownerName)).findFirst().orElseThrow();
    Node other = nodes.stream().filter(n -> n != owner).findFirst().orElseThrow();

    // The other node forwards to the owner over mutual TLS.
    HttpResponse<Buffer> viaOther = get(other.front, "acme.test");
    assertEquals(200, viaOther.statusCode(), viaOther.bodyAsString());
    assertEquals(pid(first), pid(viaOther), "served by the owner's backend");
    assertTrue(owner.cluster().getJsonObject("forwarded").getLong("in") > 0);

    // The owner sees the hop's TLS, not the client's: a plain-HTTP client of the other node gets its
    // redirect in http and its route cookie without Secure (which a browser would never send back).
    HttpResponse<Buffer> redirect = http.get(other.front, "127.0.0.1", "/redirect-self").virtualHost("acme.test")
        .followRedirects(false).send().await(30, TimeUnit.SECONDS);
    assertEquals(302, redirect.statusCode(), redirect.bodyAsString());
    assertTrue(redirect.getHeader("Location").startsWith("http://acme.test"), redirect.getHeader("Location"));
    HttpResponse<Buffer> shop = get(nodes.get(1).front, "shop.test"); // shop runs only on n1 (home: shop)
    assertEquals(200, shop.statusCode(), shop.bodyAsString());
    io.vertx.core.json.JsonObject placements = nodes.get(1).cluster().getJsonObject("placements");
    assertEquals(List.of("n1"), placements.fieldNames().stream().filter(k -> k.startsWith("shop/"))
        .map(placements::getString).distinct().toList(), placements.encode());
    String cookie = shop.cookies().stream().filter(c -> c.startsWith("ROUTEID=")).findFirst().orElseThrow();
    assertFalse(cookie.contains("Secure"), cookie);

    // The forward listener: no plain HTTP, no TLS client without a certificate or with another CA's.
    String signed = signedRequest("acme.test", owner.name);
    assertFalse(raw(owner.forward, signed, null).startsWith("HTTP/"), "plain HTTP is not answered");
    java.security.cert.X509Certificate ca = TestCertificates.read(certs.caCert);
    assertEquals("", raw(owner.forward, signed, TestCertificates.trusting(ca)), "no client certificate");
    TestCertificates stranger = new TestCertificates(dir.resolve("stranger"));
    assertEquals("", raw(owner.forward, signed, TestCertificates.presenting(stranger.leaf("n1", 2, "127.0.0.1"), ca)),
        "a certificate of another CA");
    // A node's certificate gets through (and its signed request is served, once).
    javax.net.ssl.SSLContext node = TestCertificates.presenting(n1Cert, ca);
    String served = raw(owner.forward, signed, node);
    assertTrue(served.startsWith("HTTP/1.1 200 "), served);
    String replayed = raw(owner.forward, signed, node);
    assertTrue(replayed.startsWith("HTTP/1.1 403 "), replayed);
  }

  @Test
  void aNodeWhoseMemberCannotStartRunsAsASingleMachine() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Node node = new Node(dir, http, "n1", taken.getLocalPort());
      node.write(List.of(taken.getLocalPort()), tenants(freePort(), freePort(), freePort(), "100"));
      nodes.add(node);
      node.start();
      assertTrue(node.child.stderr().stream().anyMatch(l -> l.contains("node n1 cannot start its member at 127.0.0.1:"
          + taken.getLocalPort()) && l.contains("running alone, as a single machine")), node.child.printed());
      assertEquals(false, node.cluster().getBoolean("enabled"));
      HttpResponse<Buffer> r = get(node.front, "acme.test");
      assertEquals(200, r.statusCode(), r.bodyAsString());
      pid(r);
      assertEquals(1, node.spawns("acme"));
    }
  }

  @Test
  void withoutClusterSectionNoHazelcastIsLoaded() throws Exception {
    int front = freePort();
    int admin = freePort();
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        state-dir: var
        admin:
          listen: 127.0.0.1:%d
        tenants:
          acme:
            hosts: [acme.test]
            command: %s
        """.formatted(front, admin, TestBed.demoCommand()));
    Path classes = dir.resolve("classes.log");
    List<String> jvm = new ArrayList<>(JVM);
    jvm.add("-Xlog:class+load=info:file=" + classes);
    try (Child child = Child.wakeport(List.of(), jvm, Map.of(), "run", "--config", config.toString())) {
      child.awaitStderr("listening", Duration.ofSeconds(60), line -> line.contains("wakeport listening on"));
      HttpResponse<Buffer> r = get(front, "acme.test");
      assertEquals(200, r.statusCode(), r.bodyAsString());
      pid(r);
      String loaded = Files.readString(classes);
      assertTrue(loaded.contains("io.wakeport.cluster.Cluster "), "the interface is loaded");
      assertFalse(loaded.contains("com.hazelcast"), "no Hazelcast class loaded");
      assertFalse(loaded.contains("io.vertx.spi.cluster"), "no cluster manager loaded");
      assertFalse(loaded.contains("io.wakeport.cluster.HazelcastCluster"), "no cluster node loaded");
      Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          Long.toString(child.process.pid()), "Thread.print").redirectErrorStream(true).start();
      String threads = new String(jcmd.getInputStream().readAllBytes());
      assertEquals(0, jcmd.waitFor());
      assertTrue(threads.contains("vert.x-eventloop"), threads);
      assertFalse(threads.contains("\"hz."), "no Hazelcast thread");
      assertEquals(Set.of(front, admin), listeningPorts(child.process.pid()), "only the configured listeners");
    }
  }

  /** Established connections to local {@code port} with bytes their process has not read. */
  static int unreadConnections(int port) {
    int unread = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines;
      try {
        lines = Files.readAllLines(Path.of(table));
      } catch (java.io.IOException e) {
        continue;
      }
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        int local = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
        long rxQueue = Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
        if (local == port && f[3].equals("01") && rxQueue > 0) {
          unread++;
        }
      }
    }
    return unread;
  }

  /** The TCP ports process {@code pid} listens on (its socket inodes in /proc/net/tcp and tcp6). */
  static Set<Integer> listeningPorts(long pid) throws Exception {
    Set<String> inodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (java.io.IOException gone) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines = Files.readAllLines(Path.of(table)); // read once: the table changes between reads
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (f[3].equals("0A") && inodes.contains(f[9])) {
          ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  @AfterEach
  void stop() throws Exception {
    for (Node node : nodes) {
      if (node.child != null) {
        node.child.close();
        // Each node's own log, for a failure's story.
        Files.writeString(Path.of("target", "ClusterTest-" + node.name + ".log"), node.child.printed());
      }
    }
    for (long pid : backendPids) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
