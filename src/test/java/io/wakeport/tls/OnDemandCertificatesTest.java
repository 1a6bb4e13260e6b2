package io.wakeport.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.wakeport.testing.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hook an on-demand issuer (ACME) fills: asked in the handshake for names no certificate
 * covers, on a worker thread where it may wait, and what it returns is served and kept.
 */
class OnDemandCertificatesTest {

  @TempDir Path dir;
  Vertx vertx;
  TestCertificates certs;
  CertificateRegistry registry;

  @BeforeEach
  void setUp() throws Exception {
    TestCertificates.requireOpenssl();
    vertx = Vertx.vertx();
    certs = new TestCertificates(dir.resolve("certs"));
    registry = new CertificateRegistry();
    TestCertificates.Pair fallback = certs.leaf("default", 30, "default.test");
    registry.replaceFromFiles(List.of(CertificateFiles.load(
        new CertificateSource(List.of("default.test"), fallback.cert(), fallback.key()))));
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  private int serve(OnDemandCertificates onDemand) throws Exception {
    HttpServerOptions options = TlsPolicy.apply(new HttpServerOptions().setHost("127.0.0.1").setPort(0), registry,
        onDemand, Duration.ofSeconds(2));
    HttpServer server = vertx.createHttpServer(options).requestHandler(r -> r.response().end("ok"));
    return server.listen().await().actualPort();
  }

  private static String cn(java.security.cert.X509Certificate c) {
    return c.getSubjectX500Principal().getName().substring(3);
  }

  @Test
  void anUncoveredNameIsAskedForOffTheEventLoopAndWhatComesIsServedAndKept() throws Exception {
    TestCertificates.Pair fresh = certs.leaf("fresh", 30, "fresh.test");
    List<String> asked = new CopyOnWriteArrayList<>();
    List<Boolean> onEventLoop = new CopyOnWriteArrayList<>();
    int port = serve(name -> {
      asked.add(name);
      onEventLoop.add(Context.isOnEventLoopThread());
      if (!name.equals("fresh.test")) {
        return CompletableFuture.completedFuture(null);
      }
      // Completed later by another thread, as an issuance would be: the handshake waits for it.
      return CompletableFuture.supplyAsync(() -> {
        try {
          return CertificateFiles.load(new CertificateSource(List.of("fresh.test"), fresh.cert(), fresh.key()));
        } catch (CertificateFileException e) {
          throw new IllegalStateException(e);
        }
      });
    });
    assertEquals("fresh.test", cn(certs.served(port, "fresh.test")), "the waiting handshake gets the new certificate");
    assertEquals("fresh.test", cn(certs.served(port, "FRESH.test")));
    assertEquals(List.of("fresh.test"), asked, "asked once: then the registry covers it");
    assertEquals(List.of(false), onEventLoop, "asked on a worker thread, where waiting is allowed");
    assertEquals("fresh.test", cn(registry.find("fresh.test").leaf()));

    assertEquals("default.test", cn(certs.served(port, "declined.test")), "declined: the default");
    assertEquals("default.test", cn(certs.served(port, "default.test")));
    assertEquals("default.test", cn(certs.served(port, null)));
    assertEquals(List.of("fresh.test", "declined.test"), asked, "covered names and no SNI never ask");
  }

  @Test
  void aFailingOrHangingIssuerCostsTheHandshakeItsDefaultNotTheServer() throws Exception {
    int port = serve(name -> name.startsWith("hang")
        ? new CompletableFuture<>() // never completes: bounded by half the handshake timeout (2 s)
        : CompletableFuture.failedFuture(new IllegalStateException("rate limited")));
    assertEquals("default.test", cn(certs.served(port, "fails.test")));
    long began = System.nanoTime();
    assertEquals("default.test", cn(certs.served(port, "hang.test")), "the default, not a handshake timeout");
    long millis = (System.nanoTime() - began) / 1_000_000;
    assertTrue(millis >= 900 && millis < 1900, "waited about half the handshake timeout: " + millis + " ms");
    assertEquals("default.test", cn(certs.served(port, "other.test")), "the next handshake is not held up");
    assertFalse(registry.all().stream().anyMatch(c -> c.hosts().contains("fails.test")));
    assertTrue(registry.find("fails.test") == null);
  }
}
