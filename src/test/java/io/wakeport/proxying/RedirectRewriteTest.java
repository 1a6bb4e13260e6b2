package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import io.wakeport.config.ResponseRewriting;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Location-like fields on a backend's own address, or on an origin the tenant lists, reach the
 * client on the address it used; cookies for the backend's domains and paths get the public ones.
 */
class RedirectRewriteTest {

  @TempDir Path dir;

  private static RawHttp.Response get(TestBed bed, String host, String path) throws Exception {
    try (RawHttp client = new RawHttp(bed.port)) {
      return client.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").read();
    }
  }

  @Test
  void theBackendsOwnAddressBecomesTheClientsAndOthersStay() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      RawHttp.Response r = get(bed, "acme.test:8080", "/redirect-self?to=/login?next=%2Fa");
      assertEquals(302, r.status());
      assertEquals("http://acme.test:8080/login?next=%2Fa", r.header("Location"));
      assertEquals("http://acme.test:8080/login?next=%2Fa", r.header("Content-Location"));
      assertEquals("3; url=http://acme.test:8080/login?next=%2Fa", r.header("Refresh"));
      String self = r.header("X-Self");
      assertTrue(self.matches("http://127\\.0\\.0\\.1:\\d+/login\\?next=%2Fa"), "other fields stay: " + self);

      assertEquals("http://acme.test/", get(bed, "acme.test", "/redirect-self").header("Location"));
      // Another host, even on the same port, is not the backend's own address.
      RawHttp.Response away = get(bed, "acme.test", "/redirect-away");
      assertTrue(away.header("Location").startsWith("http://elsewhere.test:"), away.header("Location"));
    }
  }

  @Test
  void onlyTheBackendsOwnOriginIsRewritten() {
    ResponseRewrite own = new ResponseRewrite(8081, "http://acme.test", null, ResponseRewriting.DEFAULT);
    assertEquals("http://acme.test/x", own.rewrite("Location", "http://127.0.0.1:8081/x"));
    assertEquals("http://acme.test", own.rewrite("Location", "HTTP://LOCALHOST:8081"));
    assertEquals("http://acme.test?q", own.rewrite("URI", "https://[::1]:8081?q"));
    assertEquals("0; URL='http://acme.test/a'", own.rewrite("Refresh", "0; URL='http://127.0.0.1:8081/a'"));
    for (String stays : new String[] {"/relative", "http://127.0.0.1:8082/x", "http://127.0.0.1:80811/x",
        "http://127.0.0.1:8081.evil.test/x", "http://127.0.0.1:8081@evil.test/x", "http://127.0.0.1/x",
        "http://example.test:8081/x", "//127.0.0.1:8081/x"}) {
      assertEquals(stays, own.rewrite("Location", stays));
    }
    assertEquals("5", own.rewrite("Refresh", "5"));
    assertTrue(ResponseRewrite.applies("content-location") && ResponseRewrite.applies("Refresh"));
    assertTrue(ResponseRewrite.applies("SET-COOKIE"));
    assertTrue(!ResponseRewrite.applies("Link") && !ResponseRewrite.applies("x-location")
        && !ResponseRewrite.applies("set-cookie2") && !ResponseRewrite.applies("connection"));
  }

  @Test
  void configuredOriginsAndCookieRulesApplyAndOwnAddressCanBeTurnedOff() throws Exception {
    String extra = """
        rewrite:
          urls: [http://app.internal:8080, https://old.example.test/app/]
          cookie-domain: {app.internal: example.test, localhost: acme.test}
          cookie-path: {/app/: /, /account: /my/account}
        """;
    String noOwn = """
          plain:
            hosts: [plain.test]
            command: %s
            rewrite: {own-address: false}
        """.formatted(TestBed.demoCommand());
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(extra) + noOwn)) {
      assertEquals("http://acme.test/login", redirectTo(bed, "acme.test", "http://app.internal:8080/login"));
      assertEquals("http://acme.test", redirectTo(bed, "acme.test", "HTTP://App.Internal:8080"));
      assertEquals("http://acme.test/x?y", redirectTo(bed, "acme.test", "https://old.example.test/app/x?y"));
      assertEquals("http://acme.test?q", redirectTo(bed, "acme.test", "https://old.example.test:443/app?q"));
      for (String stays : new String[] {"http://app.internal/login", "https://app.internal:8080/login",
          "http://old.example.test/app/x", "https://old.example.test/apple", "https://old.example.test/x",
          "http://app.internal:8080.evil.test/", "http://app.internal:8080@evil.test/", "/login"}) {
        assertEquals(stays, redirectTo(bed, "acme.test", stays), "stays as it is");
      }
      RawHttp.Response refresh = get(bed, "acme.test", "/redirect-to?url=" + encode("http://app.internal:8080/a"));
      assertEquals("0; url=http://acme.test/a", refresh.header("Refresh"));
      assertEquals("http://acme.test/a", refresh.header("URI"));

      assertEquals(List.of(
          "own=1; Path=/",
          "scoped=2;path=/my/account ; HttpOnly",
          "internal=\"a=b\"; DOMAIN=example.test; PATH=/x; Secure",
          "plain=4",
          "dated=5; Expires=Wed, 09 Jun 2027 10:18:14 GMT; domain=acme.test; SameSite=Lax",
          "other=6; Domain=example.test; Path=relative"), get(bed, "acme.test", "/cookies").all("Set-Cookie"));

      // own-address: false: the backend's own address and cookie domains reach the client as written.
      String self = get(bed, "plain.test", "/redirect-self").header("Location");
      assertTrue(self.matches("http://127\\.0\\.0\\.1:\\d+/"), self);
      List<String> cookies = get(bed, "plain.test", "/cookies").all("Set-Cookie");
      assertEquals("own=1; Domain=127.0.0.1; Path=/", cookies.get(0));
      assertEquals("dated=5; Expires=Wed, 09 Jun 2027 10:18:14 GMT; domain=localhost; SameSite=Lax", cookies.get(4));
    }
  }

  @Test
  void byDefaultACookieForTheBackendsOwnHostLosesItsDomainAndNothingElseChanges() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      assertEquals(List.of(
          "own=1; Path=/",
          "scoped=2;path=/account ; HttpOnly",
          "internal=\"a=b\"; DOMAIN=.App.Internal; PATH=/app/x; Secure",
          "plain=4",
          "dated=5; Expires=Wed, 09 Jun 2027 10:18:14 GMT; SameSite=Lax",
          "other=6; Domain=example.test; Path=relative"), get(bed, "acme.test", "/cookies").all("Set-Cookie"));
      assertEquals("http://app.internal:8080/x", redirectTo(bed, "acme.test", "http://app.internal:8080/x"),
          "no origin but the backend's own is rewritten unless listed");
    }
  }

  private static String encode(String url) {
    return URLEncoder.encode(url, StandardCharsets.UTF_8);
  }

  private static String redirectTo(TestBed bed, String host, String url) throws Exception {
    return get(bed, host, "/redirect-to?url=" + encode(url)).header("Location");
  }
}
