package io.wakeport.admin;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin listener of a real wakeport: its token, authentication, origin and CSRF checks, the
 * tenant list and actions (start, stop, restart, drain) on real demo backends, and the event stream.
 */
class AdminApiTest {

  @TempDir Path dir;

  private static final Duration WAIT = Duration.ofSeconds(30);

  private static String shop() {
    return """
        tenants:
          shop:
            hosts: [shop.test]
            routes: [first, second]
            sticky: {cookie: _s}
            command: %s
        """.formatted(demoCommand());
  }

  private static String token(TestBed bed) throws Exception {
    return Files.readString(bed.dir.resolve("var/admin.token")).trim();
  }

  private static HttpRequest<Buffer> admin(TestBed bed, HttpMethod method, String path) {
    return bed.client.request(method, bed.adminPort, "127.0.0.1", path);
  }

  private static HttpResponse<Buffer> call(TestBed bed, HttpMethod method, String path) throws Exception {
    return admin(bed, method, path).bearerTokenAuthentication(token(bed)).send().await(60, TimeUnit.SECONDS);
  }

  private static JsonObject json(HttpResponse<Buffer> r, int status) {
    assertEquals(status, r.statusCode(), () -> "answer: " + r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private static JsonObject instanceOf(JsonObject tenant, String route) {
    for (Object o : tenant.getJsonArray("instances")) {
      JsonObject i = (JsonObject) o;
      if (java.util.Objects.equals(route, i.getString("route"))) {
        return i;
      }
    }
    throw new AssertionError("no instance " + route + " in " + tenant.encodePrettily());
  }

  private static String routeOf(HttpResponse<Buffer> r) {
    assertEquals(200, r.statusCode(), r::bodyAsString);
    return field(r.bodyAsString(), "route");
  }

  // ---- the token -------------------------------------------------------------------------------

  @Test
  void theTokenFileIsOwnerOnlyAndKeptAcrossRestarts() throws Exception {
    String first;
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      Path file = dir.resolve("var/admin.token");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      first = token(bed);
      assertTrue(first.matches("[A-Za-z0-9_-]{43}"), "32 random bytes, url-safe base64: " + first);
      json(call(bed, HttpMethod.GET, "/api/tenants"), 200);
    }
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      assertEquals(first, token(bed), "a restart reads the same token");
      json(call(bed, HttpMethod.GET, "/api/tenants"), 200);
    }
  }

  // ---- authentication, origin, methods ---------------------------------------------------------

  @Test
  void everyRequestNeedsTheTokenAndAForeignOriginIsRefused() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      HttpResponse<Buffer> none = admin(bed, HttpMethod.GET, "/api/tenants").send().await(30, TimeUnit.SECONDS);
      assertEquals(401, none.statusCode());
      assertTrue(none.getHeader("WWW-Authenticate").startsWith("Bearer"));
      assertEquals(401, admin(bed, HttpMethod.GET, "/api/tenants").bearerTokenAuthentication("wrong")
          .send().await(30, TimeUnit.SECONDS).statusCode());
      assertEquals(401, admin(bed, HttpMethod.GET, "/metrics").send().await(30, TimeUnit.SECONDS).statusCode(),
          "/metrics is behind the same authentication");
      assertEquals(401, admin(bed, HttpMethod.GET, "/no/such/path").send().await(30, TimeUnit.SECONDS).statusCode(),
          "even an unknown path tells nothing without the token");

      for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.POST)) {
        HttpResponse<Buffer> foreign = admin(bed, method, "/api/tenants/acme/stop").bearerTokenAuthentication(token(bed))
            .putHeader("Origin", "http://evil.example").send().await(30, TimeUnit.SECONDS);
        assertEquals(403, foreign.statusCode(), method + " from another origin");
        assertEquals("foreign-origin", foreign.bodyAsJsonObject().getString("error"));
      }
      assertEquals(403, admin(bed, HttpMethod.GET, "/api/tenants").bearerTokenAuthentication(token(bed))
          .putHeader("Referer", "http://evil.example/page").send().await(30, TimeUnit.SECONDS).statusCode(),
          "a Referer stands for the Origin when there is none");
      assertEquals(200, admin(bed, HttpMethod.GET, "/api/tenants").bearerTokenAuthentication(token(bed))
          .putHeader("Origin", "http://127.0.0.1:" + bed.adminPort).send().await(30, TimeUnit.SECONDS).statusCode(),
          "the listener's own origin is fine");

      assertEquals(405, call(bed, HttpMethod.GET, "/api/tenants/acme/stop").statusCode(), "actions are POSTs");
      assertEquals(405, call(bed, HttpMethod.GET, "/api/reload").statusCode());
      HttpResponse<Buffer> metrics = call(bed, HttpMethod.GET, "/metrics");
      assertEquals(200, metrics.statusCode(), "/metrics with the token");
      assertTrue(metrics.getHeader("Content-Type").startsWith("text/plain; version=0.0.4"), metrics.getHeader("Content-Type"));
      assertTrue(metrics.bodyAsString().contains("wakeport_instances_running"), "Prometheus text of wakeport's meters");
      assertEquals(404, call(bed, HttpMethod.POST, "/api/tenants/nobody/start").statusCode());
      assertEquals("no-such-tenant", call(bed, HttpMethod.POST, "/api/tenants/nobody/start").bodyAsJsonObject()
          .getString("error"));
    }
  }

  @Test
  void withUsersBasicAuthIsAskedAndPostsNeedTheCsrfToken() throws Exception {
    String hash = PasswordHash.hash("correct horse".toCharArray());
    Path config = dir.resolve("wakeport.yaml");
    int port = TestBed.freePort();
    int adminPort = TestBed.freePort();
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        state-dir: var
        admin:
          listen: 127.0.0.1:%d
          users: [{name: ops, password: "%s"}]
        %s""".formatted(port, adminPort, hash, TestBed.acmeTenant("port: " + TestBed.freePort())));
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try (io.wakeport.Wakeport wakeport = io.wakeport.Wakeport.start(io.wakeport.config.ConfigLoader.load(config))) {
      io.vertx.ext.web.client.WebClient web = io.vertx.ext.web.client.WebClient.create(vertx);
      HttpResponse<Buffer> none = web.get(adminPort, "127.0.0.1", "/api/tenants").send().await(30, TimeUnit.SECONDS);
      assertEquals(401, none.statusCode());
      assertTrue(none.getHeader("WWW-Authenticate").startsWith("Basic"));
      assertEquals(401, web.get(adminPort, "127.0.0.1", "/api/tenants").basicAuthentication("ops", "wrong")
          .send().await(30, TimeUnit.SECONDS).statusCode());
      assertEquals(401, web.get(adminPort, "127.0.0.1", "/api/tenants").bearerTokenAuthentication("anything")
          .send().await(30, TimeUnit.SECONDS).statusCode(), "users replace the token");
      assertEquals(200, web.get(adminPort, "127.0.0.1", "/api/tenants").basicAuthentication("ops", "correct horse")
          .send().await(30, TimeUnit.SECONDS).statusCode());
      assertTrue(Files.notExists(dir.resolve("var/admin.token")), "no token is made in users mode");

      HttpResponse<Buffer> noCsrf = web.post(adminPort, "127.0.0.1", "/api/tenants/acme/stop")
          .basicAuthentication("ops", "correct horse").send().await(30, TimeUnit.SECONDS);
      assertEquals(403, noCsrf.statusCode(), "Basic credentials are sent by browsers on their own: POSTs need CSRF");
      assertEquals("csrf", noCsrf.bodyAsJsonObject().getString("error"));
      String csrf = web.get(adminPort, "127.0.0.1", "/api/csrf").basicAuthentication("ops", "correct horse")
          .send().await(30, TimeUnit.SECONDS).bodyAsJsonObject().getString("csrfToken");
      assertEquals(403, web.post(adminPort, "127.0.0.1", "/api/tenants/acme/stop")
          .basicAuthentication("ops", "correct horse").putHeader("X-CSRF-Token", csrf + "x")
          .send().await(30, TimeUnit.SECONDS).statusCode());
      assertEquals(200, web.post(adminPort, "127.0.0.1", "/api/tenants/acme/stop")
          .basicAuthentication("ops", "correct horse").putHeader("X-CSRF-Token", csrf)
          .send().await(30, TimeUnit.SECONDS).statusCode());

      // A guesser: ten wrong passwords in a row, then no password of that user is checked from this
      // address for a minute (one verified in the last minutes is still known, and still accepted).
      for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
        assertEquals(401, web.get(adminPort, "127.0.0.1", "/api/tenants").basicAuthentication("ops", "guess" + i)
            .send().await(30, TimeUnit.SECONDS).statusCode());
      }
      HttpResponse<Buffer> locked = web.get(adminPort, "127.0.0.1", "/api/tenants")
          .basicAuthentication("ops", "guess-eleven").send().await(30, TimeUnit.SECONDS);
      assertEquals(429, locked.statusCode(), locked.bodyAsString());
      assertEquals("60", locked.getHeader("Retry-After"));
      assertEquals(200, web.get(adminPort, "127.0.0.1", "/api/tenants").basicAuthentication("ops", "correct horse")
          .send().await(30, TimeUnit.SECONDS).statusCode(), "the operator's verified password still works");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void adminOffMeansNoListener() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      assertNull(bed.wakeport.admin());
      assertTrue(Files.notExists(dir.resolve("var/admin.token")), "no listener, no token");
    }
  }

  // ---- tenants and actions ---------------------------------------------------------------------

  @Test
  void startAndStopChangeTheStateTheListShows() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      JsonObject acme = json(call(bed, HttpMethod.GET, "/api/tenants"), 200).getJsonArray("tenants").getJsonObject(0);
      assertEquals("acme", acme.getString("name"));
      assertEquals("STOPPED", instanceOf(acme, null).getString("state"));

      JsonObject started = json(call(bed, HttpMethod.POST, "/api/tenants/acme/start"), 200);
      JsonObject instance = instanceOf(started, null);
      assertEquals("READY", instance.getString("state"), "start answers once the instance is ready");
      assertEquals(bed.wakeport.supervisor().instance("acme", "").pid(), instance.getLong("pid"));
      assertTrue(instance.getJsonObject("lastColdStart").getLong("millis") > 0);

      JsonObject one = json(call(bed, HttpMethod.GET, "/api/tenants/acme"), 200);
      assertEquals("READY", instanceOf(one, null).getString("state"));
      assertTrue(one.getJsonObject("config").getJsonArray("command").size() > 0);
      assertTrue(instanceOf(one, null).getJsonArray("recentEvents").size() >= 2, one::encodePrettily);

      HttpResponse<Buffer> log = call(bed, HttpMethod.GET, "/api/tenants/acme/logs?lines=5");
      assertEquals(200, log.statusCode());
      assertTrue(log.bodyAsString().contains("demo backend acme"), log::bodyAsString);

      JsonObject stopped = json(call(bed, HttpMethod.POST, "/api/tenants/acme/stop"), 200);
      assertEquals("STOPPED", instanceOf(stopped, null).getString("state"));
      assertEquals(InstanceState.STOPPED, bed.wakeport.supervisor().instance("acme", "").state());
      assertEquals(409, call(bed, HttpMethod.POST, "/api/tenants/acme/drain").statusCode(),
          "drain steers a balancer, which a one-instance tenant has not");
    }
  }

  @Test
  void restartingOneRouteLeavesTheOtherServing() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop(), true)) {
      json(call(bed, HttpMethod.POST, "/api/tenants/shop/start"), 200);
      Instance first = bed.wakeport.supervisor().instance("shop", "first");
      Instance second = bed.wakeport.supervisor().instance("shop", "second");
      long firstPid = first.pid();
      long secondPid = second.pid();
      JsonObject after = json(call(bed, HttpMethod.POST, "/api/tenants/shop/routes/first/restart"), 200);
      assertEquals("READY", instanceOf(after, "first").getString("state"));
      assertNotEquals(firstPid, first.pid(), "route first has a new process");
      assertEquals(secondPid, second.pid(), "route second was left alone");

      json(call(bed, HttpMethod.POST, "/api/tenants/shop/restart"), 200);
      assertNotEquals(secondPid, second.pid(), "a tenant restart goes through every running route");
      assertEquals(InstanceState.READY, first.state());
      assertEquals(InstanceState.READY, second.state());
    }
  }

  @Test
  void aDrainedRouteKeepsItsSessionsButGetsNoNewOnes() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop(), true)) {
      json(call(bed, HttpMethod.POST, "/api/tenants/shop/start"), 200);
      JsonObject drained = json(call(bed, HttpMethod.POST, "/api/tenants/shop/routes/first/drain"), 200);
      assertEquals("drain", instanceOf(drained, "first").getString("mode"));
      assertEquals("active", instanceOf(drained, "second").getString("mode"));

      Set<String> routes = new HashSet<>();
      for (int i = 0; i < 8; i++) {
        routes.add(routeOf(bed.get("shop.test", "/")));
      }
      assertEquals(Set.of("second"), routes, "new sessions avoid the drained route");
      HttpResponse<Buffer> sticky = bed.request(HttpMethod.GET, "shop.test", "/").putHeader("Cookie", "_s=abc.first")
          .send().await(30, TimeUnit.SECONDS);
      assertEquals("first", routeOf(sticky), "a session already on it keeps reaching it");

      json(call(bed, HttpMethod.POST, "/api/tenants/shop/routes/first/disable"), 200);
      HttpResponse<Buffer> moved = bed.request(HttpMethod.GET, "shop.test", "/").putHeader("Cookie", "_s=abc.first")
          .send().await(30, TimeUnit.SECONDS);
      assertEquals("second", routeOf(moved), "a disabled route gets no traffic at all: its sessions move");

      json(call(bed, HttpMethod.POST, "/api/tenants/shop/routes/first/enable"), 200);
      routes.clear();
      for (int i = 0; i < 8; i++) {
        routes.add(routeOf(bed.get("shop.test", "/")));
      }
      assertEquals(Set.of("first", "second"), routes, "enabled again, it takes new sessions");

      HttpResponse<Buffer> weight = admin(bed, HttpMethod.POST, "/api/tenants/shop/routes/second/weight")
          .bearerTokenAuthentication(token(bed)).sendJsonObject(new JsonObject().put("weight", 7))
          .await(30, TimeUnit.SECONDS);
      assertEquals(7, instanceOf(json(weight, 200), "second").getInteger("weight"));
      assertEquals(400, admin(bed, HttpMethod.POST, "/api/tenants/shop/routes/second/weight")
          .bearerTokenAuthentication(token(bed)).sendJsonObject(new JsonObject().put("weight", 1000))
          .await(30, TimeUnit.SECONDS).statusCode());
    }
  }

  @Test
  void theConfigCheckLooksAtCommandsAsTheCliDoes() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      JsonObject ok = json(call(bed, HttpMethod.GET, "/api/config/check"), 200);
      assertTrue(ok.getBoolean("ok"), ok::encode);
      bed.rewrite(TestBed.acmeTenant("") + "  typo:\n    paths: [/typo]\n    command: [no-such-program-here]\n");
      JsonObject bad = json(call(bed, HttpMethod.GET, "/api/config/check"), 200);
      assertFalse(bad.getBoolean("ok"), bad::encode);
      String text = bad.getJsonArray("problems").getJsonObject(0).getString("text");
      assertTrue(text.contains("tenants.typo.command: program no-such-program-here is not on PATH"), text);
    }
  }

  // ---- events ----------------------------------------------------------------------------------

  @Test
  void theEventStreamShowsAColdStart() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      HttpClient http = bed.vertx.createHttpClient();
      ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
      var response = http.request(new RequestOptions().setHost("127.0.0.1").setPort(bed.adminPort)
              .setURI("/api/events").putHeader("Authorization", "Bearer " + token(bed)))
          .compose(req -> req.send()).await(30, TimeUnit.SECONDS);
      assertEquals(200, response.statusCode());
      assertTrue(response.getHeader("Content-Type").startsWith("text/event-stream"));
      io.vertx.core.parsetools.RecordParser.newDelimited("\n", response)
          .handler(line -> lines.add(line.toString()));
      TestBed.await("the stream's opening comment", WAIT, () -> !lines.isEmpty());

      assertEquals(200, bed.get("acme.test", "/").statusCode(), "a cold start");
      TestBed.await("STARTING -> READY on the stream", WAIT,
          () -> lines.stream().anyMatch(l -> l.contains("\"from\":\"STARTING\"") && l.contains("\"to\":\"READY\"")));
      List<JsonObject> events = lines.stream().filter(l -> l.startsWith("data: "))
          .map(l -> new JsonObject(l.substring(6))).toList();
      assertEquals("STOPPED", events.get(0).getString("from"));
      assertEquals("STARTING", events.get(0).getString("to"));
      assertEquals("acme", events.get(0).getString("tenant"));
      assertTrue(lines.contains("event: lifecycle"));
      http.close();
    }
  }

  // ---- the front port never serves the admin plane ----------------------------------------------

  @Test
  void adminPathsOnTheFrontPortGoToTheTenantOrNowhere() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      HttpResponse<Buffer> tenant = bed.request(HttpMethod.GET, "acme.test", "/api/tenants")
          .bearerTokenAuthentication(token(bed)).send().await(60, TimeUnit.SECONDS);
      assertEquals(200, tenant.statusCode());
      assertEquals("acme", field(tenant.bodyAsString(), "tenant"), "the tenant's backend answered");
      assertEquals("/api/tenants", field(tenant.bodyAsString(), "path"));

      for (String path : List.of("/api/tenants", "/api/events", "/metrics", "/api/csrf")) {
        HttpResponse<Buffer> nobody = bed.request(HttpMethod.GET, "admin.test", path)
            .bearerTokenAuthentication(token(bed)).send().await(60, TimeUnit.SECONDS);
        assertEquals(404, nobody.statusCode(), path + " with no tenant's Host");
        assertTrue(!nobody.bodyAsString().contains("\"tenants\""), "nothing of the admin plane");
      }
      HttpResponse<Buffer> post = bed.request(HttpMethod.POST, "admin.test", "/api/tenants/acme/stop")
          .bearerTokenAuthentication(token(bed)).send().await(60, TimeUnit.SECONDS);
      assertEquals(404, post.statusCode());
      assertEquals(InstanceState.READY, bed.wakeport.supervisor().instance("acme", "").state(),
          "the POST reached no admin action");
    }
  }

  @Test
  void eachInstanceShowsItsLastMinuteOfRequestsErrorsAndLatency() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      JsonObject before = instanceOf(json(call(bed, HttpMethod.GET, "/api/tenants/acme"), 200), null);
      assertEquals(0L, before.getLong("requestsPerMinute"));
      assertNull(before.getValue("p50Millis"), "no percentile without requests");
      for (int i = 0; i < 8; i++) {
        assertEquals(200, bed.get("acme.test", "/").statusCode());
      }
      for (int i = 0; i < 2; i++) {
        // The demo backend answers 500 when a number it is given is not one.
        assertEquals(500, bed.get("acme.test", "/print?lines=many").statusCode());
      }
      TestBed.await("ten requests counted", WAIT, () -> {
        try {
          return instanceOf(json(call(bed, HttpMethod.GET, "/api/tenants/acme"), 200), null)
              .getLong("requestsPerMinute") >= 10;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      JsonObject after = instanceOf(json(call(bed, HttpMethod.GET, "/api/tenants/acme"), 200), null);
      assertEquals(2L, after.getLong("errorsPerMinute"), after.encode());
      assertTrue(after.getDouble("p50Millis") > 0, after.encode());
      assertTrue(after.getDouble("p99Millis") >= after.getDouble("p50Millis"), after.encode());
    }
  }
}
