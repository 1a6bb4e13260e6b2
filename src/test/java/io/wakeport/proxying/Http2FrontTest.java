package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.RawH2;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 at the front door: off unless asked for, and when on, screened as strictly as HTTP/1.1. */
class Http2FrontTest {

  private static final String H2C = "proxy:\n  h2c: true\n";

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

  /** Requests a backend started by someone else received, well-formed or not: none may be a refused one. */
  private static final class CountingBackend {
    final AtomicInteger requests = new AtomicInteger();
  }

  private CountingBackend countingBackend(int port) {
    CountingBackend backend = new CountingBackend();
    vertx.createHttpServer()
        .requestHandler(req -> {
          backend.requests.incrementAndGet();
          req.response().end("ok");
        })
        // A head the backend could not even parse still means something got through.
        .invalidRequestHandler(req -> {
          backend.requests.incrementAndGet();
          HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER.handle(req);
        })
        .listen(port, "127.0.0.1").await();
    return backend;
  }

  private static String foreignTenant(int port) {
    // A long response-timeout, so a stuck request shows as a stall here rather than as a quick 504.
    return TestBed.foreignTenant(port, "response-timeout: 30s");
  }

  @Test
  void cleartextHttp2IsOffUnlessConfigured() throws Exception {
    Path off = Files.createDirectories(dir.resolve("off"));
    try (TestBed bed = TestBed.start(off, TestBed.acmeTenant(""));
        RawH2 h2 = RawH2.connect(bed.port, 5_000)) {
      // The preface is read as an HTTP/1 request line, "PRI * HTTP/2.0": Vert.x refuses the version
      // with an HTTP/1-syntax error answer (its status line echoes "HTTP/2.0") and closes.
      assertFalse(h2.serverSpeaksHttp2(), "a prior-knowledge preface must not be answered in HTTP/2");
      String answer = h2.readText(4096);
      assertTrue(answer.isEmpty() || answer.matches("(?s)HTTP/[12]\\.[01] [45]\\d\\d [^\\r\\n]*\\r\\n.*"), answer);
      assertEquals(0, bed.spawnCount("acme"), "nothing reached a tenant");
    }
    Path on = Files.createDirectories(dir.resolve("on"));
    try (TestBed bed = TestBed.start(on, H2C + TestBed.acmeTenant(""));
        RawH2 h2 = RawH2.connect(bed.port, 10_000)) {
      assertTrue(h2.serverSpeaksHttp2(), "with h2c: true the server's first frame is SETTINGS");
    }
  }

  /** Malformed HTTP/2 request heads (RFC 9113 8.2 and 8.3) that Netty's codec does not all refuse by itself. */
  static final List<String[]> MALFORMED = List.of(
      new String[] {"CR LF in :path", ":path", "/ok\r\nx-injected: 1"},
      new String[] {"space in :path", ":path", "/ok /x"},
      new String[] {"NUL in :path", ":path", "/ok\0x"},
      new String[] {"upper-case header name", "X-Upper", "1"},
      new String[] {"invalid header name", "bad name", "1"},
      new String[] {"CR LF in a header value", "x-value", "a\r\nx-injected: 1"},
      new String[] {"connection header", "connection", "keep-alive"},
      new String[] {"transfer-encoding header", "transfer-encoding", "chunked"},
      new String[] {"te other than trailers", "te", "gzip"});

  /** Sends malformed variant {@code i} (of {@link #MALFORMED}) as a GET on {@code h2}. */
  static int sendMalformed(RawH2 h2, int i) throws java.io.IOException {
    String[] bad = MALFORMED.get(i % MALFORMED.size());
    if (bad[1].equals(":path")) {
      return h2.get("acme.test", bad[2]);
    }
    return h2.get("acme.test", "/ok", bad[1], bad[2]);
  }

  /** 400, RST_STREAM, or (for what is a connection error to HPACK) GOAWAY or a close: anything but an answer from a backend. */
  static boolean refused(RawH2.Outcome outcome) {
    return outcome.answered() ? outcome.status() == 400 : true;
  }

  @Test
  void malformedHttp2RequestsAreRefusedAndLeaveTheTenantServing() throws Exception {
    int port = TestBed.freePort();
    CountingBackend backend = countingBackend(port);
    try (TestBed bed = TestBed.start(dir, H2C + foreignTenant(port))) {
      RawH2 h2 = RawH2.connect(bed.port, 20_000);
      try {
        for (int i = 0; i < MALFORMED.size(); i++) {
          if (h2.gone()) {
            h2.close();
            h2 = RawH2.connect(bed.port, 20_000);
          }
          RawH2.Outcome outcome = h2.await(sendMalformed(h2, i));
          assertTrue(refused(outcome), MALFORMED.get(i)[0] + ": " + outcome + " " + outcome.bodyText());
        }
      } finally {
        h2.close();
      }
      assertEquals(0, backend.requests.get(), "no malformed request reached the backend");

      // The tenant goes on serving at once: nothing of those requests is left stuck on a backend connection.
      for (int i = 0; i < 50; i++) {
        long began = System.nanoTime();
        HttpResponse<Buffer> r = bed.request(HttpMethod.GET, "acme.test", "/ok").send().await(10, TimeUnit.SECONDS);
        long millis = (System.nanoTime() - began) / 1_000_000;
        assertEquals(200, r.statusCode(), "request " + i);
        assertTrue(millis < 3_000, "request " + i + " took " + millis + " ms");
      }
      assertEquals(50, backend.requests.get(), "the backend saw the normal requests and only those");
    }
  }

  @Test
  void anHttp2BodyWithoutContentLengthReachesTheBackendWhole() throws Exception {
    byte[] body = new byte[300_017]; // past the replay buffer and HTTP/2's initial 64 KiB window
    new java.util.Random(11).nextBytes(body);
    try (TestBed bed = TestBed.start(dir, H2C + TestBed.acmeTenant(""))) {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      HttpClientRequest request = client.request(new RequestOptions()
              .setServer(SocketAddress.inetSocketAddress(bed.port, "127.0.0.1"))
              .setHost("acme.test").setPort(bed.port)
              .setMethod(HttpMethod.POST).setURI("/echo"))
          .await(60, TimeUnit.SECONDS);
      // Several DATA frames and no content-length (chunked only lifts Vert.x's check: HTTP/2 has no
      // transfer coding), so the body's end is END_STREAM alone.
      request.setChunked(true);
      int chunk = 30_000;
      for (int at = 0; at < body.length; at += chunk) {
        request.write(Buffer.buffer(java.util.Arrays.copyOfRange(body, at, Math.min(body.length, at + chunk))));
      }
      request.end();
      // The body is asked for on the event loop, as the head arrives: later, it may already have gone by.
      HttpClientResponse[] response = new HttpClientResponse[1];
      String answer = request.response().compose(r -> {
        response[0] = r;
        return r.body();
      }).await(60, TimeUnit.SECONDS).toString();
      assertEquals(HttpVersion.HTTP_2, response[0].version());
      assertEquals(200, response[0].statusCode(), answer);
      assertEquals(Integer.toString(body.length), field(answer, "length"), answer);
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)), field(answer, "sha256"));
    }
  }

  @Test
  void theAuthorityPseudoHeaderRoutesAndIsForwarded() throws Exception {
    try (TestBed bed = TestBed.start(dir, H2C + TestBed.acmeTenant(""));
        RawH2 h2 = RawH2.connect(bed.port, 60_000)) {
      // No host header: :authority alone names the site.
      RawH2.Outcome outcome = h2.await(h2.get("acme.test", "/headers"));
      String headers = outcome.bodyText();
      assertEquals(200, outcome.status(), headers);
      assertTrue(headers.contains("x-forwarded-host: acme.test\n"), headers);
      assertTrue(headers.contains("forwarded: for=127.0.0.1;host=acme.test;proto=http\n"), headers);
    }
  }

  @Test
  void anHttp2RequestWithoutBodyReachesTheBackendWithoutOne() throws Exception {
    try (TestBed bed = TestBed.start(dir, H2C + TestBed.acmeTenant(""));
        RawH2 h2 = RawH2.connect(bed.port, 60_000)) {
      RawH2.Outcome outcome = h2.await(h2.get("acme.test", "/headers"));
      assertEquals(200, outcome.status());
      // Its end is only known once END_STREAM is read: a GET must not go out chunked meanwhile.
      assertFalse(outcome.bodyText().contains("transfer-encoding"), outcome.bodyText());
      assertFalse(outcome.bodyText().contains("content-length"), outcome.bodyText());
    }
  }

  @Test
  void withH2cOnASilentConnectionIsStillClosed() throws Exception {
    // Vert.x hands an h2c-capable connection over only after its first head: until then the
    // server's idle timeout, set to client-header-timeout, is its guard.
    try (TestBed bed = TestBed.start(dir, H2C + "  client-header-timeout: 500ms\n" + TestBed.acmeTenant(""));
        RawHttp silent = new RawHttp(bed.port)) {
      assertTrue(silent.closedWithin(5_000));
    }
  }

  @Test
  void withH2cOnTheRestOfAnEarlyAnsweredBodyIsNeverReadAsARequest() throws Exception {
    int otherPort = TestBed.freePort();
    CountingBackend other = countingBackend(otherPort);
    try (java.net.ServerSocket early = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try {
          while (!early.isClosed()) {
            try (java.net.Socket s = early.accept()) {
              // Reads the head only and refuses the body, then drains what comes, as a polite server does.
              java.io.InputStream in = s.getInputStream();
              int matched = 0;
              int b;
              while (matched < 4 && (b = in.read()) >= 0) {
                matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
              }
              s.getOutputStream().write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
              s.shutdownOutput();
              in.readAllBytes();
            }
          }
        } catch (Exception e) {
          // closed at the end of the test
        }
      });
      server.setDaemon(true);
      server.start();
      String config = H2C + """
          tenants:
            early:
              hosts: [early.test]
              port: %d
              command: [/nonexistent/never-run]
            other:
              hosts: [other.test]
              port: %d
              command: [/nonexistent/never-run]
          """.formatted(early.getLocalPort(), otherPort);
      String smuggled = "GET /smuggled HTTP/1.1\r\nHost: other.test\r\nX-Smuggled: yes\r\n\r\n";
      try (TestBed bed = TestBed.start(dir, config); RawHttp client = new RawHttp(bed.port)) {
        // The connection's first request: with h2c on, Vert.x has read its head before wakeport sees the connection.
        client.send("POST /up HTTP/1.1\r\nHost: early.test\r\nContent-Length: " + (1000 + smuggled.length())
            + "\r\n\r\n" + "x".repeat(1000));
        assertEquals(413, client.read().status());
        client.send(smuggled);
        assertTrue(client.closedWithin(7_000), "the rest of the body was read as body, then the connection closed");
        assertEquals(0, other.requests.get(), "nothing reached the other tenant");
      }
    }
  }

  @Test
  void withH2cOnHttp11RequestsWithBodiesStillWork() throws Exception {
    try (TestBed bed = TestBed.start(dir, H2C + TestBed.acmeTenant(""))) {
      for (String head : List.of("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
          "Content-Length: 3\r\n\r\nabc")) {
        try (RawHttp client = new RawHttp(bed.port)) {
          RawHttp.Response r = client.send("POST /echo HTTP/1.1\r\nHost: acme.test\r\n" + head).read();
          assertEquals(200, r.status(), head);
          assertTrue(r.bodyText().contains("length=3"), r.bodyText());
          // Kept alive: a second request on the same connection.
          assertEquals(200, client.send("GET / HTTP/1.1\r\nHost: acme.test\r\n\r\n").read().status());
        }
      }
    }
  }

  /**
   * Malformed HTTP/1.1 heads, each sent on a connection of its own. Not obs-fold: Netty replaces
   * it with a space and the request goes on, which RFC 9112 5.2 allows.
   */
  private static final List<String> MALFORMED_H1 = List.of(
      "GET /ok HTTP/1.1 x\r\nHost: acme.test\r\n\r\n",
      "GET /ok HTTX/1.1\r\nHost: acme.test\r\n\r\n",
      "POST /ok HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST /ok HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5x\r\n\r\nhello",
      "POST /ok HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "GET /o\0k HTTP/1.1\r\nHost: acme.test\r\n\r\n",
      "GET /ok HTTP/1.1\r\nHost: acme.test\r\nX-A: a\0b\r\n\r\n",
      "GET /ok HTTP/1.1\r\nHost : acme.test\r\n\r\n",
      "GET /ok HTTP/1.1\r\n\r\n",
      "GET /" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: acme.test\r\n\r\n",
      "GET /ok HTTP/1.1\r\nHost: acme.test\r\nX-Big: " + "b".repeat(9_000) + "\r\n\r\n");

  /** The status of the answer to a malformed head, 0 for a close without one; the connection must end either way. */
  private static int sendMalformedH1(int port, String head) throws java.io.IOException {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      byte[] all;
      try {
        all = socket.getInputStream().readAllBytes(); // up to the server's close
      } catch (java.net.SocketException e) {
        return 0; // reset: closed without an answer
      }
      String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
      return text.startsWith("HTTP/1.") && text.length() >= 12 ? Integer.parseInt(text.substring(9, 12)) : 0;
    }
  }

  @Test
  void tenThousandMalformedRequestsNeitherStallNorFailNormalTraffic() throws Exception {
    int port = TestBed.freePort();
    CountingBackend backend = countingBackend(port);
    int perThread = 2_500; // two HTTP/1.1 and two HTTP/2 senders: 10,000 malformed requests
    java.util.Queue<String> wrong = new java.util.concurrent.ConcurrentLinkedQueue<>();
    AtomicInteger malformedSent = new AtomicInteger();
    try (TestBed bed = TestBed.start(dir, H2C + foreignTenant(port))) {
      assertEquals(200, bed.get("acme.test", "/ok").statusCode()); // warm: the tenant is ready
      backend.requests.set(0);
      List<Thread> senders = new java.util.ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int offset = t;
        senders.add(new Thread(() -> {
          for (int i = 0; i < perThread && wrong.size() < 20; i++) {
            String head = MALFORMED_H1.get((i + offset) % MALFORMED_H1.size());
            try {
              int status = sendMalformedH1(bed.port, head);
              if (status != 0 && (status < 400 || status > 499)) {
                wrong.add("HTTP/1.1 " + head.substring(0, Math.min(60, head.length())).replace("\r\n", "|") + " got " + status);
              }
            } catch (Exception e) {
              wrong.add("HTTP/1.1 " + head.substring(0, Math.min(60, head.length())).replace("\r\n", "|") + ": " + e);
            }
            malformedSent.incrementAndGet();
          }
        }));
        senders.add(new Thread(() -> {
          // Many streams per connection, a batch at a time (under the server's concurrent stream limit).
          RawH2 h2 = null;
          try {
            for (int i = 0; i < perThread && wrong.size() < 20; ) {
              if (h2 == null || h2.gone()) {
                if (h2 != null) {
                  h2.close();
                }
                h2 = RawH2.connect(bed.port, 10_000);
              }
              List<Integer> streams = new java.util.ArrayList<>();
              for (int b = 0; b < 20 && i < perThread && !h2.gone(); b++, i++) {
                streams.add(sendMalformed(h2, i + offset));
              }
              for (int k = 0; k < streams.size(); k++) {
                RawH2.Outcome outcome = h2.await(streams.get(k));
                if (!refused(outcome)) {
                  wrong.add("HTTP/2 " + MALFORMED.get((i - streams.size() + k + offset) % MALFORMED.size())[0] + " got "
                      + outcome);
                }
                malformedSent.incrementAndGet();
              }
            }
          } catch (Exception e) {
            wrong.add("HTTP/2 sender: " + e);
          } finally {
            try {
              if (h2 != null) {
                h2.close();
              }
            } catch (java.io.IOException ignored) {
              // closing anyway
            }
          }
        }));
      }
      long began = System.nanoTime();
      senders.forEach(Thread::start);
      // Normal traffic all along, one request after another on pooled keep-alive connections.
      int normal = 0;
      long slowest = 0;
      List<String> failed = new java.util.ArrayList<>();
      while (senders.stream().anyMatch(Thread::isAlive) && System.nanoTime() - began < 120_000_000_000L) {
        long start = System.nanoTime();
        try {
          HttpResponse<Buffer> r = bed.request(HttpMethod.GET, "acme.test", "/ok").send().await(10, TimeUnit.SECONDS);
          if (r.statusCode() != 200) {
            failed.add("normal request " + normal + " got " + r.statusCode());
          }
        } catch (Exception e) {
          failed.add("normal request " + normal + ": " + e);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        slowest = Math.max(slowest, millis);
        normal++;
      }
      for (Thread sender : senders) {
        sender.join(10_000);
      }
      assertTrue(wrong.isEmpty(), "malformed requests answered wrongly: " + wrong);
      assertEquals(4 * perThread, malformedSent.get(), "all malformed requests were sent");
      assertTrue(failed.isEmpty(), failed.size() + " of " + normal + " normal requests failed: "
          + failed.subList(0, Math.min(5, failed.size())));
      assertTrue(slowest < 5_000, "the slowest normal request took " + slowest + " ms");
      assertTrue(normal > 0);
      assertEquals(normal, backend.requests.get(), "the backend saw the normal requests and only those");
    }
  }
}
