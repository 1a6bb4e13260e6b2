package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Location-like fields on a backend's own address reach the client on the address it used. */
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
    String client = "http://acme.test";
    assertEquals("http://acme.test/x", ResponseRewrite.rewrite("Location", "http://127.0.0.1:8081/x", 8081, client));
    assertEquals("http://acme.test", ResponseRewrite.rewrite("Location", "HTTP://LOCALHOST:8081", 8081, client));
    assertEquals("http://acme.test?q", ResponseRewrite.rewrite("URI", "https://[::1]:8081?q", 8081, client));
    assertEquals("0; URL='http://acme.test/a'",
        ResponseRewrite.rewrite("Refresh", "0; URL='http://127.0.0.1:8081/a'", 8081, client));
    for (String stays : new String[] {"/relative", "http://127.0.0.1:8082/x", "http://127.0.0.1:80811/x",
        "http://127.0.0.1:8081.evil.test/x", "http://127.0.0.1/x", "http://example.test:8081/x", "//127.0.0.1:8081/x"}) {
      assertEquals(stays, ResponseRewrite.rewrite("Location", stays, 8081, client));
    }
    assertEquals("5", ResponseRewrite.rewrite("Refresh", "5", 8081, client));
    assertTrue(ResponseRewrite.applies("content-location") && ResponseRewrite.applies("Refresh"));
    assertTrue(!ResponseRewrite.applies("Link") && !ResponseRewrite.applies("x-location"));
  }
}
