package io.wakeport.proxying;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What happens to a request once its backend is ready: headers, errors, upgrades, pooling. */
class ForwardingTest {

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

  /** A backend started by someone else on a fixed port: wakeport must use it, not spawn. */
  private HttpServer foreignBackend(int port, io.vertx.core.Handler<HttpServerRequest> handler) {
    return vertx.createHttpServer().requestHandler(handler)
        .webSocketHandler(ws -> ws.textMessageHandler(ws::writeTextMessage))
        .listen(port, "127.0.0.1").await();
  }

  private static String foreignTenant(int port, String extra) {
    // The command would fail if it were ever run: the open port must be used as it is.
    return """
        tenants:
          acme:
            hosts: [acme.test]
            paths: [/ws]
            port: %d
            command: [/nonexistent/never-run]
        %s""".formatted(port, extra);
  }

  @Test
  void forwardedHeadersAreSetAndTheClientHostIsPreserved() throws Exception {
    String config = TestBed.acmeTenant("");
    try (TestBed bed = TestBed.start(dir, config)) {
      HttpResponse<Buffer> r = bed.request(HttpMethod.GET, "acme.test", "/headers")
          .putHeader("X-Forwarded-For", "6.6.6.6")
          .putHeader("Forwarded", "for=6.6.6.6")
          .send().await();
      String headers = r.bodyAsString();
      assertTrue(headers.contains("\nhost: acme.test"), headers);
      assertTrue(headers.contains("x-forwarded-for: 127.0.0.1\n"), "a client cannot choose its address: " + headers);
      assertTrue(headers.contains("x-forwarded-proto: http\n"), headers);
      assertTrue(headers.contains("x-forwarded-host: acme.test"), headers);
      // The Host the client sent carries a port, so RFC 7239 wants it quoted.
      assertTrue(headers.contains("forwarded: for=127.0.0.1;host=\"acme.test:" + bed.port + "\";proto=http\n"), headers);
    }
  }

  @Test
  void aPortSomeoneElseServesIsUsedWithoutSpawning() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> req.response().end("foreign"));
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, "    idle-timeout: 200ms\n"))) {
      HttpResponse<Buffer> r = bed.get("acme.test", "/");
      assertEquals(200, r.statusCode());
      assertEquals("foreign", r.bodyAsString());
      assertEquals(-1, bed.wakeport.supervisor().instance("acme", "").pid(), "nothing was spawned");
    }
    // wakeport has idled and shut down: a process it did not start was never signalled.
    assertEquals("foreign", io.vertx.ext.web.client.WebClient.create(vertx).get(port, "127.0.0.1", "/").send().await()
        .bodyAsString());
  }

  @Test
  void aBackendThatResetsTheConnectionGives502WithABody() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> req.connection().close());
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, ""))) {
      HttpResponse<Buffer> r = bed.get("acme.test", "/");
      assertEquals(502, r.statusCode());
      assertTrue(r.bodyAsString().contains("acme"), r.bodyAsString());
    }
  }

  @Test
  void aBackendThatStopsListeningIsStartedByTheNextRequestWithout502() throws Exception {
    int port = TestBed.freePort();
    HttpServer foreign = foreignBackend(port, req -> req.response().end("foreign"));
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: %s
        """.formatted(port, demoCommand());
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals("foreign", bed.get("acme.test", "/").bodyAsString());
      foreign.close().await();
      TestBed.await("the foreign backend's port to close", java.time.Duration.ofSeconds(10), () -> !isOpen(port));
      // Nothing of this request reaches a backend at first: it is held while wakeport starts its own.
      HttpResponse<Buffer> restarted = bed.get("acme.test", "/");
      assertEquals(200, restarted.statusCode());
      assertEquals("acme", field(restarted.bodyAsString(), "tenant"));
    }
  }

  private static boolean isOpen(int port) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void aBackendTooSlowToAnswerGives504AfterTheResponseTimeout() throws Exception {
    String config = TestBed.acmeTenant("response-timeout: 400ms\n");
    try (TestBed bed = TestBed.start(dir, config)) {
      // A freshly started backend's first answers can take longer than 400 ms on a busy machine.
      int warm = 0;
      while (bed.get("acme.test", "/").statusCode() != 200) {
        assertTrue(++warm < 20, "the backend never answered within 400 ms");
      }
      assertEquals(200, bed.get("acme.test", "/slow?ms=10").statusCode());
      HttpResponse<Buffer> r = bed.get("acme.test", "/slow?ms=5000");
      assertEquals(504, r.statusCode());
      assertTrue(r.bodyAsString().contains("acme"), r.bodyAsString());
    }
  }

  @Test
  void expectContinueIsAnsweredAtOnce() throws Exception {
    String config = TestBed.acmeTenant("");
    try (TestBed bed = TestBed.start(dir, config); Socket socket = new Socket("127.0.0.1", bed.port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /echo HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      // The client waits for this before sending its body; without it, clients stall (curl: 1 s).
      assertEquals("HTTP/1.1 100 Continue", in.readLine());
      in.readLine();
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertEquals("HTTP/1.1 200 OK", in.readLine());
      String line;
      boolean sawLength = false;
      while ((line = in.readLine()) != null && !line.startsWith("sha256")) {
        sawLength |= line.equals("length=5");
      }
      assertTrue(sawLength, "the body reached the backend");
    }
  }

  @Test
  void webSocketUpgradesPassThrough() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> req.response().end("plain"));
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, ""))) {
      io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient(); // held: unreachable clients are cleaned up
      WebSocket ws = wsClient
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(bed.port).setURI("/ws/echo"))
          .await(10, TimeUnit.SECONDS);
      Promise<String> echoed = Promise.promise();
      ws.textMessageHandler(echoed::tryComplete);
      ws.writeTextMessage("ping through wakeport");
      assertEquals("ping through wakeport", echoed.future().await(10, TimeUnit.SECONDS));
      ws.close().await();
    }
  }

  @Test
  void aWebSocketOutlivesTheHttpDeadlinesOfItsConnection() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> req.response().end("plain"));
    // The header deadline leaves the client room to write its handshake (a cold JVM takes a while).
    String config = "proxy:\n  client-header-timeout: 1s\n  keepalive-timeout: 300ms\n" + foreignTenant(port, "");
    try (TestBed bed = TestBed.start(dir, config)) {
      io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient();
      WebSocket ws = wsClient
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(bed.port).setURI("/ws/echo"))
          .await(10, TimeUnit.SECONDS);
      List<String> echoes = new java.util.concurrent.CopyOnWriteArrayList<>();
      ws.textMessageHandler(echoes::add);
      // Frames, then quiet, then frames again, each pause longer than both HTTP deadlines: once
      // upgraded the connection is no HTTP connection, and its frames are no request heads.
      for (int i = 0; i < 3; i++) {
        ws.writeTextMessage("ping " + i);
        int expected = i + 1;
        TestBed.await("echo " + i, java.time.Duration.ofSeconds(10), () -> echoes.size() == expected);
        long quietUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_300);
        TestBed.await("a quiet spell", java.time.Duration.ofSeconds(5), () -> System.nanoTime() > quietUntil);
      }
      assertEquals(List.of("ping 0", "ping 1", "ping 2"), echoes);
      ws.close().await();
    }
  }

  @Test
  void manyConcurrentRequestsReachTheBackendAtOnce() throws Exception {
    // The backend answers only once 20 requests are open together: a 5-connection pool
    // (vertx-http-proxy's default) never gets there.
    int port = TestBed.freePort();
    int wanted = 20;
    List<HttpServerRequest> held = new ArrayList<>();
    foreignBackend(port, req -> {
      held.add(req);
      if (held.size() == wanted) {
        held.forEach(r -> r.response().end("together"));
      }
    });
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, "proxy:\n  event-loops: 1\n"))) {
      List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
      for (int i = 0; i < wanted; i++) {
        all.add(bed.request(HttpMethod.GET, "acme.test", "/" + i).send());
      }
      Future.all(all).await(20, TimeUnit.SECONDS);
      all.forEach(f -> assertEquals("together", f.result().bodyAsString()));
    }
  }

  @Test
  void theBackendsDateIsKeptAsWrittenAndHopByHopHeadersStayBehind() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> {
      if (req.path().equals("/nodate")) {
        req.response().end("no date");
        return;
      }
      req.response()
          // Zero-padded day: a proxy that parses and re-formats the Date writes "Sun, 6 Nov 1994".
          .putHeader("Date", "Sun, 06 Nov 1994 08:49:37 GMT")
          .putHeader("Connection", "keep-alive, X-Hop")
          .putHeader("X-Hop", "for the next hop only")
          .putHeader("Keep-Alive", "timeout=5")
          .putHeader("X-End-To-End", "kept")
          .end("dated");
    });
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, ""))) {
      HttpResponse<Buffer> r = bed.get("acme.test", "/");
      assertEquals("dated", r.bodyAsString());
      assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", r.getHeader("Date"));
      assertEquals("kept", r.getHeader("X-End-To-End"));
      assertEquals(null, r.getHeader("X-Hop"), "named in Connection: hop-by-hop");
      assertEquals(null, r.getHeader("Keep-Alive"));
      assertEquals("5", r.getHeader("Content-Length"));

      // A backend without a clock still gives the client a Date (RFC 9110 6.6.1).
      HttpResponse<Buffer> undated = bed.get("acme.test", "/nodate");
      java.time.Instant date = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
          .parse(undated.getHeader("Date"), java.time.Instant::from);
      assertTrue(Math.abs(java.time.Duration.between(date, java.time.Instant.now()).toSeconds()) < 60, date.toString());
    }
  }

  @Test
  void headAndNoContentAnswersCarryNoBodyAndKeepTheConnection() throws Exception {
    int port = TestBed.freePort();
    foreignBackend(port, req -> {
      if (req.path().equals("/empty")) {
        req.response().setStatusCode(204).end();
      } else {
        // Set explicitly: Vert.x does not add a Content-Length to HEAD answers itself.
        req.response().putHeader("Content-Type", "text/plain").putHeader("Content-Length", "12").end("twelve bytes");
      }
    });
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, ""));
        Socket socket = new Socket("127.0.0.1", bed.port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      java.io.InputStream in = socket.getInputStream();
      // One connection, one request after another: HEAD, 204, a GET without a body, a POST with one.
      out.write("HEAD / HTTP/1.1\r\nHost: acme.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String head = readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      assertTrue(head.toLowerCase().contains("content-length: 12"), "[" + head + "]");
      out.write("GET /empty HTTP/1.1\r\nHost: acme.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String empty = readHead(in);
      assertTrue(empty.startsWith("HTTP/1.1 204"), empty);
      assertTrue(!empty.toLowerCase().contains("transfer-encoding"), empty);
      out.write("GET / HTTP/1.1\r\nHost: acme.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readHead(in).startsWith("HTTP/1.1 200"));
      assertEquals("twelve bytes", new String(in.readNBytes(12), StandardCharsets.US_ASCII));
      out.write("POST / HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 4\r\n\r\nbody".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readHead(in).startsWith("HTTP/1.1 200"));
      assertEquals("twelve bytes", new String(in.readNBytes(12), StandardCharsets.US_ASCII));
    }
  }

  @Test
  void largeAnswersStreamAndSmallOnesArriveWhole() throws Exception {
    int port = TestBed.freePort();
    byte[] large = new byte[3 * 1024 * 1024 + 17];
    new java.util.Random(7).nextBytes(large);
    foreignBackend(port, req -> {
      switch (req.path()) {
        case "/large" -> req.response().end(Buffer.buffer(large));
        case "/chunked" -> req.response().setChunked(true).write("one,").compose(v -> req.response().end("two"));
        default -> {
          // Promises 100 bytes, sends 10, then drops the connection.
          req.response().putHeader("Content-Length", "100").write("0123456789");
          vertx.setTimer(50, t -> req.connection().close());
        }
      }
    });
    try (TestBed bed = TestBed.start(dir, foreignTenant(port, ""))) {
      HttpResponse<Buffer> r = bed.get("acme.test", "/large");
      assertEquals(200, r.statusCode());
      assertTrue(java.util.Arrays.equals(large, r.body().getBytes()), "3 MiB arrived intact");
      assertEquals("one,two", bed.get("acme.test", "/chunked").bodyAsString());
      // A cut-off answer must not reach the client as a complete one: its connection is closed.
      org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> bed.get("acme.test", "/cut"));
      assertEquals(200, bed.get("acme.test", "/large").statusCode(), "the proxy carries on");
    }
  }

  /** Reads a response head up to its blank line (the body, if any, stays in the stream). */
  private static String readHead(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("connection closed after: " + head);
      }
      head.append((char) c);
    }
    return head.toString();
  }
}
