package io.wakeport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.wakeport.testing.Child;
import io.wakeport.testing.TestBed;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that go away mid-exchange, over HTTP/1.1 and HTTP/2 (h2c, prior knowledge), in the
 * middle of an upload or of a streamed answer: an operator's log gets no ERROR for any of them.
 * wakeport runs in a JVM of its own with the shipped logback.xml, at debug level.
 */
class ClientDisconnectLogTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private Path backendLog;


  @Test
  void aClientThatLeavesMidExchangeIsNoError() throws Exception {
    int port = TestBed.freePort();
    Path config = dir.resolve("wakeport.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:%d
        admin: off
        state-dir: var
        proxy: {h2c: true}
        tenants:
          acme:
            hosts: [acme.test]
            port: %d
            command: ["%s", -cp, "%s", io.wakeport.testing.SlowBackend, "${port}"]
        """.formatted(port, TestBed.freePort(), TestBed.JAVA, System.getProperty("java.class.path")));
    backendLog = dir.resolve("var/logs/acme.log");
    Vertx vertx = Vertx.vertx();
    HttpClient h2 = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    Child wakeport = Child.wakeport(List.of(), Map.of("WAKEPORT_LOG_LEVEL", "DEBUG"), "run", "--config", config.toString());
    try (wakeport) {
      wakeport.awaitStderr("wakeport started", WAIT, l -> l.contains("started in"));

      // HTTP/1.1, streamed answer: read the first line, hang up. (Also starts the backend.)
      try (Socket socket = new Socket("127.0.0.1", port)) {
        send(socket, "GET /h1-stream HTTP/1.1\r\nHost: acme.test\r\n\r\n");
        readUntil(socket.getInputStream(), "first line");
      }
      awaitBackend("gone GET /h1-stream");

      // HTTP/1.1, upload: part of a 10 MB body, then hang up. Vert.x logged ERROR "Stream reset: 0" here.
      try (Socket socket = new Socket("127.0.0.1", port)) {
        send(socket, "POST /h1-upload HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 10000000\r\n\r\n" + "x".repeat(65536));
        awaitBackend("receiving POST /h1-upload");
      }
      awaitBackend("gone POST /h1-upload");
      wakeport.awaitStderr("the abandoned HTTP/1.1 upload at debug", WAIT, ClientDisconnectLogTest::clientLeft);

      // HTTP/2, upload: part of the body, then RST_STREAM.
      HttpClientRequest upload = h2request(h2, port, HttpMethod.POST, "/h2-upload").putHeader("content-length", "10000000");
      upload.write(Buffer.buffer("x".repeat(65536)));
      awaitBackend("receiving POST /h2-upload");
      upload.reset().await(10, TimeUnit.SECONDS);
      awaitBackend("gone POST /h2-upload");
      TestBed.await("the abandoned HTTP/2 upload at debug", WAIT,
          () -> wakeport.stderr().stream().filter(ClientDisconnectLogTest::clientLeft).count() == 2);

      // HTTP/2, streamed answer: the first bytes, then RST_STREAM.
      HttpClientRequest stream = h2request(h2, port, HttpMethod.GET, "/h2-stream");
      HttpClientResponse response = stream.send().await(30, TimeUnit.SECONDS);
      io.vertx.core.Promise<Void> firstBytes = io.vertx.core.Promise.promise();
      response.handler(chunk -> firstBytes.tryComplete());
      firstBytes.future().await(30, TimeUnit.SECONDS);
      stream.reset().await(10, TimeUnit.SECONDS);
      awaitBackend("gone GET /h2-stream");
    } finally {
      h2.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    // Closed (TERM, backends stopped, output read to the end): nothing more can be logged.
    List<String> errors = wakeport.stderr().stream().filter(l -> l.matches("\\S+ \\S+ ERROR .*")).toList();
    assertEquals(List.of(), errors, wakeport.printed());
  }

  /** What wakeport says, at debug, of a client that left before its answer. */
  private static boolean clientLeft(String line) {
    return line.contains("DEBUG BackendAttempts") && line.contains("client left");
  }

  private static HttpClientRequest h2request(HttpClient client, int port, HttpMethod method, String path) throws Exception {
    HttpClientRequest request = client.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port)
        .setURI(path)).await(30, TimeUnit.SECONDS);
    request.authority(HostAndPort.create("acme.test", port));
    return request;
  }

  private static void send(Socket socket, String text) throws Exception {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static void readUntil(InputStream in, String text) throws Exception {
    StringBuilder seen = new StringBuilder();
    byte[] buffer = new byte[4096];
    while (seen.indexOf(text) < 0) {
      int n = in.read(buffer);
      if (n < 0) {
        throw new AssertionError("connection closed before '" + text + "'; got:\n" + seen);
      }
      seen.append(new String(buffer, 0, n, StandardCharsets.US_ASCII));
    }
  }

  private void awaitBackend(String line) throws InterruptedException {
    TestBed.await("backend: " + line, WAIT, () -> {
      try {
        return TestBed.lines(backendLog).contains(line);
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }
}
