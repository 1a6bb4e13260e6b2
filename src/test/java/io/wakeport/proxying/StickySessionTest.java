package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several instances of one tenant: a process, port and log per route, mod_proxy_balancer-style
 * sticky sessions (cookie, query and path parameter, route-pattern, inserted cookie), balancing of
 * new sessions (requests, busyness, latency), preference for running instances, failover, drain
 * and standby. Real wakeport, real demo backends, one tenant "shop" on Host shop.test.
 */
class StickySessionTest {

  @TempDir Path dir;

  private static final String HOST = "shop.test";
  private static final Duration WAIT = Duration.ofSeconds(30);

  // ---- helpers -------------------------------------------------------------------------------

  /** Tenant shop on Host shop.test running the demo backend; {@code extra} adds tenant keys. */
  private static String shop(String extra) {
    return shop(demoCommand(), extra);
  }

  private static String shop(String command, String extra) {
    return """
        tenants:
          shop:
            hosts: [shop.test]
            command: %s
        %s""".formatted(command, extra.indent(4));
  }

  /**
   * The demo backend behind a shell that exits with code 3 (printing "refusing ROUTE") instead
   * when {@code condition} holds: a route that cannot start, while the others can.
   */
  private static String failingWhen(String condition) {
    return "[sh, -c, 'if [ " + condition + " ]; then echo \"refusing $WAKEPORT_ROUTE\"; exit 3; fi; "
        + "exec \"$0\" -cp \"$1\" DemoBackend --port \"$PORT\" --tenant shop', "
        + quote(TestBed.JAVA) + ", " + quote(TestBed.CLASSES) + "]";
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static HttpRequest<Buffer> request(TestBed bed, String path, String cookie) {
    HttpRequest<Buffer> r = bed.request(HttpMethod.GET, HOST, path);
    if (cookie != null) {
      r.putHeader("Cookie", cookie);
    }
    return r;
  }

  private static HttpResponse<Buffer> get(TestBed bed, String path, String cookie) throws Exception {
    return request(bed, path, cookie).send().await(60, TimeUnit.SECONDS);
  }

  /** A request with no session: the balancer chooses. */
  private static HttpResponse<Buffer> newSession(TestBed bed) throws Exception {
    return get(bed, "/", null);
  }

  /** The route that served a 200 demo answer. */
  private static String routeOf(HttpResponse<Buffer> r) {
    assertEquals(200, r.statusCode(), () -> "expected a demo answer, got " + r.statusCode() + ": " + r.bodyAsString());
    return field(r.bodyAsString(), "route");
  }

  private static Instance instance(TestBed bed, String route) {
    return bed.wakeport.supervisor().instance("shop", route);
  }

  private static InstanceState state(TestBed bed, String route) {
    Instance i = instance(bed, route);
    return i == null ? InstanceState.STOPPED : i.state();
  }

  private static int inFlight(TestBed bed, String route) {
    Instance i = instance(bed, route);
    return i == null ? 0 : i.inFlight();
  }

  private static Path logOf(TestBed bed, String route) {
    return bed.dir.resolve("var/logs/shop@" + route + ".log");
  }

  /** Demo backends spawned for {@code route}: each spawn prints one "booting" line into the route's own log. */
  private static long boots(TestBed bed, String route) throws Exception {
    return TestBed.lines(logOf(bed, route)).stream()
        .filter(l -> l.startsWith("demo backend shop pid ") && l.endsWith(" booting")).count();
  }

  /** Starts refused by the {@link #failingWhen} shell for {@code route}. */
  private static long refusals(TestBed bed, String route) throws Exception {
    return TestBed.lines(logOf(bed, route)).stream().filter(l -> l.equals("refusing " + route)).count();
  }

  /** The Set-Cookie headers of {@code r} that set {@code name}. */
  private static List<String> setCookies(HttpResponse<Buffer> r, String name) {
    return r.headers().getAll("Set-Cookie").stream().filter(c -> c.startsWith(name + "=")).toList();
  }

  private static void awaitState(TestBed bed, String route, InstanceState wanted) throws InterruptedException {
    TestBed.await(route + " " + wanted, WAIT, () -> state(bed, route) == wanted);
  }

  private static boolean dead(long pid) {
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  /**
   * Waits until {@code route} has exactly {@code n} requests in flight. A lease ends when the response
   * has ended on wakeport's side, which can be a moment after the client has read it: counts taken
   * right after a response are not yet settled.
   */
  private static void awaitInFlight(TestBed bed, String route, int n) throws InterruptedException {
    TestBed.await(n + " requests in flight on " + route, WAIT, () -> inFlight(bed, route) == n);
  }

  /** Routes of {@code n} sequential new sessions. */
  private static List<String> newSessions(TestBed bed, int n) throws Exception {
    List<String> routes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      routes.add(routeOf(newSession(bed)));
    }
    return routes;
  }

  private static long count(List<String> routes, String route) {
    return routes.stream().filter(route::equals).count();
  }

  // ---- instances: one port, process, log and route each --------------------------------------

  @Test
  void eachRouteHasItsOwnPortProcessLogAndRouteName() throws Exception {
    String config = shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        """) + """
          mall:
            hosts: [mall.test]
            routes: [first, second]
            sticky: {cookie: _s}
            command: %s
        """.formatted(demoCommand("--route", "via-${route}"));
    try (TestBed bed = TestBed.start(dir, config)) {
      HttpResponse<Buffer> first = get(bed, "/", "_s=abc.first");
      HttpResponse<Buffer> second = get(bed, "/", "_s=abc.second");
      assertEquals("first", routeOf(first), "WAKEPORT_ROUTE is the instance's route");
      assertEquals("second", routeOf(second));

      int firstPort = Integer.parseInt(field(first.bodyAsString(), "port"));
      int secondPort = Integer.parseInt(field(second.bodyAsString(), "port"));
      assertNotEquals(firstPort, secondPort, "each route listens on its own port");
      assertEquals(firstPort, instance(bed, "first").address().port());
      assertEquals(secondPort, instance(bed, "second").address().port());

      long firstPid = Long.parseLong(field(first.bodyAsString(), "pid"));
      long secondPid = Long.parseLong(field(second.bodyAsString(), "pid"));
      assertNotEquals(firstPid, secondPid, "each route is its own process");
      assertEquals(firstPid, instance(bed, "first").pid());
      assertEquals(secondPid, instance(bed, "second").pid());

      assertEquals(1, boots(bed, "first"));
      assertEquals(1, boots(bed, "second"));
      assertTrue(TestBed.lines(logOf(bed, "first")).contains("demo backend shop pid " + firstPid + " booting"),
          "shop-first.log holds the first instance's output");
      assertTrue(TestBed.lines(logOf(bed, "second")).contains("demo backend shop pid " + secondPid + " booting"),
          "shop-second.log holds the second instance's output");
      assertTrue(Files.notExists(bed.logFile("shop")), "no shared tenant log");

      // ${route} in the command is substituted per instance.
      HttpResponse<Buffer> mall = bed.request(HttpMethod.GET, "mall.test", "/").putHeader("Cookie", "_s=x.second")
          .send().await(60, TimeUnit.SECONDS);
      assertEquals("via-second", routeOf(mall));
    }
  }

  @Test
  void instancesTwoGivesRoutesOneAndTwo() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        instances: 2
        sticky: {cookie: _s}
        """))) {
      TenantConfig tenant = bed.wakeport.config().tenants().get("shop");
      assertEquals(List.of("1", "2"), tenant.instances().stream().map(InstanceConfig::route).toList());
      assertEquals("2", routeOf(get(bed, "/", "_s=abc.2")));
      assertEquals("1", routeOf(get(bed, "/", "_s=abc.1")));
      assertEquals(1, boots(bed, "1"));
      assertEquals(1, boots(bed, "2"));
      assertNotEquals(instance(bed, "1").address().port(), instance(bed, "2").address().port());
    }
  }

  // ---- reading the session's route -----------------------------------------------------------

  @Test
  void theRouteIsReadFromCookieQueryAndPathParameterAndTheUrlWinsOverTheCookie() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s, param: _s}
        """))) {
      // Nothing runs: a new session would go to first (the first pick), so reaching second proves the cookie.
      assertEquals("second", routeOf(get(bed, "/", "_s=abc.second")), "cookie _s=abc.second");
      // Only second runs: a new session would stay on it.
      HttpResponse<Buffer> byQuery = get(bed, "/?_s=abc.first", null);
      assertEquals("first", routeOf(byQuery), "query parameter ?_s=abc.first");
      assertEquals("/?_s=abc.first", field(byQuery.bodyAsString(), "path"), "the URL reaches the backend unchanged");
      // Both run: new sessions would alternate, so two in a row on second prove the path parameter.
      for (int i = 0; i < 2; i++) {
        HttpResponse<Buffer> byPath = get(bed, "/x;_s=abc.second", null);
        assertEquals("second", routeOf(byPath), "path parameter ;_s=abc.second");
        assertEquals("/x;_s=abc.second", field(byPath.bodyAsString(), "path"));
      }
      // The URL is read before the cookie (mod_proxy_balancer's order).
      for (int i = 0; i < 2; i++) {
        assertEquals("first", routeOf(get(bed, "/?_s=abc.first", "_s=abc.second")), "query beats cookie");
        assertEquals("first", routeOf(get(bed, "/x;_s=abc.first", "_s=abc.second")), "path parameter beats cookie");
        assertEquals("second", routeOf(get(bed, "/x;_s=abc.second?a=1", "_s=abc.first")), "either way round");
      }
      assertEquals(1, boots(bed, "first"));
      assertEquals(1, boots(bed, "second"));
    }
  }

  @Test
  void aRoutePatternTakesTheRouteFromItsGroup() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s, route-pattern: '!(.*)$'}
        """))) {
      // Read as "after the last dot" there is no route in it, and a new session would go to first.
      assertEquals("second", routeOf(get(bed, "/", "_s=data!second")));
      // Read as "after the last dot" this names route "b!first" (unknown): a new session would stay on second.
      assertEquals("first", routeOf(get(bed, "/", "_s=a.b!first")));
    }
  }

  // ---- insert mode ---------------------------------------------------------------------------

  @Test
  void insertModeGivesANewSessionARouteCookieAndHonoursIt() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {insert-cookie: ROUTEID}
        """))) {
      HttpResponse<Buffer> fresh = newSession(bed);
      String route = routeOf(fresh);
      assertEquals(List.of("ROUTEID=." + route + "; Path=/; HttpOnly; SameSite=Lax"), setCookies(fresh, "ROUTEID"),
          "exactly one route cookie, without Secure over plain http: " + fresh.headers().getAll("Set-Cookie"));
      assertEquals(1, setCookies(fresh, "_s").size(), "the backend's own cookie is passed on beside it");

      // The session's route is kept (second was never chosen for a new session, and first runs).
      String other = route.equals("first") ? "second" : "first";
      for (int i = 0; i < 2; i++) {
        HttpResponse<Buffer> sticky = get(bed, "/", "ROUTEID=." + other);
        assertEquals(other, routeOf(sticky));
        assertEquals(List.of(), setCookies(sticky, "ROUTEID"), "a known session gets no new route cookie");
        HttpResponse<Buffer> back = get(bed, "/", "ROUTEID=." + route);
        assertEquals(route, routeOf(back));
        assertEquals(List.of(), setCookies(back, "ROUTEID"));
      }
    }
  }

  // ---- starting the session's instance -------------------------------------------------------

  @Test
  void aSessionWhoseInstanceIsStoppedStartsItAndWaitsAlsoAfterAnIdleStop() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        idle-timeout: 1s
        """))) {
      assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")));
      assertEquals(1, boots(bed, "first"));
      assertEquals(0, boots(bed, "second"), "a request for first starts first only");
      assertEquals(InstanceState.STOPPED, state(bed, "second"));

      // first runs and is idle: the session for second must still get second, started for it.
      HttpResponse<Buffer> cold = get(bed, "/", "_s=abc.second");
      assertEquals("second", routeOf(cold));
      assertNotNull(cold.getHeader("Server-Timing"), "the request waited for second's cold start");
      assertEquals(1, boots(bed, "second"));
      assertEquals(1, boots(bed, "first"));
      long secondPid = Long.parseLong(field(cold.bodyAsString(), "pid"));

      // Idle stop of second; the session still belongs to it.
      awaitState(bed, "second", InstanceState.STOPPED);
      TestBed.await("second's process gone", WAIT, () -> dead(secondPid));
      assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")), "first runs again, second does not");
      HttpResponse<Buffer> again = get(bed, "/", "_s=abc.second");
      assertEquals("second", routeOf(again), "stickiness survives an idle stop");
      assertNotNull(again.getHeader("Server-Timing"));
      assertNotEquals(secondPid, Long.parseLong(field(again.bodyAsString(), "pid")));
      assertEquals(2, boots(bed, "second"));
      assertEquals(2, boots(bed, "first"));
    }
  }

  // ---- balancing new sessions ----------------------------------------------------------------

  @Test
  void byRequestsNewSessionsFollowTheWeightsAndStickyRequestsAreNotCounted() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: {first: {weight: 1}, second: {weight: 3}}
        sticky: {cookie: _s}
        balance: requests
        min-running: 2
        """))) {
      awaitState(bed, "first", InstanceState.READY);
      awaitState(bed, "second", InstanceState.READY);
      List<String> routes = newSessions(bed, 40);
      assertEquals(10, count(routes, "first"), routes::toString);
      assertEquals(30, count(routes, "second"), routes::toString);

      for (int i = 0; i < 20; i++) {
        assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")));
      }
      List<String> next = newSessions(bed, 4);
      assertEquals(1, count(next, "first"), "sticky requests do not shift the 1:3 pattern: " + next);
      assertEquals(3, count(next, "second"), next::toString);
      assertEquals(1, boots(bed, "first"));
      assertEquals(1, boots(bed, "second"));
    }
  }

  @Test
  void byBusynessNewSessionsAvoidAnInstanceWithRequestsInFlight() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        balance: busyness
        min-running: 2
        """))) {
      awaitState(bed, "first", InstanceState.READY);
      awaitState(bed, "second", InstanceState.READY);
      List<Future<HttpResponse<Buffer>>> slow = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        slow.add(request(bed, "/slow?ms=3000", "_s=abc.first").send());
      }
      awaitInFlight(bed, "first", 3);
      List<String> routes = newSessions(bed, 4);
      assertEquals(List.of("second", "second", "second", "second"), routes, "first is busy");
      for (Future<HttpResponse<Buffer>> f : slow) {
        HttpResponse<Buffer> r = f.await(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals("slept=3000", r.bodyAsString().trim());
      }
      awaitInFlight(bed, "first", 0);
      awaitInFlight(bed, "second", 0);
      // Equally idle now: the tie goes to the instance picked least (first was never picked).
      assertEquals("first", routeOf(newSession(bed)), "with first idle again it gets new sessions too");
    }
  }

  @Test
  void byLatencyNewSessionsAvoidTheSlowInstance() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        balance: latency
        min-running: 2
        """))) {
      awaitState(bed, "first", InstanceState.READY);
      awaitState(bed, "second", InstanceState.READY);
      // Warm both up (a fresh JVM answers its first requests slowly), then make first slow.
      for (int i = 0; i < 3; i++) {
        assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")));
        assertEquals("second", routeOf(get(bed, "/", "_s=abc.second")));
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(200, get(bed, "/slow?ms=300", "_s=abc.first").statusCode());
      }
      awaitInFlight(bed, "first", 0); // its response time is recorded as its lease ends
      List<String> routes = newSessions(bed, 4);
      assertEquals(List.of("second", "second", "second", "second"), routes, "first answers slowly");
      // Now second becomes the slower one (at least 0.3 × 2500 ms in its average): new sessions go to first.
      assertEquals(200, get(bed, "/slow?ms=2500", "_s=abc.second").statusCode());
      awaitInFlight(bed, "second", 0);
      assertEquals("first", routeOf(newSession(bed)));
    }
  }

  @Test
  void newSessionsStayOnRunningInstancesUnderTheBusyTarget() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        """))) {
      assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")));
      List<String> routes = newSessions(bed, 10);
      assertEquals(10, count(routes, "first"), "no cold start while first has room: " + routes);
      assertEquals(0, boots(bed, "second"), "second was never spawned");
      assertEquals(InstanceState.STOPPED, state(bed, "second"));

      // The default busy-target is 8: with 8 requests in flight first still takes new sessions, with 9 it does not.
      awaitInFlight(bed, "first", 0);
      List<Future<HttpResponse<Buffer>>> slow = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        slow.add(request(bed, "/slow?ms=3000", "_s=abc.first").send());
      }
      awaitInFlight(bed, "first", 8);
      assertEquals("first", routeOf(newSession(bed)), "8 in flight is not more than busy-target 8");
      assertEquals(0, boots(bed, "second"));
      awaitInFlight(bed, "first", 8);
      slow.add(request(bed, "/slow?ms=3000", "_s=abc.first").send());
      awaitInFlight(bed, "first", 9);
      assertEquals("second", routeOf(newSession(bed)), "9 in flight is more than busy-target 8: second is started");
      assertEquals(1, boots(bed, "second"));
      for (Future<HttpResponse<Buffer>> f : slow) {
        assertEquals(200, f.await(60, TimeUnit.SECONDS).statusCode());
      }
    }
  }

  @Test
  void aStoppedInstanceIsStartedForANewSessionWhenEveryRunningOneIsOverTheBusyTarget() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: [first, second]
        sticky: {cookie: _s}
        busy-target: 0
        """))) {
      assertEquals("first", routeOf(get(bed, "/", "_s=abc.first")));
      awaitInFlight(bed, "first", 0);
      // Nothing in flight on first: 0 is not more than busy-target 0, so first takes it.
      assertEquals("first", routeOf(newSession(bed)));
      assertEquals(0, boots(bed, "second"));

      awaitInFlight(bed, "first", 0);
      Future<HttpResponse<Buffer>> slow = request(bed, "/slow?ms=2000", "_s=abc.first").send();
      awaitInFlight(bed, "first", 1);
      HttpResponse<Buffer> started = newSession(bed);
      assertEquals("second", routeOf(started), "first is over busy-target 0: second is started");
      assertNotNull(started.getHeader("Server-Timing"), "a cold start");
      assertEquals(1, boots(bed, "second"));
      assertEquals(200, slow.await(60, TimeUnit.SECONDS).statusCode());
    }
  }

  // ---- failover ------------------------------------------------------------------------------

  /** Two routes with an inserted ROUTEID cookie; route second's command always fails, then backs off for 60 s. */
  private static String secondCannotStart(boolean failover) {
    return shop(failingWhen("\"$WAKEPORT_ROUTE\" = second"), """
        routes: [first, second]
        sticky: {insert-cookie: ROUTEID}
        failover: %s
        backoff: {after: 1, within: 60s, initial: 60s, max: 60s}
        """.formatted(failover));
  }

  @Test
  void withFailoverASessionWhoseInstanceCannotStartIsServedByAnotherAndGetsItsCookie() throws Exception {
    try (TestBed bed = TestBed.start(dir, secondCannotStart(true))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> r = get(bed, "/", "ROUTEID=.second");
        assertEquals("first", routeOf(r), "served by first");
        assertEquals(List.of("ROUTEID=.first; Path=/; HttpOnly; SameSite=Lax"), setCookies(r, "ROUTEID"),
            "the session moves to first");
        awaitState(bed, "second", InstanceState.BACKOFF);
      }
      assertEquals(1, refusals(bed, "second"), "one failed start, then backoff: no spawn");
      assertEquals(0, boots(bed, "second"));
      assertEquals(1, boots(bed, "first"));
      // The moved session stays where it is now, without another cookie.
      HttpResponse<Buffer> moved = get(bed, "/", "ROUTEID=.first");
      assertEquals("first", routeOf(moved));
      assertEquals(List.of(), setCookies(moved, "ROUTEID"));
    }
  }

  @Test
  void withoutFailoverASessionWhoseInstanceCannotStartGets503WithRetryAfter() throws Exception {
    try (TestBed bed = TestBed.start(dir, secondCannotStart(false))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> r = get(bed, "/", "ROUTEID=.second");
        assertEquals(503, r.statusCode(), r::bodyAsString);
        String retryAfter = r.getHeader("Retry-After");
        assertNotNull(retryAfter, "503 says when to retry");
        int seconds = Integer.parseInt(retryAfter);
        assertTrue(seconds > 30 && seconds <= 60, "Retry-After reflects the 60 s backoff: " + seconds);
        assertEquals(List.of(), setCookies(r, "ROUTEID"));
        awaitState(bed, "second", InstanceState.BACKOFF);
      }
      assertEquals(1, refusals(bed, "second"));
      assertEquals(0, boots(bed, "first"), "nothing failed over to first");
      // New sessions are not affected: they go to first.
      assertEquals("first", routeOf(newSession(bed)));
    }
  }

  // ---- drain and standby ---------------------------------------------------------------------

  @Test
  void aDisabledInstanceGetsNoNewSessionsButKeepsItsOwn() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop("""
        routes: {first: {}, second: {disabled: true}}
        sticky: {cookie: _s}
        """))) {
      HttpResponse<Buffer> own = get(bed, "/", "_s=abc.second");
      assertEquals("second", routeOf(own), "a session on a draining instance still reaches it (and starts it)");
      // Both would otherwise be candidates; second even runs already and first does not.
      List<String> routes = newSessions(bed, 6);
      assertEquals(6, count(routes, "first"), "new sessions never go to a disabled instance: " + routes);
      assertEquals("second", routeOf(get(bed, "/", "_s=abc.second")));
      assertEquals(1, boots(bed, "second"));
    }
  }

  @Test
  void aStandbyInstanceGetsNewSessionsOnlyWhenAllOthersAreUnavailable() throws Exception {
    try (TestBed bed = TestBed.start(dir, shop(failingWhen("-e \"fail-$WAKEPORT_ROUTE\""), """
        routes: {first: {}, second: {}, third: {standby: true}}
        sticky: {cookie: _s}
        failover: false
        backoff: {after: 1, within: 60s, initial: 60s, max: 60s}
        """))) {
      // third runs (a session of its own) and first and second do not: new sessions still avoid third.
      assertEquals("third", routeOf(get(bed, "/", "_s=abc.third")));
      List<String> routes = newSessions(bed, 4);
      assertEquals(0, count(routes, "third"), "standby is avoided while others are available: " + routes);

      // first and second can no longer start; both go into backoff.
      Files.createFile(dir.resolve("fail-first"));
      Files.createFile(dir.resolve("fail-second"));
      for (String route : List.of("first", "second")) {
        bed.wakeport.supervisor().stop(instance(bed, route), "test").await(30, TimeUnit.SECONDS);
      }
      // Without failover these sessions get 503, so the new sessions below show where the balancer sends them.
      assertEquals(503, get(bed, "/", "_s=abc.first").statusCode());
      assertEquals(503, get(bed, "/", "_s=abc.second").statusCode());
      awaitState(bed, "first", InstanceState.BACKOFF);
      awaitState(bed, "second", InstanceState.BACKOFF);

      List<String> fallback = newSessions(bed, 3);
      assertEquals(List.of("third", "third", "third"), fallback, "standby takes over");
      assertEquals(1, boots(bed, "third"));
    }
  }

  // ---- config errors -------------------------------------------------------------------------

  private ConfigException configError(String tenantKeys) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "listen: 127.0.0.1:18080\nstate-dir: var\n" + shop(tenantKeys));
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(file), tenantKeys);
  }

  @Test
  void configErrorsForInstancesAndStickyKeys() throws Exception {
    // The control: the same keys, correctly used, are accepted.
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, "listen: 127.0.0.1:18080\nstate-dir: var\n" + shop("""
        routes: {first: {weight: 2}, second: {disabled: true}, third: {standby: true, port: 18881}}
        sticky: {cookie: _s, param: _s, route-pattern: '!(.*)$'}
        min-running: 3
        """));
    List<InstanceConfig> instances = ConfigLoader.check(good).tenants().get("shop").instances();
    assertEquals(List.of("first", "second", "third"), instances.stream().map(InstanceConfig::route).toList());
    assertEquals(2, instances.get(0).weight());
    assertTrue(instances.get(1).disabled());
    assertTrue(instances.get(2).standby());
    assertEquals(18881, instances.get(2).port());

    String dotted = configError("routes: [a.b, c]").getMessage();
    assertTrue(dotted.contains("tenants.shop.routes") && dotted.contains("route 'a.b' must match"), dotted);

    String both = configError("instances: 2\nroutes: [a, b]").getMessage();
    assertTrue(both.contains("give either instances or routes, not both"), both);

    String port = configError("port: 8881\nroutes: [a, b]").getMessage();
    assertTrue(port.contains("tenants.shop.port") && port.contains("gives each route its own port"), port);

    String warm = configError("routes: [a, b]\nmin-running: 3").getMessage();
    assertTrue(warm.contains("tenants.shop.min-running") && warm.contains("is 3 but the tenant has only 2 instance(s)"),
        warm);

    String pattern = configError("routes: [a, b]\nsticky: {cookie: _s, route-pattern: '!.*$'}").getMessage();
    assertTrue(pattern.contains("tenants.shop.sticky.route-pattern") && pattern.contains("must have exactly one group"),
        pattern);
  }
}
