package io.wakeport.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.wakeport.config.AcmeSettings;
import io.wakeport.metrics.Metrics;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Certificates from a real Pebble over real HTTP-01 validation: issuance, the store, renewal, the attempt bound. */
@Timeout(120)
class AcmeIssuanceTest {

  private static final String NAME = "shop.wakeport.test";

  @TempDir
  Path dir;
  private Vertx vertx;

  @BeforeEach
  void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private AcmeSettings settings(Pebble pebble, int perHour) {
    return new AcmeSettings(pebble.directory(), "ops@example.com", pebble.trust, AcmeSettings.DEFAULT_RENEW_BEFORE,
        perHour, null, AcmeSettings.Challenge.HTTP_01, dir.resolve("state"));
  }

  private AcmeService service(AcmeSettings settings, List<IssuedCertificate> served) {
    return new AcmeService(vertx, settings, served::add, Metrics.off());
  }

  @Test
  void issuesOverHttp01KeepsItOwnerOnlyAndReusesItAfterARestart() throws Exception {
    try (Pebble pebble = new Pebble(dir.resolve("pebble"), 0)) {
      List<IssuedCertificate> served = new CopyOnWriteArrayList<>();
      AcmeService first = service(settings(pebble, 5), served);
      long started = System.nanoTime();
      try (ChallengeListener http = new ChallengeListener(vertx, first.tokens(), pebble.httpPort)) {
        first.manage(List.of(NAME)).await(90, TimeUnit.SECONDS);
        System.out.printf("one certificate from Pebble in %d ms%n", (System.nanoTime() - started) / 1_000_000);
        assertTrue(http.answered.get() >= 1, "Pebble fetched the key authorization from our listener");
      }
      assertEquals(1, first.orders());
      assertEquals(1, served.size(), "the certificate went to the sink");
      X509Certificate leaf = served.get(0).leaf();
      assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(san -> NAME.equals(san.get(1))), "names " + NAME);
      served.get(0).leaf().verify(served.get(0).chain().get(1).getPublicKey());
      assertEquals(0, first.tokens().pending(), "the challenge is no longer answered");
      CertificateStatus status = first.statuses().get(0);
      assertEquals(NAME, status.name());
      assertEquals(leaf.getNotAfter().toInstant(), status.notAfter());
      assertNull(status.lastError());
      assertTrue(status.nextAttempt().isAfter(status.lastRenewal()), "a renewal is planned");
      first.close();

      Path acme = settings(pebble, 5).acmeDir();
      assertEquals(dir.resolve("state/acme/localhost_" + pebble.acmePort), acme);
      for (Path file : List.of(acme.resolve("account.key"), acme.resolve("certs/" + NAME + ".key"),
          acme.resolve("certs/" + NAME + ".crt"), acme.resolve("attempts/" + NAME))) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
      }

      // A restart: a new service on the same state dir serves the stored certificate, orders nothing.
      List<IssuedCertificate> servedAgain = new CopyOnWriteArrayList<>();
      AcmeService second = service(settings(pebble, 5), servedAgain);
      second.manage(List.of(NAME)).await(30, TimeUnit.SECONDS);
      assertEquals(0, second.orders(), "no new order while a valid certificate is stored");
      assertEquals(1, servedAgain.size());
      assertEquals(leaf.getSerialNumber(), servedAgain.get(0).leaf().getSerialNumber());
      second.close();

      // A damaged certificate file: read as none, and a new certificate ordered.
      Files.writeString(acme.resolve("certs/" + NAME + ".crt"), "-----BEGIN CERTIFICATE-----\ngarbage\n");
      List<IssuedCertificate> servedThird = new CopyOnWriteArrayList<>();
      AcmeService third = service(settings(pebble, 5), servedThird);
      try (ChallengeListener http = new ChallengeListener(vertx, third.tokens(), pebble.httpPort)) {
        third.manage(List.of(NAME)).await(60, TimeUnit.SECONDS);
      }
      assertEquals(1, third.orders());
      assertEquals(1, servedThird.size());
      assertNotEquals(leaf.getSerialNumber(), servedThird.get(0).leaf().getSerialNumber());
      third.close();
    }
  }

  @Test
  void renewsAheadOfExpiry() throws Exception {
    // Eight-second certificates: renewed at half their validity (the 30-day renew-before is longer).
    try (Pebble pebble = new Pebble(dir.resolve("pebble"), 8)) {
      List<IssuedCertificate> served = new CopyOnWriteArrayList<>();
      AcmeService service = service(settings(pebble, 5), served);
      try (ChallengeListener http = new ChallengeListener(vertx, service.tokens(), pebble.httpPort)) {
        service.manage(List.of(NAME)).await(60, TimeUnit.SECONDS);
        IssuedCertificate first = served.get(0);
        TestBed.await("a renewal", Duration.ofSeconds(60), () -> served.size() >= 2);
        IssuedCertificate second = served.get(1);
        assertNotEquals(first.leaf().getSerialNumber(), second.leaf().getSerialNumber());
        assertTrue(second.notAfter().isAfter(first.notAfter()));
        assertTrue(Duration.between(java.time.Instant.now(), first.notAfter()).toMillis() > -1000,
            "renewed before the first one ended, not after");
        assertEquals(2, service.orders());
        service.close();
      }
    }
  }

  @Test
  void aStoredCertificateDueForRenewalIsServedAtStartAndStaysServedWhenTheRenewalFails() throws Exception {
    try (Pebble pebble = new Pebble(dir.resolve("pebble"), 8)) {
      List<IssuedCertificate> served = new CopyOnWriteArrayList<>();
      AcmeService first = service(settings(pebble, 5), served);
      try (ChallengeListener http = new ChallengeListener(vertx, first.tokens(), pebble.httpPort)) {
        first.manage(List.of(NAME)).await(60, TimeUnit.SECONDS);
      }
      first.close();
      IssuedCertificate stored = served.get(0);
      RenewalWindow window = new RenewalWindow(AcmeSettings.DEFAULT_RENEW_BEFORE);
      java.time.Instant due = window.renewAt(stored.notBefore(), stored.notAfter());
      TestBed.await("the stored certificate to be due", Duration.ofSeconds(20),
          () -> java.time.Instant.now().isAfter(due));

      // A restart while it is due, and the ACME server cannot validate (no listener): the stored
      // certificate, still valid, is served all the same; the failed renewal is said.
      List<IssuedCertificate> servedAgain = new CopyOnWriteArrayList<>();
      AcmeService second = service(settings(pebble, 5), servedAgain);
      Throwable failure = failureOf(second, NAME);
      assertTrue(failure.getMessage().contains("http-01"), failure.toString());
      assertEquals(1, second.orders(), "it tried to renew");
      assertEquals(1, servedAgain.size(), "the stored certificate was served");
      assertEquals(stored.leaf().getSerialNumber(), servedAgain.get(0).leaf().getSerialNumber());
      CertificateStatus status = second.statuses().get(0);
      assertEquals(stored.notAfter(), status.notAfter());
      assertTrue(status.lastError().contains("http-01"), status.lastError());
      second.close();
    }
  }

  @Test
  void theAttemptBoundRefusesTheNextOrderWithinTheHourAcrossRestarts() throws Exception {
    try (Pebble pebble = new Pebble(dir.resolve("pebble"), 0)) {
      // No listener on Pebble's validation port: every order fails its HTTP-01 validation.
      Metrics metrics = Metrics.prometheus();
      AcmeService service = new AcmeService(vertx, settings(pebble, 2), c -> {}, metrics);
      for (int i = 1; i <= 2; i++) {
        Throwable failure = failureOf(service, NAME);
        assertTrue(!(failure instanceof AttemptsExhausted), "attempt " + i + " was an order: " + failure);
        assertEquals(i, service.orders());
      }
      assertInstanceOf(AttemptsExhausted.class, failureOf(service, NAME));
      assertEquals(2, service.orders(), "the third attempt in the hour placed no order");
      assertTrue(metrics.scrape().contains("wakeport_acme_orders_total{outcome=\"failed\"} 2.0"), metrics.scrape());
      metrics.close();
      CertificateStatus status = service.statuses().get(0);
      assertTrue(status.lastError().contains("max-attempts-per-hour"), status.lastError());
      assertTrue(status.nextAttempt().isAfter(java.time.Instant.now().plus(Duration.ofMinutes(55))), "waits for the hour");
      service.close();

      AcmeService restarted = service(settings(pebble, 2), new CopyOnWriteArrayList<>());
      assertInstanceOf(AttemptsExhausted.class, failureOf(restarted, NAME));
      assertEquals(0, restarted.orders(), "the bound holds across a restart");
      restarted.close();
    }
  }

  private static Throwable failureOf(AcmeService service, String name) throws InterruptedException {
    try {
      service.certificate(name, false).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      throw new AssertionError("expected no certificate for " + name);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(e);
    }
  }
}
