package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The first request to a cold tenant starts it, waits for it, and is answered; later ones go straight through. */
class ColdStartTest {

  @TempDir Path dir;

  private static final String TWO_TENANTS = """
      tenants:
        acme:
          hosts: [acme.test]
          paths: [/acme]
          command: %s
        globex:
          paths: [/globex, /shop/globex]
          command: %s
      """.formatted(demoCommand(), demoCommand());

  @Test
  void firstRequestStartsTheTenantAndLaterOnesReuseIt() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      HttpResponse<Buffer> first = bed.get("acme.test", "/hello");
      assertEquals(200, first.statusCode());
      assertEquals("acme", field(first.bodyAsString(), "tenant"));
      String timing = first.getHeader("Server-Timing");
      assertNotNull(timing, "a cold-start response says what the start cost");
      assertTrue(timing.matches("cold-start;dur=\\d+(\\.\\d+)?"), timing);

      HttpResponse<Buffer> second = bed.get("acme.test", "/hello");
      assertEquals(200, second.statusCode());
      assertNull(second.getHeader("Server-Timing"), "a warm response carries no cold-start timing");
      assertEquals(field(first.bodyAsString(), "pid"), field(second.bodyAsString(), "pid"));
      assertEquals(1, bed.spawnCount("acme"));
      assertEquals(0, bed.spawnCount("globex"), "only the tenant asked for is started");
    }
  }

  @Test
  void hostMatchWinsOverPathAndUnknownRequestsGet404WithoutSpawning() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      // Host acme.test with globex's path token: the host decides.
      assertEquals("acme", field(bed.get("acme.test", "/globex/x").bodyAsString(), "tenant"));
      // No host match: the path token decides, at a segment boundary, longest token first.
      assertEquals("globex", field(bed.get("other.test", "/shop/globex/cart").bodyAsString(), "tenant"));
      assertEquals("globex", field(bed.get("ACME.TEST.example", "/globex").bodyAsString(), "tenant"));

      HttpResponse<Buffer> none = bed.get("unknown.test", "/globexx");
      assertEquals(404, none.statusCode());
      assertTrue(none.bodyAsString().length() > 0, "a 404 has a body");
      assertEquals(1, bed.spawnCount("acme"));
      assertEquals(1, bed.spawnCount("globex"));
      assertEquals(2, bed.wakeport.supervisor().instances().size(), "a 404 creates no instance");
    }
  }

  @Test
  void hostMatchIgnoresCaseAndPort() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      HttpResponse<Buffer> r = bed.request(HttpMethod.GET, null, "/").putHeader("Host", "ACME.test:8080").send()
          .await(60, TimeUnit.SECONDS);
      assertEquals("acme", field(r.bodyAsString(), "tenant"));
    }
  }

  @Test
  void aBurstToAColdTenantSpawnsOnceAndEveryRequestIsAnswered() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        burst.add(bed.request(HttpMethod.GET, "acme.test", "/burst/" + i).send());
      }
      Future.all(burst).await(60, TimeUnit.SECONDS);
      Set<String> pids = new HashSet<>();
      for (Future<HttpResponse<Buffer>> f : burst) {
        assertEquals(200, f.result().statusCode(), f.result().bodyAsString());
        pids.add(field(f.result().bodyAsString(), "pid"));
      }
      assertEquals(1, pids.size(), "every request reached the same process");
      assertEquals(1, bed.spawnCount("acme"), "exactly one spawn");
    }
  }

  @Test
  void aLargeBodySentToAColdTenantArrivesIntact() throws Exception {
    byte[] body = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(body);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      HttpResponse<Buffer> r = bed.request(HttpMethod.POST, "acme.test", "/echo")
          .sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode());
      assertEquals(Integer.toString(body.length), field(r.bodyAsString(), "length"));
      assertEquals(sha, field(r.bodyAsString(), "sha256"));
      assertNotNull(r.getHeader("Server-Timing"), "the body was held through a real cold start");
    }
  }

  @Test
  void theForwardedRequestFollowsPortOpenWithinMilliseconds() throws Exception {
    // The backend records when its port started accepting and when the request arrived. A poller
    // sleeping 250 ms or more between attempts (as many launchers do) mostly fails this; the
    // bound leaves room for a loaded CI machine.
    String config = TestBed.acmeTenant("", "--boot-delay", "700");
    try (TestBed bed = TestBed.start(dir, config)) {
      String body = bed.get("acme.test", "/timing").bodyAsString();
      long gap = Long.parseLong(field(body, "now")) - Long.parseLong(field(body, "bound"));
      assertTrue(gap < 150, "request reached the backend " + gap + " ms after its port opened");
    }
  }

  private static java.util.List<String> linesOf(Path file) {
    try {
      return TestBed.lines(file);
    } catch (java.io.IOException e) {
      return java.util.List.of();
    }
  }

  @Test
  void backendOutputGoesToTheTenantLog() throws Exception {
    try (TestBed bed = TestBed.start(dir, TWO_TENANTS)) {
      bed.get("acme.test", "/");
      Path log = bed.logFile("acme");
      TestBed.await("READY line in " + log, java.time.Duration.ofSeconds(5),
          () -> linesOf(log).stream().anyMatch(l -> l.startsWith("READY demo backend acme")));
      assertTrue(Files.size(log) > 0);
    }
  }
}
