package io.wakeport.routing;

import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.wakeport.supervision.InstanceState;
import io.wakeport.testing.LogCapture;
import io.wakeport.testing.RemoteBackend;
import io.wakeport.testing.TestBed;
import io.wakeport.testing.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote member over TLS ({@code address: https://…}) with a self-signed certificate made by
 * openssl for this test: trusted through {@code tls.ca}, or through {@code verify: false}, and
 * refused (checks fail, the member goes DOWN) when the JVM's own trust store is asked.
 */
class RemoteTlsTest {

  @TempDir Path dir;

  private Path key;
  private Path cert;

  @BeforeEach
  void selfSignedCertificate() throws Exception {
    TestCertificates.Pair member = TestCertificates.selfSigned(dir, "member", "rsa", 1, "127.0.0.1", "IP:127.0.0.1");
    key = member.key();
    cert = member.cert();
  }

  /**
   * One handshake with the member before wakeport starts: a cold JVM's first TLS handshake (its
   * crypto classes loaded and compiled) can take seconds on a busy machine, longer than a check.
   */
  private static void warmUp(RemoteBackend member) throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.http.HttpClient client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
          .setSsl(true).setTrustAll(true).setVerifyHost(false));
      client.request(io.vertx.core.http.HttpMethod.GET, member.port, member.host, "/warm-up")
          .compose(r -> r.send()).compose(r -> r.body()).await(30, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anHttpsMemberIsCheckedAndServedOverTlsTrustedThroughItsCaOrNotAtAll() throws Exception {
    try (RemoteBackend secure = new RemoteBackend("secure", "127.0.0.1", key, cert)) {
      warmUp(secure);
      check(secure);
    }
  }

  private void check(RemoteBackend secure) throws Exception {
    try (LogCapture logs = new LogCapture("io.wakeport");
         TestBed bed = TestBed.start(dir, """
             tenants:
               pinned:
                 hosts: [pinned.test]
                 routes: {s1: {address: "https://%1$s", tls: {ca: member.crt}}}
                 check: {http: /health, interval: 100ms, timeout: 3s}
               lab:
                 hosts: [lab.test]
                 routes: {s1: {address: "https://%1$s", tls: {verify: false}}}
                 check: {http: /health, interval: 100ms, timeout: 3s}
               strict:
                 hosts: [strict.test]
                 routes: {s1: {address: "https://%1$s"}}
                 check: {http: /health, interval: 100ms, timeout: 3s}
             """.formatted(secure.address()))) {
      TestBed.await("the strict member down", Duration.ofSeconds(20),
          () -> bed.wakeport.supervisor().instance("strict", "s1").state() == InstanceState.DOWN);
      TestBed.await("several checks over TLS", Duration.ofSeconds(20), () -> secure.healthChecks.get() >= 6);
      assertEquals(InstanceState.UP, bed.wakeport.supervisor().instance("pinned", "s1").state());
      assertEquals(InstanceState.UP, bed.wakeport.supervisor().instance("lab", "s1").state());
      assertTrue(logs.messages().stream().noneMatch(m -> m.contains("pinned: route s1 DOWN") || m.contains("lab: route s1 DOWN")),
          logs.messages().toString());

      var pinned = bed.get("pinned.test", "/over-tls");
      assertEquals(200, pinned.statusCode());
      assertEquals("secure", field(pinned.bodyAsString(), "member"));
      assertEquals("/over-tls", field(pinned.bodyAsString(), "path"));
      io.vertx.core.http.WebSocketClient sockets = bed.vertx.createWebSocketClient();
      String echoed = sockets.connect(new io.vertx.core.http.WebSocketConnectOptions()
              .setHost("127.0.0.1").setPort(bed.port).setURI("/ws").putHeader("Host", "pinned.test"))
          .compose(ws -> {
            io.vertx.core.Promise<String> first = io.vertx.core.Promise.promise();
            ws.textMessageHandler(first::tryComplete);
            return ws.writeTextMessage("hello").compose(v -> first.future());
          }).await(30, TimeUnit.SECONDS);
      assertEquals("secure: hello", echoed, "a WebSocket reaches the member over TLS too");
      var lab = bed.get("lab.test", "/");
      assertEquals(200, lab.statusCode(), lab::bodyAsString);
      assertEquals(503, bed.get("strict.test", "/").statusCode(),
          "a certificate the JVM does not trust: the member is down, not served unverified");
      assertTrue(logs.messages().stream().anyMatch(m -> m.contains("tenant strict: route s1 DOWN (1 failed http /health check")),
          logs.messages().toString());
      assertEquals(InstanceState.DOWN, bed.wakeport.supervisor().instance("strict", "s1").state(), "and stays down");
    }
  }
}
