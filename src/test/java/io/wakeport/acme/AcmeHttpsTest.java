package io.wakeport.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigLoader;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * wakeport as it runs, with https.acme against a real Pebble: its plain listener (on Pebble's
 * validation port) answers the HTTP-01 challenges, configured hosts get certificates at start,
 * template names at their first handshake when the exists gate or the ask URL allows them, and
 * every certificate is checked in a real TLS handshake on the https listener.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AcmeHttpsTest {

  @TempDir
  static Path dir;
  private Pebble pebble;
  private Wakeport wakeport;
  private Vertx vertx;
  private HttpServer askServer;
  private int httpsPort;
  private int adminPort;
  private X509Certificate root;
  private final Set<String> asked = ConcurrentHashMap.newKeySet();
  private Path config;
  private String configText;

  @BeforeAll
  void start() throws Exception {
    pebble = new Pebble(dir.resolve("pebble"), 0);
    root = Pem.certificates(pebble.rootPem()).get(0);
    vertx = Vertx.vertx();
    int askPort = TestBed.freePort();
    askServer = vertx.createHttpServer().requestHandler(req -> {
      String domain = req.getParam("domain");
      asked.add(domain);
      req.response().setStatusCode("yes.open.wakeport.test".equals(domain) ? 200 : 403).end();
    }).listen(askPort, "127.0.0.1").await(10, TimeUnit.SECONDS);
    httpsPort = TestBed.freePort();
    adminPort = TestBed.freePort();
    Files.createDirectories(dir.resolve("customers/alpha"));
    Files.createDirectories(dir.resolve("customers/gamma"));
    config = dir.resolve("wakeport.yaml");
    configText = """
        listen: 127.0.0.1:%d
        state-dir: var
        admin:
          listen: 127.0.0.1:%d
        https:
          listen: 127.0.0.1:%d
          redirect: false              # challenges are answered all the same
          acme:
            directory: %s
            email: ops@example.com
            trust: %s
            on-demand: {ask: "http://127.0.0.1:%d/allowed", wait: 30s}
        defaults:
          ports: 29100-29199
        tenants:
          shop:
            hosts: [shop.wakeport.test]
            command: %s
          sites:
            hosts: ["*.apps.wakeport.test"]
            exists: customers/${tenant}
            command: %s
          open:
            hosts: ["*.open.wakeport.test"]
            max-tenants: 5
            command: %s
        """.formatted(pebble.httpPort, adminPort, httpsPort, pebble.directory(), pebble.trust, askPort,
        TestBed.demoCommand(), TestBed.demoCommand(), TestBed.demoCommand());
    Files.writeString(config, configText);
    wakeport = Wakeport.start(ConfigLoader.load(config));
  }

  @AfterAll
  void stop() throws Exception {
    if (wakeport != null) {
      wakeport.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    if (pebble != null) {
      pebble.close();
    }
  }

  private void assertServedFor(String host, List<X509Certificate> chain) throws Exception {
    assertNotNull(chain, "a handshake for " + host);
    assertTrue(Handshake.names(chain.get(0), host), host + " is named by " + chain.get(0).getSubjectX500Principal());
    chain.get(0).verify(chain.get(1).getPublicKey());
    chain.get(chain.size() - 1).verify(root.getPublicKey()); // issued by this Pebble run's root
  }

  @Test
  void aConfiguredHostGetsItsCertificateAtStartOverThePlainListener() throws Exception {
    TestBed.await("shop's certificate", Duration.ofSeconds(60), () -> wakeport.acme().statuses().stream()
        .anyMatch(s -> s.name().equals("shop.wakeport.test") && s.notAfter() != null));
    assertServedFor("shop.wakeport.test", Handshake.chainFor(httpsPort, "shop.wakeport.test"));
    assertTrue(Files.exists(wakeport.acme().settings().acmeDir().resolve("certs/shop.wakeport.test.crt")));
  }

  @Test
  void theAdminApiAndTheMetricsShowEachCertificate() throws Exception {
    awaitStartIssuance();
    String token = Files.readString(dir.resolve("var/admin.token")).trim();
    var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + adminPort + "/api/certificates"))
        .header("Authorization", "Bearer " + token).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    var body = new io.vertx.core.json.JsonObject(response.body());
    var shop = body.getJsonArray("certificates").stream().map(io.vertx.core.json.JsonObject.class::cast)
        .filter(c -> c.getString("name").equals("shop.wakeport.test")).findFirst().orElseThrow();
    java.time.Instant notAfter = java.time.Instant.parse(shop.getString("notAfter"));
    assertTrue(notAfter.isAfter(java.time.Instant.now().plus(Duration.ofDays(365))), "Pebble's five-year certificate");
    assertNotNull(shop.getString("lastRenewal"));
    assertNotNull(shop.getString("nextAttempt"));
    assertEquals(null, shop.getString("lastError"));
    assertFalse(shop.getBoolean("onDemand"));
    var page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + adminPort + "/console/config"))
        .header("Authorization", "Bearer " + token).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("id=\"certificates\"") && page.body().contains("<code>shop.wakeport.test</code>"),
        "the console's config page lists the certificates");
    String metrics = wakeport.metrics().scrape();
    assertTrue(metrics.contains("wakeport_certificate_expiry_days{name=\"shop.wakeport.test\"}"), metrics);
    assertTrue(metrics.contains("wakeport_acme_orders_total{outcome=\"issued\"}"), metrics);
  }

  @Test
  void onDemandIsRefusedOutsideTheExistsGateWithoutAnOrder() throws Exception {
    awaitStartIssuance();
    int orders = wakeport.acme().orders();
    List<X509Certificate> chain = Handshake.chainFor(httpsPort, "beta.apps.wakeport.test");
    assertTrue(chain == null || !Handshake.names(chain.get(0), "beta.apps.wakeport.test"),
        "no certificate names a label without its customers/ directory");
    assertEquals(orders, wakeport.acme().orders(), "no ACME order for a refused name");
    assertTrue(asked.contains("beta.apps.wakeport.test"), "the ask URL was consulted after the exists gate");
    assertFalse(Files.exists(wakeport.acme().settings().acmeDir().resolve("attempts/beta.apps.wakeport.test")));
  }

  @Test
  void onDemandIssuesInsideTheExistsGateAtTheFirstHandshake() throws Exception {
    awaitStartIssuance();
    int orders = wakeport.acme().orders();
    assertServedFor("alpha.apps.wakeport.test", Handshake.chainFor(httpsPort, "alpha.apps.wakeport.test"));
    assertEquals(orders + 1, wakeport.acme().orders());
    assertFalse(asked.contains("alpha.apps.wakeport.test"), "the exists gate sufficed");
    // The next handshake is served from the registry: no second order.
    assertServedFor("alpha.apps.wakeport.test", Handshake.chainFor(httpsPort, "alpha.apps.wakeport.test"));
    assertEquals(orders + 1, wakeport.acme().orders());
  }

  @Test
  void concurrentHandshakesForOneNameCauseOneOrder() throws Exception {
    awaitStartIssuance();
    int orders = wakeport.acme().orders();
    var pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<List<X509Certificate>>> handshakes = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        handshakes.add(pool.submit(() -> Handshake.chainFor(httpsPort, "gamma.apps.wakeport.test")));
      }
      for (Future<List<X509Certificate>> h : handshakes) {
        assertServedFor("gamma.apps.wakeport.test", h.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(orders + 1, wakeport.acme().orders(), "six handshakes, one order");
  }

  @Test
  void theAskUrlAdmitsANameOfATemplateWithoutExistsAndRefusesOthers() throws Exception {
    awaitStartIssuance();
    int orders = wakeport.acme().orders();
    List<X509Certificate> refused = Handshake.chainFor(httpsPort, "no.open.wakeport.test");
    assertTrue(refused == null || !Handshake.names(refused.get(0), "no.open.wakeport.test"));
    assertTrue(asked.contains("no.open.wakeport.test"));
    assertEquals(orders, wakeport.acme().orders(), "a 403 from ask: no order");
    assertServedFor("yes.open.wakeport.test", Handshake.chainFor(httpsPort, "yes.open.wakeport.test"));
    assertEquals(orders + 1, wakeport.acme().orders());
  }

  @Test
  void aHostAddedByAReloadGetsItsCertificate() throws Exception {
    awaitStartIssuance();
    Files.writeString(config, configText + """
          blog:
            hosts: [blog.wakeport.test]
            command: %s
        """.formatted(TestBed.demoCommand()));
    assertTrue(wakeport.reload());
    TestBed.await("blog's certificate", Duration.ofSeconds(60), () -> wakeport.acme().statuses().stream()
        .anyMatch(s -> s.name().equals("blog.wakeport.test") && s.notAfter() != null));
    assertServedFor("blog.wakeport.test", Handshake.chainFor(httpsPort, "blog.wakeport.test"));
  }

  private void awaitStartIssuance() throws InterruptedException {
    TestBed.await("the start's issuance", Duration.ofSeconds(60), () -> wakeport.acme().statuses().stream()
        .anyMatch(s -> s.name().equals("shop.wakeport.test") && s.notAfter() != null));
  }
}
