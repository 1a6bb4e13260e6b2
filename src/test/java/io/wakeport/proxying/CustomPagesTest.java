package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's own pages ({@code pages:}) served by a running wakeport: the root's for hosts no
 * tenant serves and for every tenant, a tenant's over them, HTML clients only, re-read on reload.
 */
class CustomPagesTest {

  @TempDir Path dir;

  private static RawHttp.Response get(TestBed bed, String host, String accept) throws Exception {
    try (RawHttp http = new RawHttp(bed.port)) {
      return http.send("GET / HTTP/1.1\r\nHost: " + host + "\r\nAccept: " + accept + "\r\n\r\n").read();
    }
  }

  private String config() {
    return """
        pages:
          404: pages/404.html
          503: pages/root-503.html
        tenants:
          acme:
            hosts: [acme.test]
            command: %s
            waiting-page: {after: 300ms, refresh: 2s}
            pages: {waiting: pages/wait.html}
          broken:
            hosts: [broken.test]
            command: %s
            waiting-page: off    # its failure, however slowly its JVM starts
            pages: {503: pages/broken-503.html}
          other:
            hosts: [other.test]
            command: %s
            waiting-page: off    # its failure, however slowly its JVM starts
        """.formatted(TestBed.demoCommand("--boot-delay", "3000"), TestBed.demoCommand("--exit-before-ready", "3"),
        TestBed.demoCommand("--exit-before-ready", "3"));
  }

  private void pages(String marker) throws Exception {
    Files.createDirectories(dir.resolve("pages"));
    Files.writeString(dir.resolve("pages/404.html"), "<p>" + marker + " ${status} ${title} [${tenant}] ${request-id}</p>");
    Files.writeString(dir.resolve("pages/root-503.html"), "<p>root 503 for ${tenant}, again in ${retry-after}</p>");
    Files.writeString(dir.resolve("pages/broken-503.html"), "<p>broken's own: ${message}</p>");
    Files.writeString(dir.resolve("pages/wait.html"),
        "<p>${tenant} waited ${waited}, ${progress}, again in ${refresh} (${status}, ${request-id})</p>");
  }

  @Test
  void eachPageComesFromTheTenantThenTheRootWithItsPlaceholdersFilled() throws Exception {
    pages("first");
    try (TestBed bed = TestBed.start(dir, config())) {
      RawHttp.Response notFound = get(bed, "nobody.test", "text/html");
      assertEquals(404, notFound.status());
      assertEquals("<p>first 404 Not Found [] " + notFound.header("X-Request-Id") + "</p>", notFound.bodyText());
      assertEquals("text/html; charset=utf-8", notFound.header("Content-Type"));

      RawHttp.Response plain = get(bed, "nobody.test", "application/json");
      assertEquals(404, plain.status());
      assertTrue(plain.bodyText().startsWith("404 Not Found: "), "non-HTML clients keep plain text: " + plain.bodyText());

      RawHttp.Response waiting = get(bed, "acme.test", "text/html");
      assertEquals(503, waiting.status());
      assertEquals("2", waiting.header("Refresh"), "the header reloads a page without a meta refresh of its own");
      assertTrue(waiting.bodyText().matches("<p>acme waited \\d+ seconds?, , again in 2 \\(503, "
          + waiting.header("X-Request-Id") + "\\)</p>"), "no earlier start, so no progress: " + waiting.bodyText());

      RawHttp.Response own = get(bed, "broken.test", "text/html");
      assertEquals(503, own.status());
      assertTrue(own.bodyText().startsWith("<p>broken's own: The service for broken could not be started."),
          own.bodyText());
      RawHttp.Response root = get(bed, "other.test", "text/html");
      assertEquals(503, root.status());
      assertEquals("<p>root 503 for other, again in " + root.header("Retry-After") + "</p>", root.bodyText());

      // A reload reads the files again.
      pages("second");
      assertTrue(bed.wakeport.reload());
      assertTrue(get(bed, "nobody.test", "text/html").bodyText().startsWith("<p>second 404"));
    }
  }

  /** What a client sends never becomes markup, whichever page it lands on. */
  @Test
  void aHostOrRequestIdWithMarkupCannotInjectIntoAPage() throws Exception {
    pages("first");
    String config = "proxy: {trust-forwarded-headers: true}\n" + config();
    try (TestBed bed = TestBed.start(dir, config); RawHttp http = new RawHttp(bed.port)) {
      RawHttp.Response r = http.send("GET / HTTP/1.1\r\nHost: <script>alert(1)</script>.test\r\n"
          + "X-Request-Id: <script>alert(2)</script>\r\nAccept: text/html\r\n\r\n").read();
      assertFalse(r.bodyText().contains("<script"), r.status() + ": " + r.bodyText());
      try (RawHttp other = new RawHttp(bed.port)) {
        RawHttp.Response waiting = other.send("GET / HTTP/1.1\r\nHost: acme.test\r\n"
            + "X-Request-Id: \"><script>alert(3)</script>\r\nAccept: text/html\r\n\r\n").read();
        assertEquals(503, waiting.status());
        assertFalse(waiting.bodyText().contains("<script"), waiting.bodyText());
        assertFalse(waiting.header("X-Request-Id").contains("<"), "an unsafe id is replaced");
      }
    }
  }

  @Test
  void aBrokenPageEditKeepsTheOldPages() throws Exception {
    pages("first");
    try (TestBed bed = TestBed.start(dir, config())) {
      Files.delete(dir.resolve("pages/wait.html"));
      assertFalse(bed.wakeport.reload(), "a config whose page is gone is not applied");
      assertTrue(bed.wakeport.lastReload().problems().get(0).toString().contains("pages.waiting"),
          bed.wakeport.lastReload().problems().toString());
      RawHttp.Response notFound = get(bed, "nobody.test", "text/html");
      assertTrue(notFound.bodyText().startsWith("<p>first 404"), notFound.bodyText());
    }
  }
}
