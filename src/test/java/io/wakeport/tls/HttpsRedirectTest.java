package io.wakeport.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain listener once https is on: 308 to https for everything but ACME's HTTP-01 challenges. */
class HttpsRedirectTest {

  @TempDir Path dir;
  int httpsPort;

  @BeforeEach
  void setUp() throws Exception {
    TestCertificates.requireOpenssl();
    TestCertificates certs = new TestCertificates(dir.resolve("certs"));
    certs.leaf("acme", 30, "acme.test");
    httpsPort = TestBed.freePort();
  }

  private String config(String httpsExtra) {
    return HttpsListenerTest.tenant("[acme.test]", "") + """
        https:
          listen: 127.0.0.1:%d
          certificates:
            - hosts: [acme.test]
              cert: certs/acme.crt
              key: certs/acme.key
        """.formatted(httpsPort) + httpsExtra.indent(2);
  }

  private static HttpResponse<Buffer> send(TestBed bed, HttpMethod method, String host, String target, String body)
      throws Exception {
    var request = bed.request(method, host, target).followRedirects(false);
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await(30, TimeUnit.SECONDS);
  }

  @Test
  void everyMethodGets308ToTheSameHostAndTargetOnTheHttpsPort() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("hsts: {max-age: 1h}\n"))) {
      String location = "https://acme.test:" + httpsPort + "/path/x?q=1&r=%20";
      for (HttpMethod method : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.DELETE}) {
        HttpResponse<Buffer> r = send(bed, method, "acme.test", "/path/x?q=1&r=%20", method == HttpMethod.POST ? "a=b" : null);
        assertEquals(308, r.statusCode(), method.name());
        assertEquals(location, r.getHeader("Location"), method.name());
        assertNull(r.getHeader("Strict-Transport-Security"), "HSTS never over plain HTTP");
      }
      try (RawHttp raw = new RawHttp(bed.port)) {
        RawHttp.Response unknown = raw.send("GET / HTTP/1.1\r\nHost: Nobody.Test:8080\r\n\r\n").read();
        assertEquals(308, unknown.status(), "any host: the https side decides what it serves");
        assertEquals("https://nobody.test:" + httpsPort + "/", unknown.header("Location"), "the host's own port left behind");
      }
      assertEquals(0, bed.spawnCount("acme"), "a redirect starts nothing");
    }
  }

  @Test
  void anAbsoluteTargetRedirectsToItsOwnAuthorityAndNoHostGets400() throws Exception {
    try (TestBed bed = TestBed.start(dir, config(""))) {
      try (RawHttp raw = new RawHttp(bed.port)) {
        RawHttp.Response r = raw.send("GET http://acme.test/a?b HTTP/1.1\r\nHost: other.test\r\n\r\n").read();
        assertEquals(308, r.status());
        assertEquals("https://acme.test:" + httpsPort + "/a?b", r.header("Location"));
      }
      try (RawHttp raw = new RawHttp(bed.port)) {
        RawHttp.Response r = raw.send("GET / HTTP/1.0\r\n\r\n").read();
        assertEquals(400, r.status(), "nowhere to send it");
        assertNull(r.header("Location"));
      }
    }
  }

  @Test
  void acmeChallengesStayOnPlainHttpAndGoToTheResponder() throws Exception {
    try (TestBed bed = TestBed.start(dir, config(""))) {
      HttpResponse<Buffer> none = send(bed, HttpMethod.GET, "acme.test", "/.well-known/acme-challenge/tok3n", null);
      assertEquals(404, none.statusCode(), "no responder: a 404, not a redirect");
      assertNull(none.getHeader("Location"));

      bed.wakeport.https().challenges((host, token) -> host.equals("acme.test") && token.equals("tok3n")
          ? "tok3n.thumbprint" : null);
      HttpResponse<Buffer> answered = send(bed, HttpMethod.GET, "acme.test", "/.well-known/acme-challenge/tok3n", null);
      assertEquals(200, answered.statusCode());
      assertEquals("tok3n.thumbprint", answered.bodyAsString(), "the key authorization exactly, nothing added");
      assertEquals(404, send(bed, HttpMethod.GET, "acme.test", "/.well-known/acme-challenge/other", null).statusCode());
      assertEquals(308, send(bed, HttpMethod.GET, "acme.test", "/.well-known/acme-challenge/", null).statusCode(),
          "no token: an ordinary path");
      assertEquals(308, send(bed, HttpMethod.GET, "acme.test", "/.well-known/other", null).statusCode());
      assertEquals(0, bed.spawnCount("acme"));
    }
  }

  @Test
  void redirectFalseServesPlainHttpAndAReloadTurnsTheRedirectOn() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("redirect: false\n"))) {
      HttpResponse<Buffer> served = send(bed, HttpMethod.GET, "acme.test", "/", null);
      assertEquals(200, served.statusCode());
      assertTrue(served.bodyAsString().contains("tenant=acme"));
      bed.rewrite(config(""));
      assertTrue(bed.wakeport.reload());
      HttpResponse<Buffer> redirected = send(bed, HttpMethod.GET, "acme.test", "/", null);
      assertEquals(308, redirected.statusCode(), "redirect applies live");
    }
  }

  @Test
  void locationsLeaveOutPort443AndBracketIpv6() {
    assertEquals("https://acme.test/x?y", HttpsRedirect.location("acme.test", 443, "/x?y"));
    assertEquals("https://[::1]:8443/", HttpsRedirect.location("::1", 8443, "/"));
    assertEquals("https://[::1]:8443/", HttpsRedirect.location("[::1]", 8443, "*"));
    assertFalse(HttpsRedirect.isChallenge("/.well-known/acme-challenge/"));
    assertEquals("abc", HttpsRedirect.token("/.well-known/acme-challenge/abc?x"));
  }
}
