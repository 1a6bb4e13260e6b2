package io.wakeport.routing;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RemoteBackend;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Passive checks ({@code check.observe}): two real members on loopback addresses; errors in live
 * requests to one take it DOWN at once, long before its active check (every hour here) could
 * notice; answers 5xx count only with {@code 5xx: true}; an answer in between starts the count
 * over; the active check brings the member back. Without {@code observe} the same errors leave it UP.
 */
class PassiveChecksTest {

  @TempDir Path dir;

  private static final String HOST = "remote.test";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static String tenant(RemoteBackend r1, RemoteBackend r2, String check) {
    return """
        tenants:
          remote:
            hosts: [remote.test]
            routes: {r1: {address: "%s"}, r2: {address: "%s"}}
            sticky: {insert-cookie: ROUTEID}
            check: %s
        """.formatted(r1.address(), r2.address(), check);
  }

  /** A request of r2's session: to r2 while it is UP (and to r1 when r2 refuses it or is DOWN). */
  private static HttpResponse<Buffer> toR2(TestBed bed) throws Exception {
    return bed.request(HttpMethod.GET, HOST, "/").putHeader("Cookie", "ROUTEID=.r2").send().await(30, TimeUnit.SECONDS);
  }

  private static Instance r2(TestBed bed) {
    return bed.wakeport.supervisor().instance("remote", "r2");
  }

  /** r2's state once everything queued on the supervisor's context so far (a take-down too) has run. */
  private static InstanceState settled(TestBed bed) throws Exception {
    bed.wakeport.supervisor().views().await(10, TimeUnit.SECONDS);
    return r2(bed).state();
  }

  /** Waits for r2's first active check, so that only live traffic can tell of what happens next. */
  private static void firstCheckDone(TestBed bed, RemoteBackend r2) throws Exception {
    TestBed.await("r2 checked", WAIT, () -> r2.healthChecks.get() >= 1);
    assertEquals("r2", field(toR2(bed).bodyAsString(), "member"));
  }

  private static String admin(TestBed bed, String path) throws Exception {
    String token = Files.readString(bed.dir.resolve("var/admin.token")).trim();
    return bed.client.request(HttpMethod.GET, bed.adminPort, "127.0.0.1", path).bearerTokenAuthentication(token)
        .send().await(30, TimeUnit.SECONDS).bodyAsString();
  }

  @Test
  void refusedConnectionsInLiveTrafficTakeAMemberDownBeforeItsHourlyCheck() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "{http: /health, interval: 1h, observe: {errors: 3}}"), true)) {
      firstCheckDone(bed, r2);
      r2.stop();
      for (int i = 1; i <= 2; i++) {
        HttpResponse<Buffer> moved = toR2(bed);
        assertEquals(200, moved.statusCode());
        assertEquals("r1", field(moved.bodyAsString(), "member"), "a refused request goes to r1 (failover)");
        assertEquals(InstanceState.UP, settled(bed), "UP after " + i + " error(s) of 3");
      }
      assertEquals("r1", field(toR2(bed).bodyAsString(), "member"));
      TestBed.await("r2 down", WAIT, () -> r2(bed).state() == InstanceState.DOWN);
      assertEquals(1, r2.healthChecks.get(), "no active check took it out");
      assertTrue(logs.contains("tenant remote: route r2 DOWN (3 errors in a row in live traffic: connection refused) at "
          + r2.address()), logs.messages().toString());

      JsonObject tenant = new JsonObject(admin(bed, "/api/tenants/remote"));
      JsonObject member = tenant.getJsonArray("instances").getJsonObject(1);
      assertEquals("DOWN", member.getString("state"), tenant::encodePrettily);
      assertTrue(member.getJsonArray("recentEvents").encode().contains("in live traffic"), tenant::encodePrettily);
      String scrape = admin(bed, "/metrics");
      assertTrue(scrape.contains("wakeport_members_down_total{tenant=\"remote\"} 1.0"), scrape);
      assertTrue(scrape.contains("wakeport_instances{state=\"down\"} 1.0"), scrape);
      int seen = r2.connections.get();
      for (int i = 0; i < 3; i++) {
        assertEquals("r1", field(toR2(bed).bodyAsString(), "member"), "r2's session goes to r1 while r2 is DOWN");
      }
      assertEquals(seen, r2.connections.get());
    }
  }

  @Test
  void withoutObserveTheSameErrorsLeaveTheMemberUpUntilItsCheck() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "{http: /health, interval: 1h}"), true)) {
      firstCheckDone(bed, r2);
      r2.stop();
      for (int i = 0; i < 6; i++) {
        assertEquals("r1", field(toR2(bed).bodyAsString(), "member"));
      }
      assertEquals(InstanceState.UP, settled(bed), "only its active check takes a member out");
      assertFalse(admin(bed, "/metrics").contains("wakeport_members_down_total{tenant=\"remote\"} 1.0"));
    }
  }

  @Test
  void with5xxAnswersCountAnAnswerInBetweenStartsOverAndTheActiveCheckBringsTheMemberBack() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir,
             tenant(r1, r2, "{http: /health, interval: 300ms, timeout: 2s, rise: 2, observe: {errors: 3, 5xx: true}}"))) {
      firstCheckDone(bed, r2);
      r2.status = 503; // its /health still passes: only live traffic tells
      assertEquals(503, toR2(bed).statusCode(), "an answer is the client's, 5xx or not");
      assertEquals(503, toR2(bed).statusCode());
      r2.status = 200;
      assertEquals(200, toR2(bed).statusCode());
      r2.status = 503;
      assertEquals(503, toR2(bed).statusCode());
      assertEquals(503, toR2(bed).statusCode());
      assertEquals(InstanceState.UP, settled(bed), "2 errors, 1 answer, 2 errors: never 3 in a row");
      r2.status = 501;
      assertEquals(501, toR2(bed).statusCode());
      r2.status = 503;
      assertEquals(503, toR2(bed).statusCode());
      assertEquals(503, toR2(bed).statusCode());
      assertEquals(InstanceState.UP, settled(bed), "501 says more of the request than of the member: it starts over too");
      assertEquals(503, toR2(bed).statusCode());
      TestBed.await("r2 down", WAIT, () -> r2(bed).state() == InstanceState.DOWN);
      assertTrue(logs.contains("tenant remote: route r2 DOWN (3 errors in a row in live traffic: answered 503) at "
          + r2.address()), logs.messages().toString());
      TestBed.await("r2 up", WAIT, () -> r2(bed).state() == InstanceState.UP);
      assertTrue(logs.contains("tenant remote: route r2 UP (2 passed http /health checks)"), logs.messages().toString());
      r2.status = 200;
      assertEquals("r2", field(toR2(bed).bodyAsString(), "member"), "back in balancing");
    }
  }

  @Test
  void without5xxServerErrorsAreAnswersAndLeaveTheMemberUp() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "{http: /health, interval: 1h, observe: {errors: 2}}"))) {
      firstCheckDone(bed, r2);
      r2.status = 500;
      for (int i = 0; i < 4; i++) {
        assertEquals(500, toR2(bed).statusCode());
      }
      assertEquals(InstanceState.UP, settled(bed), "without 5xx: true only connections count");
    }
  }
}
