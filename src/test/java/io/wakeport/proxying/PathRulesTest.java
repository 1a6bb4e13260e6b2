package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.ConfigProblem;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-path rules: one site (tenant shop on Host shop.test, routes a, b and c) split by path
 * prefix, some paths served by another tenant (media) under another path, some by a subset of
 * shop's own routes. Real wakeport, real demo backends, raw sockets for what a browser never sends.
 */
class PathRulesTest {

  @TempDir Path dir;

  private static final String SHOP = "shop.test";
  private static final String QUICK = "watch: {quiet: 200ms}\n";

  /** shop with routes a, b, c (an inserted ROUTEID cookie names one) and {@code rules}; media on media.test. */
  private static String shopAndMedia(String rules) {
    return """
        tenants:
          shop:
            hosts: [shop.test]
            command: %1$s
            routes: [a, b, c]
            sticky: {insert-cookie: ROUTEID}
        %2$s
          media:
            hosts: [media.test]
            command: %1$s
        """.formatted(demoCommand(), rules.indent(4));
  }

  /** The rules most tests use: the longest prefix decides between /static/ and /static/fonts/. */
  private static final String RULES = """
      rules:
        - path: /static/
          tenant: media
          to: /media/
        - path: /static/fonts/
          routes: [c]
        - path: /api
          routes: [b, c]
      """;

  private static HttpResponse<Buffer> get(TestBed bed, String path, String cookie) throws Exception {
    HttpRequest<Buffer> request = bed.request(HttpMethod.GET, SHOP, path);
    if (cookie != null) {
      request.putHeader("Cookie", cookie);
    }
    HttpResponse<Buffer> response = request.send().await(60, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode(), () -> path + ": " + response.bodyAsString());
    return response;
  }

  /** Tenant and route of the demo backend that answered, and the path it was sent: "media//media/a.css". */
  private static String servedBy(HttpResponse<Buffer> response) {
    String body = response.bodyAsString();
    return field(body, "tenant") + "/" + field(body, "route") + field(body, "path");
  }

  private static boolean spawned(TestBed bed, String stem) {
    return Files.exists(bed.dir.resolve("var/logs/" + stem + ".log"));
  }

  private static RawHttp.Response raw(TestBed bed, String target) throws Exception {
    try (RawHttp http = new RawHttp(bed.port)) {
      return http.send("GET " + target + " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n").read();
    }
  }

  // ---- where requests go ---------------------------------------------------------------------

  @Test
  void aStaticPathIsServedByTheMediaTenantUnderItsOwnPathAndStartsOnlyMedia() throws Exception {
    Path accessLog = dir.resolve("access.log");
    try (TestBed bed = TestBed.start(dir, "access-log: {format: json, file: access.log}\n" + shopAndMedia(RULES))) {
      HttpResponse<Buffer> css = get(bed, "/static/a.css?v=1", null);
      assertEquals("media//media/a.css?v=1", servedBy(css), "the prefix mapped, the rest and the query kept");
      assertTrue(css.getHeader("Server-Timing").startsWith("cold-start"), "media was started for it");
      assertEquals("media//media/", servedBy(get(bed, "/static/", null)));
      assertEquals(1, bed.spawnCount("media"));
      for (String route : List.of("a", "b", "c")) {
        assertFalse(spawned(bed, "shop@" + route), "no instance of shop was started for media's paths: " + route);
      }
      // The answer is media's: its instance, its meters and its name in the access log; the host and
      // the URI say which site it was asked of.
      TestBed.await("two access log lines", Duration.ofSeconds(10), () -> lineCount(accessLog) >= 2);
      String line = TestBed.lines(accessLog).get(0);
      assertTrue(line.contains("\"tenant\":\"media\"") && line.contains("\"host\":\"shop.test:")
          && line.contains("\"uri\":\"/static/a.css?v=1\""), line);
    }
  }

  @Test
  void aRulesTenantsRedirectsComeBackUnderThePublicPrefix() throws Exception {
    String rules = """
        rules:
          - path: /go/
            tenant: media
            to: /
        """;
    try (TestBed bed = TestBed.start(dir, shopAndMedia(rules))) {
      // media believes it is at "/": its "/login" is the client's "/go/login", its own address too.
      HttpResponse<Buffer> login = bed.request(HttpMethod.GET, SHOP, "/go/redirect-to?url=/login").followRedirects(false).send()
          .await(60, TimeUnit.SECONDS);
      assertEquals(302, login.statusCode(), login::bodyAsString);
      assertEquals("/go/login", login.getHeader("Location"));
      HttpResponse<Buffer> self = bed.request(HttpMethod.GET, SHOP, "/go/redirect-self?to=/account").followRedirects(false).send()
          .await(60, TimeUnit.SECONDS);
      assertEquals("http://shop.test:" + bed.port + "/go/account", self.getHeader("Location"));
      // A path outside what the rule maps is left as the backend wrote it.
      HttpResponse<Buffer> away = bed.request(HttpMethod.GET, SHOP, "/go/redirect-to?url=https%3A%2F%2Fother.test%2Fx")
          .followRedirects(false).send().await(60, TimeUnit.SECONDS);
      assertEquals("https://other.test/x", away.getHeader("Location"));
    }
  }

  @Test
  void anApiPathIsBalancedAndStuckAmongItsRoutesOnly() throws Exception {
    try (TestBed bed = TestBed.start(dir, shopAndMedia(RULES))) {
      Set<String> routes = new HashSet<>();
      String cookie = null;
      for (int i = 0; i < 6; i++) {
        HttpResponse<Buffer> api = get(bed, "/api/orders/" + i, null);
        String route = field(api.bodyAsString(), "route");
        routes.add(route);
        assertEquals(List.of("ROUTEID=." + route + "; Path=/; HttpOnly; SameSite=Lax"), api.cookies().stream()
            .filter(c -> c.startsWith("ROUTEID=")).toList(), "a new session is given its route");
        cookie = "ROUTEID=." + route;
      }
      assertTrue(Set.of("b", "c").containsAll(routes), "only b and c serve /api: " + routes);
      assertEquals("shop/" + field(cookie, "ROUTEID").substring(1) + "/api/orders/9",
          servedBy(get(bed, "/api/orders/9", cookie)), "a session on b or c stays there");
      // A session on c stays on c; one on a is balanced among b and c, and stuck to its new route.
      for (int i = 0; i < 3; i++) {
        assertEquals("shop/c/api", servedBy(get(bed, "/api", "ROUTEID=.c")));
      }
      HttpResponse<Buffer> moved = get(bed, "/api/cart", "ROUTEID=.a");
      String route = field(moved.bodyAsString(), "route");
      assertTrue(route.equals("b") || route.equals("c"), route);
      assertTrue(moved.cookies().contains("ROUTEID=." + route + "; Path=/; HttpOnly; SameSite=Lax"), moved.cookies()::toString);
      assertFalse(spawned(bed, "shop@a"), "a never served /api");
      // Outside /api the session named a goes to a, as any session of the tenant does.
      assertEquals("shop/a/apix", servedBy(get(bed, "/apix", "ROUTEID=.a")), "/api matches whole segments only");
    }
  }

  @Test
  void failoverForARulesPathStaysAmongItsRoutes() throws Exception {
    // b and c cannot start (their shell exits 3); a can. /api is theirs alone.
    String failing = "[sh, -c, 'if [ \"$WAKEPORT_ROUTE\" != a ]; then echo \"refusing $WAKEPORT_ROUTE\"; exit 3; fi; "
        + "exec \"$0\" -cp \"$1\" DemoBackend --port \"$PORT\" --tenant shop', \"" + TestBed.JAVA + "\", \""
        + TestBed.CLASSES + "\"]";
    String config = """
        tenants:
          shop:
            hosts: [shop.test]
            command: %s
            routes: [a, b, c]
            sticky: {insert-cookie: ROUTEID}
            rules:
              - {path: /api, routes: [b, c]}
        """.formatted(failing);
    try (TestBed bed = TestBed.start(dir, config)) {
      HttpResponse<Buffer> api = bed.request(HttpMethod.GET, SHOP, "/api/x").putHeader("Cookie", "ROUTEID=.b")
          .send().await(60, TimeUnit.SECONDS);
      assertEquals(503, api.statusCode(), api::bodyAsString);
      assertFalse(spawned(bed, "shop@a"), "b failed over to c, never to a");
      assertTrue(Files.readString(bed.dir.resolve("var/logs/shop@c.log")).contains("refusing c"), "c was tried");
      // Outside the rule, the same session fails over to a, as the tenant's failover does.
      assertEquals("shop/a/x", servedBy(get(bed, "/x", "ROUTEID=.b")));
    }
  }

  @Test
  void theLongestPrefixWinsAndNoOtherPathMatches() throws Exception {
    try (TestBed bed = TestBed.start(dir, shopAndMedia(RULES))) {
      assertEquals("shop/c/static/fonts/x.woff", servedBy(get(bed, "/static/fonts/x.woff", "ROUTEID=.a")),
          "/static/fonts/ is longer than /static/: c serves it, path unchanged");
      assertEquals("media//media/fonts", servedBy(get(bed, "/static/fonts", null)), "/static/fonts/ needs its slash");
      assertEquals("shop/b/api;v=1", servedBy(get(bed, "/api;v=1", "ROUTEID=.b")), "a segment's parameters");
      // Not a rule's: shop's session on a serves them.
      for (String path : List.of("/staticfoo", "/static", "/STATIC/a.css", "/", "/x/static/a.css")) {
        assertEquals("shop/a" + path, servedBy(get(bed, path, "ROUTEID=.a")), path);
      }
      // media's own site has no rules: its paths go to it unchanged.
      HttpResponse<Buffer> own = bed.get("media.test", "/static/a.css");
      assertEquals("media//static/a.css", servedBy(own));
    }
  }

  @Test
  void aWebSocketUnderARulesPathIsOpenedOnTheRulesTenantWithTheMappedPath() throws Exception {
    String config = """
        tenants:
          shop:
            hosts: [shop.test]
            command: %s
            rules:
              - {path: /live/, tenant: feed, to: /socket/}
          feed:
            hosts: [feed.test]
            command: ["%s", -cp, "%s", io.wakeport.testing.WebSocketBackend, "${port}"]
        """.formatted(demoCommand(), TestBed.JAVA, System.getProperty("java.class.path"));
    try (TestBed bed = TestBed.start(dir, config)) {
      // Held in a variable: an unreachable WebSocketClient is cleaned up, connections and all.
      io.vertx.core.http.WebSocketClient client = bed.vertx.createWebSocketClient();
      io.vertx.core.http.WebSocket ws = client.connect(new io.vertx.core.http.WebSocketConnectOptions()
          .setHost("127.0.0.1").setPort(bed.port).setURI("/live/prices?since=5").putHeader("Host", SHOP))
          .await(60, TimeUnit.SECONDS);
      io.vertx.core.Promise<String> answer = io.vertx.core.Promise.promise();
      ws.textMessageHandler(answer::tryComplete);
      ws.writeTextMessage("path?");
      assertEquals("/socket/prices?since=5", answer.future().await(20, TimeUnit.SECONDS));
      ws.close().await(10, TimeUnit.SECONDS);
      client.close();
      assertFalse(spawned(bed, "shop"), "shop was not started for feed's socket");
    }
  }

  // ---- what an attacker sends ----------------------------------------------------------------

  @Test
  void pathsABackendCouldReadAsAnotherAreRefusedBeforeAnyRuleIsApplied() throws Exception {
    try (LogCapture limits = new LogCapture("io.wakeport.frontdoor.LimitLog");
        TestBed bed = TestBed.start(dir, shopAndMedia(RULES))) {
      List<String> targets = List.of(
          "/static/../admin", "/static/./a.css", "/static/%2e%2e/admin", "/static/.%2E/admin", "/static/..%2Fadmin",
          "/static%2F..%2Fadmin", "/static/..;/admin", "/static/..;x=1/admin", "/static\\..\\admin",
          "/static/%5c../admin", "/%73tatic/a.css", "/st%61tic/a.css", "/x/../static/a.css", "/api/..",
          "/x/../api/", "/static/a.css/..", "http://shop.test/static/../admin");
      for (String target : targets) {
        RawHttp.Response response = raw(bed, target);
        assertEquals(400, response.status(), target + ": " + response.bodyText());
        assertFalse(response.bodyText().contains("admin"), "the page never echoes the path");
      }
      assertTrue(limits.contains("ambiguous-path: tenant shop"), limits.messages()::toString);
      assertEquals(0, bed.spawnCount("media"), "nothing reached media");
      for (String route : List.of("a", "b", "c")) {
        assertFalse(spawned(bed, "shop@" + route), "nothing reached shop@" + route);
      }
      // Dots and escapes that change nothing are still served: a file name, a UTF-8 escape, %2D-free names.
      assertEquals("media//media/.well-known/x..y", servedBy(get(bed, "/static/.well-known/x..y", null)));
      assertEquals("media//media/caf%C3%A9%20menu", servedBy(get(bed, "/static/caf%C3%A9%20menu", null)));
      // A tenant without rules is as it was: its backend resolves the dots itself.
      HttpResponse<Buffer> plain = bed.request(HttpMethod.GET, "media.test", "/a/../b").send().await(60, TimeUnit.SECONDS);
      assertEquals(200, plain.statusCode());
    }
  }

  // ---- the config ----------------------------------------------------------------------------

  @Test
  void ruleProblemsNameTheirFileLineAndKey() throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        defaults:
          command: [app]
        tenants:
          shop:
            hosts: [shop.test]
            routes: [a, b]
            rules:
              - path: /api/
                routes: [a, z]
              - path: static
                routes: [a]
              - path: /both/
                tenant: media
                routes: [a]
              - path: /neither/
              - path: /self/
                tenant: shop
              - path: /mapped/
                tenant: media
                to: media/
              - path: /api/
                routes: [b]
              - path: /slash/
                tenant: media
                to: /media
              - path: /a/../b/
                routes: [a]
          media:
            hosts: [media.test]
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 5
            rules:
              - {path: /x/, tenant: media}
        """);
    List<ConfigProblem> problems = problems(file);
    String r = "tenants.shop.rules";
    assertProblem(problems, r + "[0].routes", 10, "'z' is not a route of tenant shop (its routes: a, b)");
    assertProblem(problems, r + "[1].path", 11, "must start with /");
    assertProblem(problems, r + "[2]", 13, "exactly one of tenant");
    assertProblem(problems, r + "[3]", 16, "exactly one of tenant");
    assertProblem(problems, r + "[4].tenant", 18, "is this tenant itself");
    assertProblem(problems, r + "[5].to", 21, "must start with /");
    assertProblem(problems, r + "[6].path", 22, "already the path of " + r + "[0]");
    assertProblem(problems, r + "[7].to", 26, "must end with / exactly when path does");
    assertProblem(problems, r + "[8].path", 27, "is not a path prefix");
    assertProblem(problems, "tenants.apps.rules", 35, "a template's tenants have no rules");

    // What only the whole map tells, once each tenant's own entry is sound.
    Files.writeString(file, """
        listen: 127.0.0.1:18080
        defaults:
          command: [app]
        tenants:
          shop:
            hosts: [shop.test]
            rules:
              - path: /static/
                tenant: nobody
              - path: /apps/
                tenant: apps
              - path: /media/
                tenant: media
          media:
            hosts: [media.test]
            rules:
              - {path: /shop/, tenant: shop}
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 5
        """);
    problems = problems(file);
    assertProblem(problems, r + "[0].tenant", 9, "'nobody' is not a configured tenant");
    assertProblem(problems, r + "[1].tenant", 11, "'apps' is a template");
    assertProblem(problems, r + "[2].tenant", 13, "tenant media has a rule of its own that sends requests back to shop");
    assertProblem(problems, "tenants.media.rules[0].tenant", 17, "sends requests back to media");
    assertEquals(4, problems.size(), problems::toString);
    assertTrue(problems.stream().allMatch(p -> p.file().equals(file.toAbsolutePath().normalize())), problems::toString);

    // A rule in an included file is reported at its own file and line.
    Path included = Files.createDirectories(dir.resolve("tenants.d")).resolve("shop.yaml");
    Files.writeString(included, "tenants:\n  shop:\n    hosts: [shop.test]\n    rules:\n      - path: /x/\n        tenant: nobody\n");
    Files.writeString(file, "listen: 127.0.0.1:18080\ndefaults:\n  command: [app]\ninclude: [tenants.d/*.yaml]\n");
    ConfigProblem there = problems(file).get(0);
    assertEquals(included.toAbsolutePath().normalize(), there.file(), there::toString);
    assertEquals(6, there.line(), there::toString);
    assertEquals(r + "[0].tenant", there.key());

    Files.writeString(file, "listen: 127.0.0.1:18080\ndefaults:\n  command: [app]\n  rules: [{path: /x/, tenant: a}]\n"
        + "tenants:\n  a:\n    hosts: [a.test]\n");
    ConfigProblem inherited = problems(file).get(0);
    assertEquals("defaults.rules", inherited.key(), "rules name tenants: they are never inherited");
    assertEquals(4, inherited.line());
  }

  private static List<ConfigProblem> problems(Path file) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
  }

  private static void assertProblem(List<ConfigProblem> problems, String key, int line, String text) {
    ConfigProblem problem = problems.stream().filter(p -> key.equals(p.key())).findFirst()
        .orElseThrow(() -> new AssertionError("no problem with key " + key + " in:\n" + problems));
    assertEquals(line, problem.line(), problem::toString);
    assertTrue(problem.message().contains(text), problem::toString);
  }

  @Test
  void aReloadAddsARuleWithoutARestartAndRemovingItsTenantIsRefused() throws Exception {
    try (LogCapture logs = new LogCapture(Wakeport.class);
        TestBed bed = TestBed.start(dir, QUICK + shopAndMedia(""))) {
      bed.wakeport.watchConfig();
      HttpResponse<Buffer> before = get(bed, "/static/a.css", "ROUTEID=.a");
      assertEquals("shop/a/static/a.css", servedBy(before));
      String pid = field(before.bodyAsString(), "pid");
      bed.rewrite(QUICK + shopAndMedia(RULES));
      TestBed.await("the rule applied", Duration.ofSeconds(10),
          () -> servedBy(getQuietly(bed, "/static/a.css")).equals("media//media/a.css"));
      HttpResponse<Buffer> other = get(bed, "/other", "ROUTEID=.a");
      assertEquals(pid, field(other.bodyAsString(), "pid"), "shop kept running: no restart");

      // media removed while shop's rule still names it: not applied, the running map kept.
      String withoutMedia = QUICK + shopAndMedia(RULES).substring(0, shopAndMedia(RULES).indexOf("  media:"));
      bed.rewrite(withoutMedia);
      TestBed.await("the problem logged", Duration.ofSeconds(10),
          () -> logs.contains("tenants.shop.rules[0].tenant: 'media' is not a configured tenant"));
      assertTrue(logs.messages().stream().anyMatch(m -> m.matches(".*wakeport\\.yaml:\\d+: tenants\\.shop\\.rules\\[0]"
          + "\\.tenant: 'media' is not a configured tenant.*")), logs.messages()::toString);
      assertEquals("media//media/b.css", servedBy(get(bed, "/static/b.css", null)));
      assertEquals(200, bed.get("media.test", "/").statusCode(), "media still routable");
    }
  }

  private static int lineCount(Path file) {
    try {
      return TestBed.lines(file).size();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static HttpResponse<Buffer> getQuietly(TestBed bed, String path) {
    try {
      return get(bed, path, null);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
