package io.wakeport.routing;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RemoteBackend;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members on other machines: two real HTTP servers on loopback addresses (127.0.0.1 and 127.0.0.2)
 * that wakeport never starts, balanced and stuck to like local instances, taken out by their TCP
 * checks after {@code fall} failures and put back after {@code rise} passes, sessions failing
 * over (or not) while their member is down.
 */
class RemoteMembersTest {

  @TempDir Path dir;

  private static final String HOST = "remote.test";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static String tenant(RemoteBackend r1, RemoteBackend r2, String extra) {
    return """
        tenants:
          remote:
            hosts: [remote.test]
            routes: {r1: {address: "%s"}, r2: {address: "%s"}}
            sticky: {insert-cookie: ROUTEID}
        %s""".formatted(r1.address(), r2.address(), extra.indent(4));
  }

  private static HttpResponse<Buffer> get(TestBed bed, String cookie) throws Exception {
    var request = bed.request(HttpMethod.GET, HOST, "/");
    if (cookie != null) {
      request.putHeader("Cookie", cookie);
    }
    return request.send().await(30, TimeUnit.SECONDS);
  }

  private static Instance member(TestBed bed, String route) {
    return bed.wakeport.supervisor().instance("remote", route);
  }

  /** Waits until {@code backend} has been checked twice more: its checks so far have been counted. */
  private static void awaitChecked(RemoteBackend backend) throws InterruptedException {
    int seen = backend.connections.get();
    TestBed.await(backend.name + " checked", WAIT, () -> backend.connections.get() >= seen + 2);
  }

  @Test
  void membersAreBalancedAndStuckToWithTheClientsHostAndNeverStarted() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, ""))) {
      Set<String> members = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        HttpResponse<Buffer> response = get(bed, null);
        assertEquals(200, response.statusCode());
        String member = field(response.bodyAsString(), "member");
        members.add(member);
        assertEquals("ROUTEID=." + member + "; Path=/; HttpOnly; SameSite=Lax", response.getHeader("Set-Cookie"));
      }
      assertEquals(Set.of("r1", "r2"), members, "new sessions are balanced over both members");
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> sticky = get(bed, "ROUTEID=.r2");
        assertEquals("r2", field(sticky.bodyAsString(), "member"));
        assertNull(sticky.getHeader("Set-Cookie"), "a session on its member gets no new cookie");
      }
      assertEquals(HOST + ":" + bed.port, r2.lastHost, "a remote member gets the client's Host, as a local one does (preserve-host)");
      assertEquals(InstanceState.UP, member(bed, "r1").state());
      assertEquals(-1, member(bed, "r1").pid(), "no process of ours");
      assertEquals(0, bed.wakeport.supervisor().runningCount(), "remote members are not counted as running processes");
    }
  }

  @Test
  void aDeadMemberIsTakenOutAfterFallChecksAndPutBackAfterRise() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {tcp: true, interval: 100ms, timeout: 2s, rise: 2, fall: 3}"))) {
      awaitChecked(r2);
      r2.stop();
      TestBed.await("r2 down", WAIT, () -> member(bed, "r2").state() == InstanceState.DOWN);
      assertTrue(logs.contains("tenant remote: route r2 DOWN (3 failed tcp checks: connection refused) at "
          + r2.address()), logs.messages().toString());
      for (int i = 0; i < 20; i++) {
        HttpResponse<Buffer> response = get(bed, null);
        assertEquals(200, response.statusCode(), "no 5xx once the member is down");
        assertEquals("r1", field(response.bodyAsString(), "member"));
      }
      r2.start();
      TestBed.await("r2 up", WAIT, () -> member(bed, "r2").state() == InstanceState.UP);
      assertTrue(logs.contains("tenant remote: route r2 UP (2 passed tcp checks)"), logs.messages().toString());
      Set<String> members = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        members.add(field(get(bed, null).bodyAsString(), "member"));
      }
      assertEquals(Set.of("r1", "r2"), members, "back in balancing");
    }
  }

  @Test
  void aSessionOnADownMemberFailsOverWithANewCookieOrGets503WithoutFailover() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {tcp: true, interval: 100ms, timeout: 2s, fall: 2}"))) {
      awaitChecked(r2);
      r2.stop();
      TestBed.await("r2 down", WAIT, () -> member(bed, "r2").state() == InstanceState.DOWN);
      HttpResponse<Buffer> moved = get(bed, "ROUTEID=.r2");
      assertEquals(200, moved.statusCode());
      assertEquals("r1", field(moved.bodyAsString(), "member"));
      assertEquals("ROUTEID=.r1; Path=/; HttpOnly; SameSite=Lax", moved.getHeader("Set-Cookie"));

      bed.rewrite(tenant(r1, r2, "check: {tcp: true, interval: 100ms, timeout: 2s, fall: 2}\nfailover: false"));
      assertTrue(bed.wakeport.reload());
      assertEquals(InstanceState.DOWN, member(bed, "r2").state(), "the reload kept what the checks found");
      HttpResponse<Buffer> refused = get(bed, "ROUTEID=.r2");
      assertEquals(503, refused.statusCode(), "nofailover: the session's member or nothing");
      assertTrue(Integer.parseInt(refused.getHeader("Retry-After")) >= 1);
      assertEquals("r1", field(get(bed, "ROUTEID=.r1").bodyAsString(), "member"));
    }
  }

  @Test
  void theAdminApiAndStatusShowRemoteMembersAsUpOrDownWithTheirAddress() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {http: /health, interval: 100ms, timeout: 2s, fall: 1}"), true)) {
      TestBed.await("checked", WAIT, () -> r2.healthChecks.get() >= 2);
      r2.health = 500;
      TestBed.await("r2 down", WAIT, () -> member(bed, "r2").state() == InstanceState.DOWN);
      String token = java.nio.file.Files.readString(bed.dir.resolve("var/admin.token")).trim();
      io.vertx.core.json.JsonObject tenant = bed.client.request(HttpMethod.GET, bed.adminPort, "127.0.0.1",
              "/api/tenants/remote").bearerTokenAuthentication(token).send().await(30, TimeUnit.SECONDS)
          .bodyAsJsonObject();
      var instances = tenant.getJsonArray("instances");
      assertEquals("UP", instances.getJsonObject(0).getString("state"), tenant::encodePrettily);
      assertEquals(r1.address(), instances.getJsonObject(0).getString("address"));
      assertEquals("DOWN", instances.getJsonObject(1).getString("state"));
      assertEquals("http /health", instances.getJsonObject(1).getString("check"));
      assertNull(instances.getJsonObject(1).getValue("pid"));
      assertEquals("MIXED", tenant.getString("state"));
      assertTrue(instances.getJsonObject(1).getJsonArray("recentEvents").encode().contains("failed http /health check"),
          tenant::encodePrettily);
      String scrape = bed.client.request(HttpMethod.GET, bed.adminPort, "127.0.0.1", "/metrics")
          .bearerTokenAuthentication(token).send().await(30, TimeUnit.SECONDS).bodyAsString();
      assertTrue(scrape.contains("wakeport_members_down_total{tenant=\"remote\"} 1.0"), scrape);
      assertTrue(scrape.contains("wakeport_instances{state=\"down\"} 1.0"), scrape);
      HttpResponse<Buffer> stop = bed.client.request(HttpMethod.POST, bed.adminPort, "127.0.0.1",
          "/api/tenants/remote/routes/r1/stop").bearerTokenAuthentication(token).send().await(30, TimeUnit.SECONDS);
      assertEquals(409, stop.statusCode(), stop::bodyAsString);
      assertEquals("remote", stop.bodyAsJsonObject().getString("error"));
      assertEquals(200, bed.client.request(HttpMethod.POST, bed.adminPort, "127.0.0.1",
          "/api/tenants/remote/routes/r1/drain").bearerTokenAuthentication(token).send().await(30, TimeUnit.SECONDS)
          .statusCode(), "drain steers the balancer, remote members included");
      try (io.wakeport.testing.Child status = io.wakeport.testing.Child.wakeport("status", "--config",
          bed.configFile.toString())) {
        assertEquals(0, status.exitCode(WAIT), status::printed);
        assertTrue(status.stdout().stream().anyMatch(l -> l.startsWith("remote/r2 ") && l.contains("DOWN")
            && l.contains(r2.address())), status::printed);
      }
    }
  }

  @Test
  void aHostNameIsResolvedWithoutBlockingAndOneThatDoesNotResolveIsDown() throws Exception {
    try (RemoteBackend named = new RemoteBackend("named", "127.0.0.1");
         TestBed bed = TestBed.start(dir, """
             tenants:
               named:
                 hosts: [named.test]
                 routes: {n1: {address: "localhost:%d"}}
                 check: {tcp: true, interval: 100ms, timeout: 2s}
               nowhere:
                 hosts: [nowhere.test]
                 routes: {n1: {address: "no-such-member.invalid:8080"}}
                 check: {tcp: true, interval: 100ms, timeout: 2s}
             """.formatted(named.port))) {
      HttpResponse<Buffer> response = bed.get("named.test", "/");
      assertEquals(200, response.statusCode());
      assertEquals("named", field(response.bodyAsString(), "member"));
      TestBed.await("nowhere down", WAIT,
          () -> bed.wakeport.supervisor().instance("nowhere", "n1").state() == InstanceState.DOWN);
      assertEquals(503, bed.get("nowhere.test", "/").statusCode());
      assertEquals(InstanceState.UP, bed.wakeport.supervisor().instance("named", "n1").state());
    }
  }

  @Test
  void aReloadThatMovesAMemberSendsItsRequestsToTheNewAddress() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         RemoteBackend moved = new RemoteBackend("moved", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, ""))) {
      assertEquals("r2", field(get(bed, "ROUTEID=.r2").bodyAsString(), "member"));
      bed.rewrite(tenant(r1, moved, ""));
      assertTrue(bed.wakeport.reload());
      assertEquals(InstanceState.UP, member(bed, "r2").state());
      assertEquals("moved", field(get(bed, "ROUTEID=.r2").bodyAsString(), "member"));
    }
  }

  @Test
  void aRefusedConnectBeforeTheChecksNoticeGoesToAnotherMember() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {tcp: true, interval: 1h}"))) {
      TestBed.await("first checks", WAIT, () -> r1.connections.get() >= 1 && r2.connections.get() >= 1);
      r2.stop();
      for (int i = 0; i < 6; i++) {
        HttpResponse<Buffer> response = get(bed, i % 2 == 0 ? "ROUTEID=.r2" : null);
        assertEquals(200, response.statusCode(), "redispatched, not 502");
        assertEquals("r1", field(response.bodyAsString(), "member"));
      }
      assertEquals(InstanceState.UP, member(bed, "r2").state(), "one refused connect is not a failed check");
    }
  }

  @Test
  void anHttpCheckAnswering500TakesTheMemberOut() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {http: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 2}"))) {
      TestBed.await("checked", WAIT, () -> r2.healthChecks.get() >= 2);
      r2.health = 500;
      TestBed.await("r2 down", WAIT, () -> member(bed, "r2").state() == InstanceState.DOWN);
      assertTrue(logs.contains("route r2 DOWN (2 failed http /health checks: status 500 not in 200-399)"),
          logs.messages().toString());
      for (int i = 0; i < 4; i++) {
        assertEquals("r1", field(get(bed, null).bodyAsString(), "member"));
      }
      r2.health = 204;
      TestBed.await("r2 up", WAIT, () -> member(bed, "r2").state() == InstanceState.UP);
    }
  }

  @Test
  void aReloadKeepsTheChecksAndStateOfAnUntouchedTenantAndStopsThoseOfARemovedOne() throws Exception {
    try (RemoteBackend r1 = new RemoteBackend("r1", "127.0.0.1");
         RemoteBackend r2 = new RemoteBackend("r2", "127.0.0.2");
         TestBed bed = TestBed.start(dir, tenant(r1, r2, "check: {http: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 2}"))) {
      TestBed.await("checked", WAIT, () -> r2.healthChecks.get() >= 2);
      r2.health = 503;
      TestBed.await("r2 down", WAIT, () -> member(bed, "r2").state() == InstanceState.DOWN);
      Instance before = member(bed, "r2");
      int checks = r2.healthChecks.get();
      bed.rewrite(tenant(r1, r2, "check: {http: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 2}")
          + "  other:\n    hosts: [other.test]\n    routes: {o1: {address: \"" + r1.address() + "\"}}\n"
          + "    check: {tcp: true, interval: 100ms, timeout: 2s}\n");
      assertTrue(bed.wakeport.reload());
      assertEquals(InstanceState.DOWN, before.state(), "not reset to up");
      assertTrue(before == member(bed, "r2"), "the same instance");
      TestBed.await("checks go on", WAIT, () -> r2.healthChecks.get() >= checks + 2);
      assertEquals(InstanceState.DOWN, member(bed, "r2").state());

      bed.rewrite("""
          tenants:
            other:
              hosts: [other.test]
              routes: {o1: {address: "%s"}}
              check: {tcp: true, interval: 100ms, timeout: 2s}
          """.formatted(r1.address()));
      assertTrue(bed.wakeport.reload());
      TestBed.await("r2 forgotten", WAIT, () -> member(bed, "r2") == null);
      int after = r2.healthChecks.get();
      int r1Checks = r1.connections.get();
      TestBed.await("other tenant's member still checked", WAIT, () -> r1.connections.get() >= r1Checks + 3);
      assertTrue(r2.healthChecks.get() <= after + 1, "no more checks of a removed tenant's member");
    }
  }
}
