package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The waiting page over real sockets: a browser's page load held past {@code waiting-page.after}
 * gets it (503, Retry-After, Refresh, no-store), the start goes on without it, and the next load
 * is the app; API clients, requests with a body and tenants with the page off wait as before.
 */
class WaitingPageTest {

  @TempDir Path dir;

  /** Long enough that every request here meets the start under way. */
  private static final String SLOW = "3000";

  private static RawHttp.Response get(TestBed bed, String accept) throws Exception {
    try (RawHttp http = new RawHttp(bed.port)) {
      return http.send("GET /page HTTP/1.1\r\nHost: acme.test\r\nAccept: " + accept + "\r\n\r\n").read();
    }
  }

  private static Instance acme(TestBed bed) {
    return bed.wakeport.supervisor().instance("acme", "");
  }

  @Test
  void aBrowsersPageLoadGetsTheWaitingPageAfterOneSecondAndTheStartGoesOnWithoutIt() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("", "--boot-delay", SLOW))) {
      long began = System.nanoTime();
      RawHttp.Response page = get(bed, "text/html,application/xhtml+xml,*/*;q=0.8");
      long tookMillis = (System.nanoTime() - began) / 1_000_000;
      assertEquals(503, page.status(), page.statusLine());
      assertTrue(tookMillis >= 950, "held for waiting-page.after (1s by default) first: " + tookMillis + " ms");
      assertEquals("1", page.header("Retry-After"));
      assertEquals("1", page.header("Refresh"), "the page reloads itself");
      assertEquals("no-store", page.header("Cache-Control"));
      assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
      String html = page.bodyText();
      assertTrue(html.contains("<span class=\"tenant\">acme</span> is starting"), html);
      assertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"1\">"), "works without the header too");
      assertTrue(html.matches("(?s).*Starting for [1-9]\\d* seconds?\\..*"), html);
      assertTrue(html.contains("bar unknown"), "no earlier start: the progress bar is indeterminate");
      assertTrue(html.contains("Request id: " + page.header("X-Request-Id")), html);
      for (String leak : new String[] {"DemoBackend", "java", "test-classes", "--boot-delay", "127.0.0.1"}) {
        assertFalse(html.contains(leak), "the page leaks '" + leak + "'");
      }

      // Nobody waits any more: the start goes on, and the page's request kept no lease.
      TestBed.await("acme ready without another request", Duration.ofSeconds(30),
          () -> acme(bed).state() == InstanceState.READY);
      assertEquals(0, acme(bed).inFlight(), "the page's request holds no lease");
      RawHttp.Response app = get(bed, "text/html");
      assertEquals(200, app.status());
      assertTrue(app.bodyText().contains("<h1>wakeport demo: acme</h1>"), app.bodyText());
      assertEquals(1, bed.spawnCount("acme"), "one start served both");
    }
  }

  @Test
  void aReloadMeetingTheReadyBackendLandsOnTheAppAndALaterStartShowsProgress() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("waiting-page: {after: 200ms, refresh: 2s}",
        "--boot-delay", SLOW))) {
      RawHttp.Response page = get(bed, "text/html");
      assertEquals(503, page.status());
      assertEquals("2", page.header("Refresh"));
      assertEquals("2", page.header("Retry-After"));
      // Reloads are held up to `after` each and land as soon as the backend is ready.
      RawHttp.Response landed = page;
      for (int reloads = 0; landed.status() == 503 && reloads < 200; reloads++) {
        landed = get(bed, "text/html");
      }
      assertEquals(200, landed.status());
      assertTrue(landed.bodyText().contains("<h1>wakeport demo: acme</h1>"), landed.bodyText());

      bed.wakeport.supervisor().stop(acme(bed), "test").toCompletionStage().toCompletableFuture().get();
      String again = get(bed, "text/html").bodyText();
      assertTrue(again.contains("bar known"), "the last start's duration gives a progress bar: " + again);
      assertTrue(again.matches("(?s).*Its last start took [1-9]\\d* seconds?\\..*"), again);
    }
  }

  @Test
  void thePagesRequestLeavesTheStartsQueueSoReloadsNeverFillIt() throws Exception {
    String tenant = TestBed.acmeTenant("max-queue: 2\nwaiting-page: {after: 200ms}", "--boot-delay", SLOW);
    try (TestBed bed = TestBed.start(dir, tenant)) {
      for (int load = 0; load < 4; load++) {
        RawHttp.Response page = get(bed, "text/html");
        assertEquals(503, page.status());
        assertEquals("1", page.header("Refresh"), "load " + load + " got the waiting page, not 'start queue full': "
            + page.bodyText());
        TestBed.await("the page's lease given back", Duration.ofSeconds(5), () -> acme(bed).inFlight() == 0);
        assertEquals(InstanceState.STARTING, acme(bed).state(), "the start goes on");
      }
    }
  }

  @Test
  void anHttp2PageLoadGetsThePageAndHttp2RequestsWithDataWait() throws Exception {
    String config = "proxy:\n  h2c: true\n" + TestBed.acmeTenant("", "--boot-delay", SLOW);
    try (TestBed bed = TestBed.start(dir, config); io.wakeport.testing.RawH2 h2 =
        io.wakeport.testing.RawH2.connect(bed.port, 30_000)) {
      int upload = h2.request("hello".getBytes(StandardCharsets.US_ASCII), ":method", "POST", ":scheme", "http",
          ":authority", "acme.test", ":path", "/echo", "accept", "text/html");
      int getWithBody = h2.request("hello, world".getBytes(StandardCharsets.US_ASCII), ":method", "GET",
          ":scheme", "http", ":authority", "acme.test", ":path", "/echo", "accept", "text/html");
      int page = h2.get("acme.test", "/", "accept", "text/html");
      io.wakeport.testing.RawH2.Outcome shown = h2.await(page);
      assertEquals(503, shown.status(), shown.toString());
      assertEquals("1", shown.headers().get("refresh"));
      io.wakeport.testing.RawH2.Outcome echoed = h2.await(upload);
      assertEquals(200, echoed.status(), echoed.toString());
      assertEquals("5", field(echoed.bodyText(), "length"));
      io.wakeport.testing.RawH2.Outcome got = h2.await(getWithBody);
      assertEquals(200, got.status(), "a GET with DATA is a request with a body: " + got);
      assertEquals("12", field(got.bodyText(), "length"));
    }
  }

  @Test
  void aWebSocketUpgradeNeverGetsThePage() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("", "--boot-delay", SLOW));
        RawHttp http = new RawHttp(bed.port)) {
      RawHttp.Response r = http.send("GET /socket HTTP/1.1\r\nHost: acme.test\r\nAccept: text/html\r\n"
          + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").read();
      assertNull(r.header("Refresh"), "held for the start and sent on: " + r.statusLine());
      assertEquals(1, bed.spawnCount("acme"));
    }
  }

  @Test
  void aHeadPageLoadGetsTheWaitingPagesHeadAndTheConnectionGoesOn() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("waiting-page: {after: 200ms}", "--boot-delay", SLOW));
        RawHttp http = new RawHttp(bed.port)) {
      RawHttp.Response head = http.send("HEAD / HTTP/1.1\r\nHost: acme.test\r\nAccept: text/html\r\n\r\n")
          .read(true);
      assertEquals(503, head.status());
      assertEquals("1", head.header("Refresh"));
      assertEquals(0, head.body().length);
      RawHttp.Response next = http.send("GET / HTTP/1.1\r\nHost: acme.test\r\nAccept: text/html\r\n\r\n").read();
      assertTrue(next.status() == 503 || next.status() == 200, "the same connection serves the next request: "
          + next.statusLine());
    }
  }

  @Test
  void anApiClientWaitsForTheStartAndGetsTheApp() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("", "--boot-delay", SLOW))) {
      RawHttp.Response r = get(bed, "application/json");
      assertEquals(200, r.status());
      assertEquals("acme", field(r.bodyText(), "tenant"));
      assertTrue(r.header("Server-Timing").startsWith("cold-start;dur="), "it waited for the start");
    }
  }

  @Test
  void aRequestWithABodyNeverGetsThePageAndItsBodyReachesTheAppIntact() throws Exception {
    byte[] body = new byte[200_000];
    new Random(7).nextBytes(body);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("", "--boot-delay", SLOW))) {
      for (String method : new String[] {"POST", "GET"}) {
        try (RawHttp http = new RawHttp(bed.port)) {
          http.send((method + " /echo HTTP/1.1\r\nHost: acme.test\r\nAccept: text/html\r\nContent-Length: "
              + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          http.send(body);
          RawHttp.Response r = http.read();
          assertEquals(200, r.status(), method + ": " + r.bodyText());
          assertEquals(Integer.toString(body.length), field(r.bodyText(), "length"), method);
          assertEquals(sha, field(r.bodyText(), "sha256"), method);
        }
        bed.wakeport.supervisor().stop(acme(bed), "test").toCompletionStage().toCompletableFuture().get();
      }
      // A chunked body of unknown length is a body too.
      try (RawHttp http = new RawHttp(bed.port)) {
        RawHttp.Response r = http.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nAccept: text/html\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").read();
        assertEquals(200, r.status(), r.bodyText());
        assertEquals("5", field(r.bodyText(), "length"));
      }
    }
  }

  @Test
  void waitingPageOffKeepsBrowsersWaitingAndItIsInheritedFromDefaults() throws Exception {
    String config = "defaults:\n  waiting-page: off\n" + TestBed.acmeTenant("", "--boot-delay", SLOW);
    try (TestBed bed = TestBed.start(dir, config)) {
      RawHttp.Response r = get(bed, "text/html");
      assertEquals(200, r.status());
      assertTrue(r.bodyText().contains("<h1>wakeport demo: acme</h1>"), r.bodyText());
      assertNull(r.header("Refresh"));
    }
  }

  @Test
  void retryAfterIsSaidWithTheRightPlural() throws Exception {
    // queue-timeout passes before the backend listens: 503 with Retry-After: 1.
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("queue-timeout: 300ms", "--boot-delay", SLOW))) {
      RawHttp.Response r = get(bed, "application/json");
      assertEquals(503, r.status());
      assertEquals("1", r.header("Retry-After"));
      assertTrue(r.bodyText().contains("Please try again in 1 second."), r.bodyText());
      assertFalse(r.bodyText().contains("1 seconds"), r.bodyText());
    }
  }
}
