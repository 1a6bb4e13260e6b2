package io.wakeport.admin;

import static io.wakeport.testing.TestBed.demoCommand;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console over plain HTTP: its login and session cookie, the CSRF token its forms carry,
 * escaping, and the list's paging, sorting and filtering on a config of thousands of tenants.
 * {@link ConsoleBrowserTest} drives the same pages in a real browser.
 */
class ConsoleTest {

  @TempDir Path dir;

  private static HttpRequest<Buffer> admin(TestBed bed, HttpMethod method, String path) {
    return bed.client.request(method, bed.adminPort, "127.0.0.1", path).followRedirects(false);
  }

  private static String token(TestBed bed) throws Exception {
    return Files.readString(bed.dir.resolve("var/admin.token")).trim();
  }

  /** Logs in with the token; answers the session cookie ({@code name=value}). */
  private static String login(TestBed bed) throws Exception {
    HttpResponse<Buffer> r = admin(bed, HttpMethod.POST, "/console/login")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", token(bed)).add("next", "/console/config"))
        .await(30, TimeUnit.SECONDS);
    assertEquals(303, r.statusCode(), r::bodyAsString);
    assertEquals("/console/config", r.getHeader("Location"));
    String setCookie = r.cookies().stream().filter(c -> c.startsWith(AdminAuth.SESSION_COOKIE + "=")).findFirst()
        .orElseThrow();
    String lower = setCookie.toLowerCase();
    assertTrue(lower.contains("httponly"), setCookie);
    assertTrue(lower.contains("samesite=strict"), setCookie);
    assertFalse(lower.contains("secure"), "plain http: no Secure flag, or the browser would drop it: " + setCookie);
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  private static HttpResponse<Buffer> get(TestBed bed, String cookie, String path) throws Exception {
    return admin(bed, HttpMethod.GET, path).putHeader("Cookie", cookie).send().await(30, TimeUnit.SECONDS);
  }

  private static String csrf(String html) {
    Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
    assertTrue(m.find(), "a form with the CSRF token");
    return m.group(1);
  }

  @Test
  void loginSessionCsrfAndLogout() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""), true)) {
      HttpResponse<Buffer> anonymous = admin(bed, HttpMethod.GET, "/console/tenants/acme").send()
          .await(30, TimeUnit.SECONDS);
      assertEquals(303, anonymous.statusCode(), "a console page without a session goes to the login page");
      assertEquals("/console/login?next=%2Fconsole%2Ftenants%2Facme", anonymous.getHeader("Location"));
      assertEquals(303, admin(bed, HttpMethod.GET, "/").send().await(30, TimeUnit.SECONDS).statusCode());
      assertEquals(401, admin(bed, HttpMethod.GET, "/api/tenants").send().await(30, TimeUnit.SECONDS).statusCode(),
          "the API still answers 401");
      HttpResponse<Buffer> page = admin(bed, HttpMethod.GET, "/console/login").send().await(30, TimeUnit.SECONDS);
      assertEquals(200, page.statusCode());
      assertTrue(page.bodyAsString().contains("name=\"token\""));
      assertNotNull(page.getHeader("Content-Security-Policy"));

      HttpResponse<Buffer> wrong = admin(bed, HttpMethod.POST, "/console/login")
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", "nope")).await(30, TimeUnit.SECONDS);
      assertEquals(401, wrong.statusCode());
      assertTrue(wrong.cookies().isEmpty());
      assertEquals(403, admin(bed, HttpMethod.POST, "/console/login").putHeader("Origin", "http://evil.example")
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", token(bed))).await(30, TimeUnit.SECONDS)
          .statusCode(), "a login form on another site is refused");
      HttpResponse<Buffer> offsite = admin(bed, HttpMethod.POST, "/console/login")
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", token(bed)).add("next", "//evil.example/x"))
          .await(30, TimeUnit.SECONDS);
      assertEquals("/console/", offsite.getHeader("Location"), "login never sends the browser elsewhere");

      String cookie = login(bed);
      HttpResponse<Buffer> list = get(bed, cookie, "/console/");
      assertEquals(200, list.statusCode());
      assertTrue(list.bodyAsString().contains("data-instance=\"acme/\""), list::bodyAsString);
      assertFalse(list.bodyAsString().contains("/console/cluster"), "a single machine: no cluster link");
      assertFalse(list.bodyAsString().contains("ELSEWHERE"), list::bodyAsString);
      assertEquals(404, get(bed, cookie, "/console/cluster").statusCode(), "nor a cluster page");
      assertEquals(200, get(bed, cookie, "/api/tenants").statusCode(), "the session reads the API too");

      HttpResponse<Buffer> noCsrf = admin(bed, HttpMethod.POST, "/console/tenants/acme/start").putHeader("Cookie", cookie)
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("back", "/console/")).await(30, TimeUnit.SECONDS);
      assertEquals(403, noCsrf.statusCode(), "a cookie is sent on its own: a POST needs the CSRF token");
      assertEquals("csrf", noCsrf.bodyAsJsonObject().getString("error"));
      assertEquals(403, admin(bed, HttpMethod.POST, "/api/tenants/acme/start").putHeader("Cookie", cookie).send()
          .await(30, TimeUnit.SECONDS).statusCode(), "the API's actions too");
      assertTrue(bed.wakeport.supervisor().instance("acme", "") == null, "nothing was started");

      String csrf = csrf(list.bodyAsString());
      HttpResponse<Buffer> started = admin(bed, HttpMethod.POST, "/console/tenants/acme/start")
          .putHeader("Cookie", cookie).sendForm(MultiMap.caseInsensitiveMultiMap().add("csrf", csrf)
              .add("back", "/console/?q=acme")).await(60, TimeUnit.SECONDS);
      assertEquals(303, started.statusCode(), started::bodyAsString);
      assertTrue(started.getHeader("Location").startsWith("/console/?q=acme&ok="), started.getHeader("Location"));
      assertEquals(InstanceState.READY, bed.wakeport.supervisor().instance("acme", "").state());
      HttpResponse<Buffer> refused = admin(bed, HttpMethod.POST, "/console/tenants/acme/drain")
          .putHeader("Cookie", cookie).sendForm(MultiMap.caseInsensitiveMultiMap().add("csrf", csrf)
              .add("back", "https://evil.example/")).await(60, TimeUnit.SECONDS);
      assertTrue(refused.getHeader("Location").startsWith("/console/?error="), "a refusal is shown, and back stays "
          + "in the console: " + refused.getHeader("Location"));

      assertEquals(303, admin(bed, HttpMethod.POST, "/console/logout").putHeader("Cookie", cookie)
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("csrf", csrf)).await(30, TimeUnit.SECONDS).statusCode());
      assertEquals(303, get(bed, cookie, "/console/").statusCode(), "logged out: the session is gone");
    }
  }

  @Test
  void aTenantPageEscapesWhatItShowsAndShowsWhereEachKeyWasRead() throws Exception {
    String body = TestBed.acmeTenant("idle-timeout: 5m", "--route", "<script>alert(1)</script>");
    try (TestBed bed = TestBed.start(dir, body, true)) {
      String cookie = login(bed);
      String page = get(bed, cookie, "/console/tenants/acme").bodyAsString();
      assertFalse(page.contains("<script>alert(1)"), "markup from the config is text");
      assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), page);
      assertTrue(page.contains(bed.configFile.toAbsolutePath() + ":"), "file:line of the keys: " + page);
      assertTrue(Pattern.compile("<th>idle-timeout</th><td><code>5m</code></td><td class=\"where\">[^<]*wakeport.yaml:\\d+")
          .matcher(page).find(), page);
      assertEquals(404, get(bed, cookie, "/console/tenants/nobody").statusCode());
      String config = get(bed, cookie, "/console/config?check=1").bodyAsString();
      assertTrue(config.contains("id=\"check-result\""), config);
      assertTrue(config.contains(bed.configFile.toAbsolutePath().toString()));
    }
  }

  @Test
  void theListPagesSortsAndFiltersThousandsOfTenants() throws Exception {
    StringBuilder body = new StringBuilder("defaults:\n  ports: 40000-44999\ntenants:\n");
    int count = 3000;
    for (int i = 1; i <= count; i++) {
      body.append("  t").append(String.format("%04d", i)).append(":\n    hosts: [t").append(i)
          .append(".test]\n    command: ").append(demoCommand()).append('\n');
    }
    try (TestBed bed = TestBed.start(dir, body.toString(), true)) {
      String cookie = login(bed);
      HttpResponse<Buffer> page = get(bed, cookie, "/console/rows?sort=name&dir=asc&page=2&size=100");
      assertEquals(200, page.statusCode());
      List<String> names = names(page.bodyAsString());
      assertEquals(100, names.size());
      assertEquals("t0101", names.get(0));
      assertEquals("t0200", names.get(99));
      assertTrue(page.bodyAsString().contains("Instances 101–200 of 3000"), page::bodyAsString);

      List<String> last = names(get(bed, cookie, "/console/rows?sort=name&dir=desc&size=25").bodyAsString());
      assertEquals("t3000", last.get(0));
      List<String> found = names(get(bed, cookie, "/console/rows?q=t129").bodyAsString());
      assertEquals(11, found.size(), "t1290 to t1299 by name, t0129 by host: " + found);
      assertEquals(List.of("t0129", "t1290"), found.subList(0, 2));
      assertEquals(List.of("t0007"), names(get(bed, cookie, "/console/rows?q=t7.test").bodyAsString()),
          "the filter matches hosts too");
      assertEquals(0, names(get(bed, cookie, "/console/rows?state=READY").bodyAsString()).size());
      assertEquals(List.of("t3000"), names(get(bed, cookie, "/console/rows?size=100&page=999").bodyAsString())
          .subList(99, 100), "a page past the end shows the last");

      // Not a timed assertion: how long a full page takes on this machine, for the record.
      long began = System.nanoTime();
      int rounds = 20;
      for (int i = 0; i < rounds; i++) {
        assertEquals(200, get(bed, cookie, "/console/?sort=port&dir=desc&page=7&size=100").statusCode());
      }
      System.out.printf("console list, %d tenants, page of 100 sorted by port: %.1f ms a page%n", count,
          (System.nanoTime() - began) / 1e6 / rounds);
    }
  }

  private static List<String> names(String html) {
    Matcher m = Pattern.compile("data-instance=\"([^\"/]+)/").matcher(html);
    List<String> names = new java.util.ArrayList<>();
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
