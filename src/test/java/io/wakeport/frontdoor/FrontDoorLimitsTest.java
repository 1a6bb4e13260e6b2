package io.wakeport.frontdoor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a client may hold of the front port: deadlines, connection caps and header sizes, tried with raw sockets. */
class FrontDoorLimitsTest {

  @TempDir Path dir;
  Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  private static String config(String proxy) {
    return "proxy:\n" + proxy.indent(2) + TestBed.acmeTenant("");
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: acme.test\r\n\r\n";
  }

  @Test
  void aSlowlorisHeadGets408WhileOthersAreServed() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("client-header-timeout: 500ms"));
        LogCapture limits = new LogCapture(LimitLog.class)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      List<RawHttp> slow = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        slow.add(new RawHttp(bed.port).send("GET / HTTP/1.1\r\nHost: acme.test\r\nX-Slow: "));
      }
      // One of them keeps sending a byte every 100 ms: moving bytes do not extend the deadline.
      RawHttp trickle = slow.get(0);
      long began = System.nanoTime();
      Thread dripper = new Thread(() -> {
        try {
          while (!trickle.socket.isClosed()) {
            trickle.send("a");
            Thread.sleep(100);
          }
        } catch (Exception e) {
          // closed by the server: the point of the test
        }
      });
      dripper.start();
      assertEquals(200, bed.get("acme.test", "/").statusCode(), "others are served meanwhile");
      for (RawHttp client : slow) {
        RawHttp.Response r = client.read();
        assertEquals(408, r.status());
        assertEquals("close", r.header("connection"));
        assertTrue(client.closedWithin(2_000));
        client.close();
      }
      assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(5), "the deadline held for the trickling one too");
      dripper.join(5_000);
      long lines = limits.messages().stream().filter(m -> m.startsWith("client-header-timeout")).count();
      assertTrue(lines >= 1 && lines <= 3, "logged at most once a second: " + limits.messages());
      assertTrue(limits.messages().stream().noneMatch(m -> m.startsWith("bad-request")),
          "the close after a 408 is no second problem: " + limits.messages());
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedWithoutAnAnswer() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("client-header-timeout: 300ms"));
        RawHttp silent = new RawHttp(bed.port)) {
      assertTrue(silent.closedWithin(5_000));
    }
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterKeepaliveTimeout() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("keepalive-timeout: 300ms"));
        RawHttp client = new RawHttp(bed.port)) {
      assertEquals(200, client.send(get("/")).read().status());
      assertEquals(200, client.send(get("/")).read().status(), "kept alive between requests");
      assertTrue(client.closedWithin(5_000));
    }
  }

  @Test
  void aLongRequestIsNotCutByTheKeepAliveTimeout() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("keepalive-timeout: 300ms"));
        RawHttp client = new RawHttp(bed.port)) {
      RawHttp.Response r = client.send(get("/slow?ms=1200")).read();
      assertEquals(200, r.status());
      assertEquals("slept=1200\n", r.bodyText());
    }
  }

  @Test
  void aBodyThatStopsComingGets408() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("client-body-timeout: 500ms"));
        RawHttp client = new RawHttp(bed.port)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 1000\r\n\r\n0123456789");
      RawHttp.Response r = client.read();
      assertEquals(408, r.status());
      assertTrue(client.closedWithin(7_000));
    }
  }

  @Test
  void anUploadThatKeepsMovingOutlastsTheResponseTimeout() throws Exception {
    String config = TestBed.acmeTenant("response-timeout: 1s\n");
    try (TestBed bed = TestBed.start(dir, config); RawHttp client = new RawHttp(bed.port)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      int chunks = 25;
      byte[] chunk = new byte[10_000];
      client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: " + chunks * chunk.length + "\r\n\r\n");
      for (int i = 0; i < chunks; i++) {
        client.send(chunk);
        Thread.sleep(100); // pacing the upload itself, 2.5 s in all: longer than response-timeout
      }
      RawHttp.Response r = client.read();
      assertEquals(200, r.status(), r.bodyText());
      assertTrue(r.bodyText().contains("length=" + chunks * chunk.length), r.bodyText());
    }
  }

  @Test
  void aClientThatReadsNothingOfItsAnswerIsClosedAfterClientSendTimeout() throws Exception {
    int port = TestBed.freePort();
    Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
    HttpServer backend = vertx.createHttpServer().requestHandler(req -> {
      req.response().setChunked(true);
      // 64 MiB, far more than the socket buffers between the two hold.
      for (int i = 0; i < 1024; i++) {
        req.response().write(chunk);
      }
      req.response().end();
    }).listen(port, "127.0.0.1").await();
    String config = "proxy:\n  client-send-timeout: 1s\n" + TestBed.foreignTenant(port, "");
    try (TestBed bed = TestBed.start(dir, config); LogCapture limits = new LogCapture(LimitLog.class);
        RawHttp client = new RawHttp(bed.port)) {
      client.socket.setReceiveBufferSize(16 * 1024);
      client.send(get("/big"));
      TestBed.await("the stalled reader closed", java.time.Duration.ofSeconds(20),
          () -> limits.messages().stream().anyMatch(m -> m.startsWith("client-send-timeout")));
      long read = client.socket.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      assertTrue(read < 64L * 1024 * 1024, "cut off, not sent whole: " + read);
    } finally {
      backend.close().await();
    }
  }

  @Test
  void whatAClientSendsCannotForgeLogLines() {
    assertEquals("a\\x0d2026 ERROR forged\\x1b[31m", LimitLog.printable("a\r2026 ERROR forged\u001b[31m"));
  }

  @Test
  void aBodyOverMaxRequestBodyGets413() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("max-request-body: 1KB"))) {
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5000\r\n\r\n").read();
        assertEquals(413, r.status(), "refused by its declared length");
        assertEquals(0, bed.spawnCount("acme"), "before anything was started");
      }
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      try (RawHttp client = new RawHttp(bed.port)) {
        client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 4; i++) {
          client.send("200\r\n" + "x".repeat(512) + "\r\n");
        }
        RawHttp.Response r = client.read();
        assertEquals(413, r.status(), "a chunked body that grew past the limit");
        assertTrue(client.closedWithin(7_000));
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 1024\r\n\r\n"
            + "y".repeat(1024)).read();
        assertEquals(200, r.status(), "at the limit is fine");
      }
    }
  }

  /** Connections are accepted on several event loops: one that has been answered is surely counted. */
  private static RawHttp admitted(RawHttp connection) throws Exception {
    assertEquals(200, connection.send(get("/")).read().status());
    return connection;
  }

  @Test
  void oneClientAddressCannotHoldMoreThanItsShare() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("max-connections-per-client: 3"))) {
      List<RawHttp> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        held.add(admitted(new RawHttp(bed.port, "127.0.0.2")));
      }
      try (RawHttp fourth = new RawHttp(bed.port, "127.0.0.2")) {
        assertTrue(fourth.closedWithin(2_000), "over its share: closed at once");
      }
      try (RawHttp other = new RawHttp(bed.port, "127.0.0.1")) {
        assertEquals(200, other.send(get("/")).read().status(), "another address is served");
      }
      for (RawHttp client : held) {
        client.close();
      }
      TestBed.await("a freed slot", java.time.Duration.ofSeconds(5), () -> {
        try (RawHttp again = new RawHttp(bed.port, "127.0.0.2")) {
          return again.send(get("/")).read().status() == 200;
        } catch (Exception e) {
          return false;
        }
      });
    }
  }

  @Test
  void theTotalCapHoldsAcrossAddresses() throws Exception {
    try (TestBed bed = TestBed.start(dir, config("max-connections: 4\nmax-connections-per-client: 0"))) {
      List<RawHttp> held = new ArrayList<>();
      for (int i = 2; i <= 5; i++) {
        held.add(admitted(new RawHttp(bed.port, "127.0.0." + i)));
      }
      try (RawHttp fifth = new RawHttp(bed.port, "127.0.0.6")) {
        assertTrue(fifth.closedWithin(2_000));
      }
      for (RawHttp client : held) {
        client.close();
      }
    }
  }

  @Test
  void headersUpToNginxsLimitsPassAndLargerOnesGetTheRightStatus() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      StringBuilder many = new StringBuilder();
      for (int i = 0; i < 24; i++) {
        many.append("X-Field-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("GET /headers HTTP/1.1\r\nHost: acme.test\r\n" + many + "\r\n").read();
        assertEquals(200, r.status(), "24 KiB of headers, each line under 8 KiB");
        assertTrue(r.bodyText().contains("x-field-23: " + "v".repeat(1000)));
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("GET / HTTP/1.1\r\nHost: acme.test\r\nX-Big: " + "v".repeat(9000) + "\r\n\r\n").read();
        assertEquals(431, r.status(), "one line over 8 KiB");
        assertTrue(client.closedWithin(2_000));
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: acme.test\r\n\r\n").read();
        assertEquals(414, r.status());
      }
      StringBuilder huge = new StringBuilder();
      for (int i = 0; i < 80; i++) {
        huge.append("X-Field-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("GET / HTTP/1.1\r\nHost: acme.test\r\n" + huge + "\r\n").read();
        assertEquals(431, r.status(), "80 KiB in all");
      }
    }
  }

  @Test
  void aBackendAnswerWithManyCookiesIsRelayed() throws Exception {
    int port = TestBed.freePort();
    HttpServer backend = vertx.createHttpServer().requestHandler(req -> {
      for (int i = 0; i < 300; i++) {
        req.response().headers().add("Set-Cookie", "c" + i + "=" + "x".repeat(40) + "; Path=/");
      }
      req.response().end("cookies");
    }).listen(port, "127.0.0.1").await();
    String config = TestBed.foreignTenant(port, "");
    try (TestBed bed = TestBed.start(dir, config); RawHttp client = new RawHttp(bed.port)) {
      client.send("GET / HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n");
      // Read raw: every Set-Cookie line counts, not just the last.
      String text = new String(client.socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(text.startsWith("HTTP/1.1 200"), text.substring(0, Math.min(200, text.length())));
      long cookies = text.lines().filter(l -> l.regionMatches(true, 0, "set-cookie: c", 0, 13)).count();
      assertEquals(300, cookies, "over 8 KiB of response headers (Vert.x's default limit): all relayed");
      assertTrue(text.endsWith("cookies"));
    } finally {
      backend.close().await();
    }
  }
}
