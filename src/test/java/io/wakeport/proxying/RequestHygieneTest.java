package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What reaches a backend and what a client gets back, byte for byte: hop-by-hop and forwarding headers, Host rules, framing. */
class RequestHygieneTest {

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

  @Test
  void headersTheClientNamesInConnectionStayBehind() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("")); RawHttp client = new RawHttp(bed.port)) {
      RawHttp.Response r = client.send("GET /headers HTTP/1.1\r\nHost: acme.test\r\nConnection: keep-alive, X-Secret\r\n"
          + "X-Secret: s3cret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\n"
          + "X-Kept: yes\r\nCookie: c=1\r\nConnection: cookie\r\n\r\n").read();
      String seen = r.bodyText();
      assertEquals(200, r.status());
      assertTrue(seen.contains("x-kept: yes"), seen);
      assertFalse(seen.contains("s3cret"), seen);
      assertFalse(seen.contains("keep-alive:"), seen);
      assertFalse(seen.contains("\nte:"), seen);
      assertFalse(seen.contains("proxy-connection"), seen);
      assertFalse(seen.contains("cookie:"), "named in Connection, whatever its length: " + seen);
    }
  }

  @Test
  void forwardingHeadersAClientSendsAreReplacedInEverySpelling() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("")); RawHttp client = new RawHttp(bed.port)) {
      RawHttp.Response r = client.send("GET /headers HTTP/1.1\r\nHost: acme.test\r\nX-Real-IP: 6.6.6.6\r\n"
          + "X-Forwarded-Port: 6666\r\nX_Forwarded_For: 6.6.6.6\r\nx_real_ip: 6.6.6.6\r\nX-Forwarded-Server: evil\r\n"
          + "X-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\nX_Forwarded_Host: evil.example\r\n"
          + "X_Forwarded_Proto: gopher\r\nX-Forwarded_Port: 6666\r\nx_forwarded-host: evil.example\r\n\r\n").read();
      String seen = r.bodyText();
      assertEquals(200, r.status());
      assertFalse(seen.contains("6.6.6.6"), seen);
      assertFalse(seen.contains("6666"), seen);
      assertFalse(seen.contains("evil"), seen);
      assertFalse(seen.contains("gopher"), seen);
      assertTrue(seen.contains("x-forwarded-port: " + bed.port), seen);
      assertTrue(seen.contains("x-forwarded-proto: http\n"), seen);
      assertTrue(seen.contains("x-forwarded-for: 127.0.0.1\n"), seen);
    }
  }

  @Test
  void severalHostHeadersOrNoneOnHttp11Get400() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("GET / HTTP/1.1\r\nHost: acme.test\r\nHost: other.test\r\n\r\n").read();
        assertEquals(400, r.status());
        assertTrue(client.closedWithin(2_000));
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        assertEquals(400, client.send("GET / HTTP/1.1\r\n\r\n").read().status());
      }
      try (RawHttp client = new RawHttp(bed.port)) {
        // HTTP/1.0 may omit Host: no tenant for it, but no protocol error either.
        assertEquals(404, client.send("GET / HTTP/1.0\r\n\r\n").read().status());
      }
    }
  }

  @Test
  void anAbsoluteTargetIsRoutedByItsOwnAuthorityAndForwardedInOriginForm() throws Exception {
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            command: %1$s
          globex:
            hosts: [globex.test]
            command: %1$s
        """.formatted(demoCommand());
    try (TestBed bed = TestBed.start(dir, config); RawHttp client = new RawHttp(bed.port)) {
      RawHttp.Response r = client.send("GET http://globex.test/x?y=1 HTTP/1.1\r\nHost: acme.test\r\n\r\n").read();
      assertEquals(200, r.status());
      assertEquals("globex", field(r.bodyText(), "tenant"));
      assertEquals("/x?y=1", field(r.bodyText(), "path"));
      RawHttp.Response headers = client.send("GET http://globex.test/headers HTTP/1.1\r\nHost: acme.test\r\n\r\n").read();
      assertTrue(headers.bodyText().contains("\nhost: globex.test\n"), headers.bodyText());
      assertTrue(headers.bodyText().contains("x-forwarded-host: globex.test\n"), headers.bodyText());
    }
  }

  @Test
  void onlyChunkedIsATransferCodingAndItsCaseDoesNotMatter() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant(""))) {
      try (RawHttp client = new RawHttp(bed.port)) {
        RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: CHUNKED\r\n\r\n"
            + "3\r\nabc\r\n0\r\n\r\n").read();
        assertEquals(200, r.status());
        assertTrue(r.bodyText().contains("length=3"), r.bodyText());
      }
      for (String codings : new String[] {"Transfer-Encoding: gzip, chunked", "Transfer-Encoding: identity, chunked",
          "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"}) {
        try (RawHttp client = new RawHttp(bed.port)) {
          RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\n" + codings + "\r\n\r\n"
              + "3\r\nabc\r\n0\r\n\r\n").read();
          assertEquals(400, r.status(), codings);
          assertTrue(client.closedWithin(7_000), codings);
        }
      }
    }
  }

  @Test
  void clientsThatLeaveMidUploadGiveTheirBackendConnectionsBack() throws Exception {
    String config = "proxy:\n  max-connections-per-backend: 4\n  event-loops: 1\n"
        + TestBed.acmeTenant("response-timeout: 5s\n");
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      // All at once: most wait for one of the four pooled connections, and are gone when it comes.
      java.util.List<RawHttp> clients = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        clients.add(new RawHttp(bed.port).send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 10\r\n\r\nabc"));
      }
      for (RawHttp client : clients) {
        client.socket.setSoLinger(true, 0); // a reset, as a client killed mid-upload leaves it
        client.close();
      }
      // With the four pooled connections left waiting for bodies that never come, this would wait for one.
      long began = System.nanoTime();
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(3), "served at once, not after a pool wait");
    }
  }

  @Test
  void anExpectationIsAnsweredOnlyWhenTheBodyIsWanted() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("")); RawHttp client = new RawHttp(bed.port)) {
      RawHttp.Response r = client.send("POST / HTTP/1.1\r\nHost: nobody.test\r\nContent-Length: 5\r\n"
          + "Expect: 100-continue\r\n\r\n").read();
      assertEquals(404, r.status(), "no 100 Continue first: the upload was never wanted");
      assertEquals("close", r.header("connection"), "its body was not read, so the connection ends");
    }
  }

  @Test
  void bothContentLengthAndTransferEncodingCloseTheConnection() throws Exception {
    try (TestBed bed = TestBed.start(dir, TestBed.acmeTenant("")); RawHttp client = new RawHttp(bed.port)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 3\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").read();
      assertTrue(r.status() == 200 || r.status() == 400, r.statusLine());
      if (r.status() == 200) {
        assertTrue(r.bodyText().contains("length=5"), "framed by the chunks, never by Content-Length: " + r.bodyText());
      }
      // Whatever the client meant, the rest of this connection cannot be trusted (RFC 9112 6.1).
      assertTrue(client.closedWithin(3_000));
    }
  }

  /**
   * How a backend that answers before reading the body may end the connection: drain the body
   * then close (nginx, Tomcat, Go), neither read nor close for a while, or close at once with the
   * body unread, which resets the connection under the proxy's next write.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"linger", "stall", "close"})
  void anEarlyAnswerReachesTheClientInsteadOf502(String backendEnds) throws Exception {
    try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try {
          while (!backend.isClosed()) {
            try (Socket s = backend.accept()) {
              readHead(s.getInputStream());
              // Refuses the 300 KB body without reading it, as an app with a size limit does.
              OutputStream out = s.getOutputStream();
              out.write(("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
                  .getBytes(StandardCharsets.US_ASCII));
              out.flush();
              switch (backendEnds) {
                case "linger" -> {
                  s.shutdownOutput();
                  s.getInputStream().readAllBytes();
                }
                case "stall" -> Thread.sleep(3_000); // neither reads nor closes for a while
                default -> { }
              }
            }
          }
        } catch (Exception e) {
          // closed at the end of the test
        }
      });
      server.setDaemon(true);
      server.start();
      try (TestBed bed = TestBed.start(dir, TestBed.foreignTenant(backend.getLocalPort(), ""));
          RawHttp client = new RawHttp(bed.port)) {
        int length = 300_000;
        client.send("POST /upload HTTP/1.1\r\nHost: acme.test\r\nContent-Length: " + length + "\r\n\r\n");
        Thread writer = new Thread(() -> {
          try {
            for (int sent = 0; sent < length; sent += 10_000) {
              client.send(new byte[10_000]);
            }
          } catch (Exception e) {
            // the proxy may close once it has answered and drained: fine
          }
        });
        writer.start();
        RawHttp.Response r = client.read();
        assertEquals(413, r.status());
        assertEquals("too large", r.bodyText());
        writer.join(10_000);
      }
    }
  }

  private static void readHead(InputStream in) throws java.io.IOException {
    int matched = 0;
    byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    int b;
    while (matched < 4 && (b = in.read()) >= 0) {
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  @Test
  void anHttp10ClientGetsAnAnswerOfUnknownLengthAsAStream() throws Exception {
    int port = TestBed.freePort();
    Promise<Void> release = Promise.promise();
    HttpServer backend = vertx.createHttpServer().requestHandler(req -> {
      req.response().setChunked(true).write("first\n");
      release.future().onComplete(v -> req.response().end("second\n"));
      vertx.setTimer(10_000, t -> release.tryComplete());
    }).listen(port, "127.0.0.1").await();
    try (TestBed bed = TestBed.start(dir, TestBed.foreignTenant(port, "")); RawHttp client = new RawHttp(bed.port)) {
      client.send("GET / HTTP/1.0\r\nHost: acme.test\r\n\r\n");
      InputStream in = client.socket.getInputStream();
      client.timeout(5_000);
      long began = System.nanoTime();
      String head = new String(readUntil(in, "first\n"), StandardCharsets.ISO_8859_1);
      assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(5), "the first part came before the end");
      assertTrue(head.startsWith("HTTP/1.0 200"), head);
      assertFalse(head.toLowerCase().contains("content-length"), head);
      assertFalse(head.toLowerCase().contains("transfer-encoding"), head);
      vertx.runOnContext(v -> release.tryComplete());
      client.timeout(15_000);
      assertEquals("second\n", new String(in.readAllBytes(), StandardCharsets.ISO_8859_1), "ended by the close");
    } finally {
      backend.close().await();
    }
  }

  private static byte[] readUntil(InputStream in, String marker) throws java.io.IOException {
    java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      seen.write(b);
      if (seen.toString(StandardCharsets.ISO_8859_1).endsWith(marker)) {
        break;
      }
    }
    return seen.toByteArray();
  }

  @Test
  void serverTimingIsSentOnlyWhenTheRequestWaitedForAStart() throws Exception {
    int port = TestBed.freePort();
    HttpServer backend = vertx.createHttpServer().requestHandler(req -> req.response().end("foreign"))
        .listen(port, "127.0.0.1").await();
    try (TestBed bed = TestBed.start(dir, TestBed.foreignTenant(port, ""))) {
      assertNull(bed.get("acme.test", "/").getHeader("Server-Timing"), "the port was already open: no cold start");
    } finally {
      backend.close().await();
    }
    try (TestBed bed = TestBed.start(java.nio.file.Files.createDirectories(dir.resolve("demo")), TestBed.acmeTenant(""))) {
      assertTrue(bed.get("acme.test", "/").getHeader("Server-Timing").startsWith("cold-start;dur="));
      assertNull(bed.get("acme.test", "/").getHeader("Server-Timing"));
    }
  }
}
