package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every request's X-Request-Id: made here or kept from a trusted client, seen by the backend, the client and the log. */
class RequestIdTest {

  private static final String NEW_ID = "[0-9a-f]{32}";

  @TempDir Path dir;

  private static HttpResponse<Buffer> headers(TestBed bed, String clientId) {
    var request = bed.request(HttpMethod.GET, "acme.test", "/headers");
    if (clientId != null) {
      request.putHeader("X-Request-Id", clientId);
    }
    return request.send().await();
  }

  /** The id the backend saw, which the client must have been given back. */
  private static String seenAndReturned(HttpResponse<Buffer> r) {
    assertEquals(200, r.statusCode());
    String seen = null;
    for (String line : r.bodyAsString().split("\n")) {
      if (line.startsWith("x-request-id: ")) {
        assertEquals(null, seen, "one id only: " + r.bodyAsString());
        seen = line.substring("x-request-id: ".length());
      }
    }
    assertEquals(seen, r.getHeader("X-Request-Id"), r.bodyAsString());
    assertEquals(1, r.headers().getAll("X-Request-Id").size());
    return seen;
  }

  @Test
  void anUntrustedClientsIdIsReplacedAndTheBackendClientAndLogShareOne() throws Exception {
    String config = "access-log:\n  format: json\n  file: access.log\n" + TestBed.acmeTenant("");
    Path file = dir.resolve("access.log");
    try (TestBed bed = TestBed.start(dir, config)) {
      String made = seenAndReturned(headers(bed, null));
      assertTrue(made.matches(NEW_ID), made);
      String replaced = seenAndReturned(headers(bed, "client-chosen-1"));
      assertTrue(replaced.matches(NEW_ID), replaced);
      assertNotEquals(made, replaced);
      TestBed.await("two access log lines", Duration.ofSeconds(10), () -> lines(file).size() >= 2);
      List<String> ids = lines(file).stream().map(l -> new JsonObject(l).getString("request_id")).toList();
      assertEquals(List.of(made, replaced), ids.subList(0, 2));
    }
  }

  @Test
  void aTrustedClientsSaneIdIsKeptAndAnInsaneOneReplaced() throws Exception {
    String config = "proxy:\n  trust-forwarded-headers: true\n" + TestBed.acmeTenant("");
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals("edge-7f3a:42.b_c", seenAndReturned(headers(bed, "edge-7f3a:42.b_c")));
      String tooLong = "a".repeat(RequestIds.MAX_LENGTH + 1);
      assertTrue(seenAndReturned(headers(bed, tooLong)).matches(NEW_ID));
      assertEquals("a".repeat(RequestIds.MAX_LENGTH), seenAndReturned(headers(bed, "a".repeat(RequestIds.MAX_LENGTH))));
      for (String bad : List.of("two words", "<script>", "id\"quoted", "caf\u00e9")) {
        assertTrue(seenAndReturned(headers(bed, bad)).matches(NEW_ID), bad);
      }
    }
  }

  @Test
  void anErrorPageCarriesTheIdInItsHeaderAndBody() throws Exception {
    String config = TestBed.acmeTenant("", "--exit-before-ready", "3");
    try (TestBed bed = TestBed.start(dir, config)) {
      HttpResponse<Buffer> r = bed.get("acme.test", "/");
      assertEquals(503, r.statusCode());
      String id = r.getHeader("X-Request-Id");
      assertTrue(id != null && id.matches(NEW_ID), String.valueOf(id));
      assertTrue(r.bodyAsString().contains("Request id: " + id), r.bodyAsString());
      HttpResponse<Buffer> notFound = bed.request(HttpMethod.GET, "nobody.test", "/").putHeader("Accept", "text/html")
          .send().await();
      assertEquals(404, notFound.statusCode());
      String other = notFound.getHeader("X-Request-Id");
      assertTrue(other != null && other.matches(NEW_ID), String.valueOf(other));
      assertTrue(notFound.bodyAsString().contains("<p>Request id: " + other + "</p>"), notFound.bodyAsString());
    }
  }

  @Test
  void aWebSocketUpgradeGetsItsIdInThe101() throws Exception {
    String config = """
        tenants:
          acme:
            hosts: [acme.test]
            command: ["%s", -cp, "%s", io.wakeport.testing.WebSocketBackend, "${port}"]
        """.formatted(TestBed.JAVA, System.getProperty("java.class.path"));
    try (TestBed bed = TestBed.start(dir, config);
        io.wakeport.testing.RawHttp raw = new io.wakeport.testing.RawHttp(bed.port)) {
      raw.timeout(30_000).send("GET /ws HTTP/1.1\r\nHost: acme.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      io.wakeport.testing.RawHttp.Response switched = raw.read(true);
      assertEquals(101, switched.status(), switched.toString());
      String id = switched.header("x-request-id");
      assertTrue(id != null && id.matches(NEW_ID), switched.toString());
    }
  }

  @Test
  void idsAreSaneAndDistinct() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = RequestIds.next();
      assertTrue(id.matches(NEW_ID) && RequestIds.sane(id), id);
      assertTrue(seen.add(id), "repeated " + id);
    }
  }

  private static List<String> lines(Path file) {
    try {
      return TestBed.lines(file);
    } catch (java.io.IOException e) {
      return List.of();
    }
  }
}
