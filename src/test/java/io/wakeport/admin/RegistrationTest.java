package io.wakeport.admin;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.LifecycleEvent;
import io.wakeport.testing.Child;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RemoteBackend;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends that register themselves (mod_cluster style): real member servers on loopback
 * addresses register over the admin API with their tenant's secret, get traffic, report load that
 * steers new sessions, leave, or go silent and are taken out after the ttl; refusals for missing
 * or misplaced credentials, tenants that take no registrations, addresses outside the allowed
 * blocks, bad bodies and more members than allowed; registrations across reloads; the API, the
 * console and {@code wakeport status} showing them apart from configured members.
 */
class RegistrationTest {

  @TempDir Path dir;

  private static final String SECRET = "pool-secret-0123456789";
  private static final String HOST = "pool.test";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static String config(String ttl, String extra) {
    return """
        tenants:
          pool:
            hosts: [pool.test]
            routes: {fixed: {address: "127.0.0.9:9"}}
            sticky: {insert-cookie: ROUTEID}
            check: {tcp: true, interval: 200ms}
            registration: {secret: "%s", ttl: %s, max-members: 3, addresses: [127.0.0.0/8]}
          closed:
            hosts: [closed.test]
            routes: {c1: {address: "127.0.0.9:9"}}
          nosecret:
            hosts: [nosecret.test]
            registration: {addresses: [127.0.0.0/8]}
        %s""".formatted(SECRET, ttl, extra);
  }

  /** A tenant of registered members only: no routes, no command. */
  private static String poolOnly(String ttl) {
    return """
        tenants:
          pool:
            hosts: [pool.test]
            sticky: {insert-cookie: ROUTEID}
            check: {tcp: true, interval: 200ms}
            registration: {secret: "%s", ttl: %s, max-members: 3, addresses: [127.0.0.0/8]}
        """.formatted(SECRET, ttl);
  }

  private static HttpResponse<Buffer> admin(TestBed bed, HttpMethod method, String path, String bearer, String body)
      throws Exception {
    var request = bed.client.request(method, bed.adminPort, "127.0.0.1", path);
    if (bearer != null) {
      request.putHeader("Authorization", "Bearer " + bearer);
    }
    return (body == null ? request.send() : request.putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body))).await(30, TimeUnit.SECONDS);
  }

  private static String token(TestBed bed) throws Exception {
    return Files.readString(bed.dir.resolve("var/admin.token")).trim();
  }

  private static HttpResponse<Buffer> register(TestBed bed, String route, String address, String extra) throws Exception {
    return admin(bed, HttpMethod.PUT, "/api/tenants/pool/members/" + route, SECRET,
        "{\"address\":\"" + address + "\"" + extra + "}");
  }

  private static HttpResponse<Buffer> load(TestBed bed, String route, int load) throws Exception {
    return admin(bed, HttpMethod.POST, "/api/tenants/pool/members/" + route + "/load", SECRET,
        "{\"load\":" + load + "}");
  }

  private static String member(TestBed bed) throws Exception {
    HttpResponse<Buffer> response = bed.get(HOST, "/");
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return field(response.bodyAsString(), "member");
  }

  private static JsonArray instances(TestBed bed, String tenant) throws Exception {
    JsonObject all = admin(bed, HttpMethod.GET, "/api/tenants", token(bed), null).bodyAsJsonObject();
    for (Object t : all.getJsonArray("tenants")) {
      if (((JsonObject) t).getString("name").equals(tenant)) {
        return ((JsonObject) t).getJsonArray("instances");
      }
    }
    throw new AssertionError("no tenant " + tenant);
  }

  private static JsonObject instance(TestBed bed, String route) throws Exception {
    for (Object o : instances(bed, "pool")) {
      if (route.equals(((JsonObject) o).getString("route"))) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  void aBackendRegistersGetsTrafficIsShownApartAndLeaves() throws Exception {
    try (RemoteBackend a = new RemoteBackend("a", "127.0.0.2");
         RemoteBackend b = new RemoteBackend("b", "127.0.0.3");
         TestBed bed = TestBed.start(dir, poolOnly("30s"), true)) {
      assertEquals(503, bed.get(HOST, "/").statusCode(), "no member registered yet");
      assertEquals(200, admin(bed, HttpMethod.GET, "/console/tenants/pool", token(bed), null).statusCode());
      assertEquals(0, instances(bed, "pool").size());
      assertEquals(404, admin(bed, HttpMethod.GET, "/api/tenants/pool/logs", token(bed), null).statusCode());
      HttpResponse<Buffer> created = register(bed, "a", a.address(), ",\"weight\":2");
      assertEquals(201, created.statusCode(), created.bodyAsString());
      assertEquals(a.address(), created.bodyAsJsonObject().getString("address"));
      assertEquals(200, register(bed, "a", a.address(), ",\"weight\":2").statusCode(), "a renewal is 200");
      assertEquals("a", member(bed), "its one member serves the tenant");
      assertEquals(201, register(bed, "b", b.address(), "").statusCode());
      assertEquals(200, load(bed, "b", 40).statusCode());
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (int i = 0; i < 12; i++) {
        seen.add(member(bed));
      }
      assertEquals(java.util.Set.of("a", "b"), seen, "new sessions are balanced over both members");

      JsonObject shown = instance(bed, "b");
      assertTrue(shown.getBoolean("registered"), shown.encode());
      assertEquals(40, shown.getInteger("load"));
      assertEquals(b.address(), shown.getString("address"));
      assertTrue(shown.getString("lastReport").endsWith("Z"), shown.encode());
      assertEquals("UP", shown.getString("state"));

      String console = admin(bed, HttpMethod.GET, "/console/tenants/pool", token(bed), null).bodyAsString();
      assertTrue(console.contains("registered") && console.contains("load 40"), console);
      String list = admin(bed, HttpMethod.GET, "/console/", token(bed), null).bodyAsString();
      assertTrue(list.contains("<span class=\"registered\""), list);

      try (Child status = Child.wakeport("status", "--config", bed.configFile.toString())) {
        assertEquals(0, status.exitCode(Duration.ofSeconds(60)), status::printed);
        List<String> out = status.stdout();
        int header = out.indexOf(out.stream().filter(l -> l.startsWith("REGISTERED")).findFirst().orElse("?"));
        assertTrue(header > 0, status::printed);
        assertTrue(out.subList(header, out.size()).stream().anyMatch(l -> l.startsWith("pool/b ")
            && l.contains(b.address()) && l.contains(" 40 ")), status::printed);
      }

      HttpResponse<Buffer> gone = admin(bed, HttpMethod.DELETE, "/api/tenants/pool/members/a", SECRET, null);
      assertEquals(200, gone.statusCode(), gone.bodyAsString());
      for (int i = 0; i < 6; i++) {
        assertEquals("b", member(bed), "a deregistered member gets no more requests");
      }
      assertNull(instance(bed, "a"));
      assertEquals(404, admin(bed, HttpMethod.DELETE, "/api/tenants/pool/members/a", SECRET, null).statusCode());
      assertEquals(404, load(bed, "a", 10).statusCode(), "a report from a member not registered: register again");
    }
  }

  @Test
  void aHeavilyLoadedMemberGetsFewerNewSessions() throws Exception {
    try (RemoteBackend busy = new RemoteBackend("busy", "127.0.0.2");
         RemoteBackend idle = new RemoteBackend("idle", "127.0.0.3");
         TestBed bed = TestBed.start(dir, poolOnly("30s"), true)) {
      assertEquals(201, register(bed, "busy", busy.address(), ",\"load\":90").statusCode());
      assertEquals(201, register(bed, "idle", idle.address(), "").statusCode());
      assertEquals(200, load(bed, "idle", 10).statusCode());
      Map<String, Integer> sessions = new HashMap<>();
      for (int i = 0; i < 200; i++) {
        sessions.merge(member(bed), 1, Integer::sum);
      }
      int toBusy = sessions.getOrDefault("busy", 0);
      int toIdle = sessions.getOrDefault("idle", 0);
      // Effective weights 1 x (101-90) = 11 and 1 x (101-10) = 91: about 22 and 178 of 200.
      assertTrue(toBusy > 0 && toIdle > 5 * toBusy, sessions.toString());

      assertEquals(200, load(bed, "busy", 10).statusCode());
      assertEquals(200, load(bed, "idle", 90).statusCode());
      sessions.clear();
      for (int i = 0; i < 200; i++) {
        sessions.merge(member(bed), 1, Integer::sum);
      }
      assertTrue(sessions.getOrDefault("busy", 0) > 5 * sessions.getOrDefault("idle", 0),
          "reports turn the balance round: " + sessions);
    }
  }

  @Test
  void aMemberThatStopsReportingIsTakenOutAfterItsTtl() throws Exception {
    try (RemoteBackend steady = new RemoteBackend("steady", "127.0.0.2");
         RemoteBackend silent = new RemoteBackend("silent", "127.0.0.3");
         LogCapture log = new LogCapture(io.wakeport.registration.RegistrationDesk.class);
         TestBed bed = TestBed.start(dir, poolOnly("1s"), true)) {
      List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
      bed.wakeport.supervisor().onLifecycle(events::add);
      assertEquals(201, register(bed, "steady", steady.address(), "").statusCode());
      assertEquals(201, register(bed, "silent", silent.address(), "").statusCode());
      // The steady member reports as a real one would, on a timer, well within its ttl.
      long timer = bed.vertx.setPeriodic(250, t -> bed.client.request(HttpMethod.POST, bed.adminPort, "127.0.0.1",
              "/api/tenants/pool/members/steady/load").putHeader("Authorization", "Bearer " + SECRET)
          .sendJsonObject(new JsonObject().put("load", 20)));
      try {
        TestBed.await("silent taken out", WAIT, () -> bed.wakeport.registrations().find("pool", "silent") == null
            && bed.wakeport.config().tenants().get("pool").instances().size() == 1);
        assertTrue(log.contains("registered member silent at " + silent.address() + " sent no report for 1s"),
            String.join("\n", log.messages()));
        assertTrue(events.stream().anyMatch(e -> e.route().equals("silent") && e.to() == InstanceState.DOWN
            && e.reason().contains("registration expired")), events.toString());
        int before = silent.requests.get();
        for (int i = 0; i < 50; i++) {
          HttpResponse<Buffer> response = bed.get(HOST, "/");
          assertEquals(200, response.statusCode(), "no 5xx once it is out");
          assertEquals("steady", field(response.bodyAsString(), "member"));
        }
        // Even a session stuck to it is served by the others.
        HttpResponse<Buffer> stuck = bed.request(HttpMethod.GET, HOST, "/").putHeader("Cookie", "ROUTEID=.silent")
            .send().await(30, TimeUnit.SECONDS);
        assertEquals(200, stuck.statusCode());
        assertEquals(before, silent.requests.get(), "the expired member gets nothing");
        assertTrue(bed.wakeport.registrations().find("pool", "steady") != null, "the reporting member stays");
      } finally {
        bed.vertx.cancelTimer(timer);
      }
    }
  }

  @Test
  void theTenantsHealthCheckTakesARegisteredMemberDownAndUp() throws Exception {
    try (RemoteBackend well = new RemoteBackend("well", "127.0.0.2");
         RemoteBackend sick = new RemoteBackend("sick", "127.0.0.3");
         TestBed bed = TestBed.start(dir, poolOnly("30s").replace("{tcp: true, interval: 200ms}",
             "{http: /health, interval: 200ms, timeout: 5s, rise: 2, fall: 3}"), true)) {
      sick.health = 503;
      assertEquals(201, register(bed, "well", well.address(), "").statusCode());
      assertEquals(201, register(bed, "sick", sick.address(), "").statusCode());
      TestBed.await("sick DOWN by its checks", WAIT, () -> bed.wakeport.supervisor().instance("pool", "sick") != null
          && bed.wakeport.supervisor().instance("pool", "sick").state() == InstanceState.DOWN);
      assertTrue(sick.healthChecks.get() > 0, "checked like a configured member");
      for (int i = 0; i < 10; i++) {
        assertEquals("well", member(bed), "a DOWN member gets no new session");
      }
      assertEquals("DOWN", instance(bed, "sick").getString("state"));
      sick.health = 200;
      TestBed.await("sick UP again", WAIT,
          () -> bed.wakeport.supervisor().instance("pool", "sick").state() == InstanceState.UP);
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (int i = 0; i < 10; i++) {
        seen.add(member(bed));
      }
      assertTrue(seen.contains("sick"), seen.toString());
    }
  }

  @Test
  void withoutFailoverASessionOfAMemberThatLeftIsRefused() throws Exception {
    try (RemoteBackend a = new RemoteBackend("a", "127.0.0.2");
         RemoteBackend b = new RemoteBackend("b", "127.0.0.3");
         RemoteBackend c = new RemoteBackend("c", "127.0.0.4");
         TestBed bed = TestBed.start(dir, poolOnly("30s").replace("check:", "failover: false\n    check:"), true)) {
      for (RemoteBackend r : List.of(a, b, c)) {
        assertEquals(201, register(bed, r.name, r.address(), "").statusCode());
      }
      assertEquals(200, admin(bed, HttpMethod.DELETE, "/api/tenants/pool/members/b", SECRET, null).statusCode());
      HttpResponse<Buffer> stuck = bed.request(HttpMethod.GET, HOST, "/").putHeader("Cookie", "ROUTEID=.b")
          .send().await(30, TimeUnit.SECONDS);
      assertEquals(503, stuck.statusCode(), "failover: false: its session is not moved to another member");
      HttpResponse<Buffer> fresh = bed.request(HttpMethod.GET, HOST, "/").putHeader("Cookie", "ROUTEID=.nobody")
          .send().await(30, TimeUnit.SECONDS);
      assertEquals(200, fresh.statusCode(), "a route that never was a member is a new session");
      assertEquals(201, register(bed, "b", b.address(), "").statusCode());
      HttpResponse<Buffer> back = bed.request(HttpMethod.GET, HOST, "/").putHeader("Cookie", "ROUTEID=.b")
          .send().await(30, TimeUnit.SECONDS);
      assertEquals("b", field(back.bodyAsString(), "member"), "registered again, it has its sessions back");
    }
  }

  @Test
  void credentialsTenantsAddressesAndBodiesAreChecked() throws Exception {
    try (RemoteBackend a = new RemoteBackend("a", "127.0.0.2");
         TestBed bed = TestBed.start(dir, config("30s", ""), true)) {
      String body = "{\"address\":\"" + a.address() + "\"}";
      String path = "/api/tenants/pool/members/a";
      assertEquals(401, admin(bed, HttpMethod.PUT, path, null, body).statusCode(), "no credentials");
      assertEquals(401, admin(bed, HttpMethod.PUT, path, "wrong-secret-0123456789", body).statusCode());
      // The secret opens the tenant's member endpoints and nothing else.
      assertEquals(401, admin(bed, HttpMethod.GET, "/api/tenants", SECRET, null).statusCode());
      assertEquals(401, admin(bed, HttpMethod.POST, "/api/tenants/pool/stop", SECRET, null).statusCode());
      assertEquals(401, admin(bed, HttpMethod.PUT, "/api/tenants/closed/members/a", SECRET, body).statusCode());
      assertEquals(401, admin(bed, HttpMethod.POST, "/api/reload", SECRET, null).statusCode());
      for (String around : List.of("/api/tenants/pool/members/../stop", "/api/tenants/pool/members/%2e%2e/load",
          "/api/tenants/pool/members/../load", "/api/tenants/pool/members/a/../../stop")) {
        assertEquals(401, admin(bed, HttpMethod.POST, around, SECRET, "{\"load\":1}").statusCode(), around);
      }
      // The admin token works too, but a tenant without registration: takes none.
      HttpResponse<Buffer> closed = admin(bed, HttpMethod.PUT, "/api/tenants/closed/members/a", token(bed), body);
      assertEquals(403, closed.statusCode());
      assertEquals("registration-off", closed.bodyAsJsonObject().getString("error"));
      assertEquals(404, admin(bed, HttpMethod.PUT, "/api/tenants/nobody/members/a", token(bed), body).statusCode());
      // Without a secret, only the admin credentials register.
      String other = "/api/tenants/nosecret/members/a";
      assertEquals(401, admin(bed, HttpMethod.PUT, other, SECRET, body).statusCode());
      assertEquals(401, admin(bed, HttpMethod.PUT, other, "", body).statusCode());
      assertEquals(201, admin(bed, HttpMethod.PUT, other, token(bed), body).statusCode());
      assertEquals(200, admin(bed, HttpMethod.DELETE, other, token(bed), null).statusCode());

      HttpResponse<Buffer> outside = register(bed, "a", "10.0.0.7:8080", "");
      assertEquals(403, outside.statusCode());
      assertEquals("address-not-allowed", outside.bodyAsJsonObject().getString("error"));
      assertEquals(400, register(bed, "a", "localhost:8080", "").statusCode(), "names are not looked up");
      assertEquals(400, register(bed, "a", "127.0.0.2", "").statusCode(), "no port");
      assertEquals(400, register(bed, "a", "127.0.0.2:70000", "").statusCode());
      HttpResponse<Buffer> taken = register(bed, "fixed", a.address(), "");
      assertEquals(409, taken.statusCode(), "a configured route's name");
      assertEquals("route-configured", taken.bodyAsJsonObject().getString("error"));
      assertEquals(400, register(bed, "a.b", a.address(), "").statusCode(), "a dot ends a session id's route");
      assertEquals(400, register(bed, "a", a.address(), ",\"weight\":0").statusCode());
      assertEquals(400, register(bed, "a", a.address(), ",\"weight\":\"x\"").statusCode());
      assertEquals(400, register(bed, "a", a.address(), ",\"load\":101").statusCode());
      assertEquals(400, admin(bed, HttpMethod.PUT, path, SECRET, "{\"address\":").statusCode(), "malformed JSON");
      assertEquals(400, admin(bed, HttpMethod.PUT, path, SECRET, "[1,2]").statusCode());
      String huge = "{\"address\":\"" + a.address() + "\",\"pad\":\"" + "x".repeat(200_000) + "\"}";
      assertEquals(413, admin(bed, HttpMethod.PUT, path, SECRET, huge).statusCode());
      assertEquals(0, bed.wakeport.registrations().all().size(), "nothing refused was kept");

      // Thousands of registrations: max-members (3) of them are kept, the rest refused.
      int accepted = 0;
      int refused = 0;
      for (int i = 0; i < 2000; i++) {
        int status = register(bed, "m" + i, "127.0.0." + (2 + i % 200) + ":8080", "").statusCode();
        if (status == 201) {
          accepted++;
        } else {
          assertEquals(429, status);
          refused++;
        }
      }
      assertEquals(3, accepted);
      assertEquals(1997, refused);
      String metrics = admin(bed, HttpMethod.GET, "/metrics", token(bed), null).bodyAsString();
      assertTrue(metrics.contains("wakeport_members_registered 3.0"), metrics);
      assertEquals(4, bed.wakeport.config().tenants().get("pool").instances().size(), "one configured, three registered");
      assertEquals(200, register(bed, "m0", "127.0.0.2:8080", "").statusCode(), "a registered member may renew");
    }
  }

  @Test
  void registrationsSurviveAReloadAndGoWithTheirTenant() throws Exception {
    try (RemoteBackend a = new RemoteBackend("a", "127.0.0.2");
         TestBed bed = TestBed.start(dir, poolOnly("30s"), true)) {
      assertEquals(201, register(bed, "a", a.address(), ",\"load\":30").statusCode());
      bed.rewrite(poolOnly("30s").replace("hosts: [pool.test]", "hosts: [pool.test, www.pool.test]"));
      assertTrue(bed.wakeport.reload());
      assertEquals("a", member(bed), "still routed after a reload that keeps the tenant");
      assertEquals("a", field(bed.get("www.pool.test", "/").bodyAsString(), "member"));
      assertEquals(30, instance(bed, "a").getInteger("load"), "its load too");

      // A configured route of its name takes its place.
      bed.rewrite(poolOnly("30s").replace("check:", "routes: {a: {address: \"127.0.0.9:9\"}}\n    check:"));
      assertTrue(bed.wakeport.reload());
      assertNull(bed.wakeport.registrations().find("pool", "a"));
      assertFalse(instance(bed, "a").getBoolean("registered", false));

      bed.rewrite(poolOnly("30s"));
      assertTrue(bed.wakeport.reload());
      assertEquals(201, register(bed, "a", a.address(), "").statusCode());
      assertEquals("a", member(bed), "registered again under the name, it is served at its own address");
      bed.rewrite(config("30s", "").replace("  pool:", "  other:").replace("hosts: [pool.test]", "hosts: [other.test]"));
      assertTrue(bed.wakeport.reload());
      assertTrue(bed.wakeport.registrations().all().isEmpty(), "dropped with its tenant");
      assertEquals(404, bed.get(HOST, "/").statusCode());
    }
  }
}
