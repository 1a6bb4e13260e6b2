package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * strip-prefix end to end: an app that does not know its public prefix gets requests without it,
 * told by X-Forwarded-Prefix, and its redirects and cookies come back under it.
 */
class PathPrefixTest {

  @TempDir Path dir;

  /** /legacy → a demo backend that knows nothing of /legacy; the same tenant also on a Host of its own. */
  private static String legacy(String extra) {
    return """
        tenants:
          legacy:
            hosts: [legacy.test]
            paths: [/legacy]
            strip-prefix: true
            command: %s
        %s""".formatted(TestBed.demoCommand(), extra.indent(4));
  }

  private static RawHttp.Response get(TestBed bed, String host, String target, String... fields) throws Exception {
    try (RawHttp client = new RawHttp(bed.port)) {
      return client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + String.join("", fields)
          + "Connection: close\r\n\r\n").read();
    }
  }

  private static String path(RawHttp.Response r) {
    return TestBed.field(r.bodyText(), "path");
  }

  private static String redirectTo(TestBed bed, String url) throws Exception {
    return get(bed, "front.test", "/legacy/redirect-to?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .header("Location");
  }

  @Test
  void theAppGetsThePathWithoutItsPrefixAndIsToldThePrefix() throws Exception {
    try (TestBed bed = TestBed.start(dir, legacy(""))) {
      assertEquals("/x?q=1", path(get(bed, "front.test", "/legacy/x?q=1")));
      assertEquals("/", path(get(bed, "front.test", "/legacy")), "the token alone is the app's root");
      assertEquals("/?q=1", path(get(bed, "front.test", "/legacy?q=1")));
      assertEquals("/", path(get(bed, "front.test", "/legacy/")));
      // A parameter on the token's segment stays with the segment that replaces it: the app's root.
      assertEquals("/;jsessionid=1/x", path(get(bed, "front.test", "/legacy;jsessionid=1/x")));
      // Only a whole segment is a token: /legacyx is no tenant's.
      assertEquals(404, get(bed, "front.test", "/legacyx/y").status());

      String headers = get(bed, "front.test", "/legacy/headers", "X-Forwarded-Prefix: /evil\r\n",
          "x_forwarded_prefix: /evil2\r\n").bodyText();
      assertEquals("/legacy", TestBed.field(headers.replace(": ", "="), "x-forwarded-prefix"),
          "the matched token, not the client's: " + headers);
      assertEquals(1, headers.lines().filter(l -> l.contains("prefix")).count(), headers);

      // Reached by its Host, the tenant's root is the host's root: nothing is stripped or claimed.
      assertEquals("/legacy/x", path(get(bed, "legacy.test", "/legacy/x")));
      String byHost = get(bed, "legacy.test", "/headers", "X-Forwarded-Prefix: /evil\r\n").bodyText();
      assertEquals(0, byHost.lines().filter(l -> l.contains("prefix")).count(), byHost);
    }
  }

  @Test
  void behindATrustedProxyItsPrefixComesFirstAndItsSchemeIsTheClients() throws Exception {
    String body = "proxy:\n  trust-forwarded-headers: true\n" + legacy("");
    try (TestBed bed = TestBed.start(dir, body)) {
      String headers = get(bed, "front.test", "/legacy/headers", "X-Forwarded-Prefix: /outer/\r\n").bodyText();
      assertEquals("/outer/legacy", TestBed.field(headers.replace(": ", "="), "x-forwarded-prefix"), headers);
      // Behind a TLS terminator the client's origin is https: a redirect must not downgrade it.
      assertEquals("https://front.test/legacy/login", get(bed, "front.test", "/legacy/redirect-self?to=/login",
          "X-Forwarded-Proto: https\r\n").header("Location"));
    }
  }

  @Test
  void redirectsAndCookiesComeBackUnderThePrefix() throws Exception {
    try (TestBed bed = TestBed.start(dir, legacy("rewrite: {urls: [http://app.internal:8080]}"))) {
      RawHttp.Response self = get(bed, "front.test:8080", "/legacy/redirect-self?to=/login?next=%2Fa");
      assertEquals("http://front.test:8080/legacy/login?next=%2Fa", self.header("Location"));
      assertEquals("http://front.test:8080/legacy/login?next=%2Fa", self.header("Content-Location"));
      assertEquals("3; url=http://front.test:8080/legacy/login?next=%2Fa", self.header("Refresh"));
      assertEquals("http://front.test/legacy/", get(bed, "front.test", "/legacy/redirect-self").header("Location"));

      RawHttp.Response root = get(bed, "front.test", "/legacy/redirect-to?url=%2Flogin");
      assertEquals("/legacy/login", root.header("Location"));
      assertEquals("/legacy/login", root.header("Content-Location"));
      assertEquals("/legacy/login", root.header("URI"));
      assertEquals("0; url=/legacy/login", root.header("Refresh"));
      assertEquals("/legacy/", redirectTo(bed, "/"));
      assertEquals("/legacy/done", redirectTo(bed, "/legacy/done"), "already public: not prefixed twice");
      assertEquals("http://front.test/legacy/login", redirectTo(bed, "http://app.internal:8080/login"));
      // Relative, network-path and other hosts' URLs are the client's to resolve; they stay.
      for (String stays : List.of("login", "?page=2", "//cdn.test/a.css", "http://elsewhere.test/login",
          "http://app.internal:8080.evil.test/", "http://app.internal:8080@evil.test/")) {
        assertEquals(stays, redirectTo(bed, stays));
      }

      // The backend's own address followed by more than a path is another host, or another port.
      for (String tail : List.of(".evil.test/", "@evil.test/", "0/", ":1/")) {
        RawHttp.Response other = get(bed, "front.test", "/legacy/redirect-self?to=" + tail);
        assertEquals(other.header("X-Self"), other.header("Location"));
        assertEquals("3; url=" + other.header("X-Self"), other.header("Refresh"));
      }

      List<String> cookies = get(bed, "front.test", "/legacy/cookies").all("Set-Cookie");
      assertEquals(List.of(
          "own=1; Path=/legacy/",
          "scoped=2;path=/legacy/account ; HttpOnly",
          "internal=\"a=b\"; DOMAIN=.App.Internal; PATH=/legacy/app/x; Secure",
          "plain=4",
          "dated=5; Expires=Wed, 09 Jun 2027 10:18:14 GMT; SameSite=Lax",
          "other=6; Domain=example.test; Path=relative"), cookies);
    }
  }

  @Test
  void aRewrittenRedirectLeadsBackToTheApp() throws Exception {
    try (TestBed bed = TestBed.start(dir, legacy(""))) {
      // The client follows the Location it gets, on the address it used: 127.0.0.1:<front port>.
      HttpResponse<Buffer> followed = bed.request(HttpMethod.GET, null, "/legacy/redirect-self?to=/login?x=1")
          .followRedirects(true).send().await(60, TimeUnit.SECONDS);
      assertEquals(200, followed.statusCode());
      assertEquals("/login?x=1", TestBed.field(followed.bodyAsString(), "path"));
      assertEquals(List.of("http://127.0.0.1:" + bed.port + "/legacy/login?x=1"), followed.followedRedirects());

      HttpResponse<Buffer> relative = bed.request(HttpMethod.GET, null, "/legacy/redirect-to?url=%2Fdone")
          .followRedirects(true).send().await(60, TimeUnit.SECONDS);
      assertEquals("/done", TestBed.field(relative.bodyAsString(), "path"));
    }
  }

  @Test
  void aWebSocketUnderThePrefixOpensWithoutIt() throws Exception {
    String config = """
        tenants:
          chat:
            paths: [/chat]
            strip-prefix: true
            command: ["%s", -cp, "%s", io.wakeport.testing.WebSocketBackend, "${port}"]
        """.formatted(TestBed.JAVA, System.getProperty("java.class.path"));
    try (TestBed bed = TestBed.start(dir, config)) {
      io.vertx.core.http.WebSocketClient wsClient = bed.vertx.createWebSocketClient();
      try {
        io.vertx.core.http.WebSocket ws = wsClient.connect(new io.vertx.core.http.WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(bed.port).setURI("/chat/room?x=1")).await(30, TimeUnit.SECONDS);
        io.vertx.core.Promise<String> answer = io.vertx.core.Promise.promise();
        ws.textMessageHandler(answer::tryComplete);
        ws.writeTextMessage("?uri");
        assertEquals("/room?x=1", answer.future().await(10, TimeUnit.SECONDS));
        ws.close().await(5, TimeUnit.SECONDS);
      } finally {
        wsClient.close().await(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void withoutStripPrefixThePathGoesAsItIs() throws Exception {
    String config = legacy("").replace("    strip-prefix: true\n", "");
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals("/legacy/x", path(get(bed, "front.test", "/legacy/x")));
      assertNull(TestBed.field(get(bed, "front.test", "/legacy/headers").bodyText().replace(": ", "="),
          "x-forwarded-prefix"));
    }
  }
}
