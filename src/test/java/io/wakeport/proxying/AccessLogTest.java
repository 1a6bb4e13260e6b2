package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.wakeport.testing.RawHttp;
import io.wakeport.testing.TestBed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log as the request path writes it: one line per answer, wakeport's own answers included. */
class AccessLogTest {

  @TempDir Path dir;

  @Test
  void everyAnswerIsOneJsonLineWithTenantStatusAndColdStart() throws Exception {
    String config = "access-log:\n  format: json\n  file: access.log\n" + TestBed.acmeTenant("");
    Path file = dir.resolve("access.log");
    try (TestBed bed = TestBed.start(dir, config)) {
      assertEquals(200, bed.get("acme.test", "/").statusCode());
      assertEquals(200, bed.get("acme.test", "/x?y=%221%22").statusCode());
      assertEquals(404, bed.get("nobody.test", "/").statusCode());
      try (RawHttp client = new RawHttp(bed.port)) {
        assertEquals(400, client.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").read().status());
      }
      TestBed.await("four access log lines", Duration.ofSeconds(10), () -> lines(file).size() >= 4);
      List<JsonObject> lines = lines(file).stream().map(JsonObject::new).toList();
      JsonObject cold = lines.get(0);
      assertEquals("acme", cold.getString("tenant"));
      assertEquals(200, cold.getInteger("status"));
      assertEquals("GET", cold.getString("method"));
      assertEquals("127.0.0.1", cold.getString("client"));
      assertTrue(cold.getLong("cold_start_ms") > 0, cold.encode());
      assertTrue(cold.getLong("bytes") > 0, cold.encode());
      JsonObject warm = lines.get(1);
      assertEquals("/x?y=%221%22", warm.getString("uri"));
      assertEquals(null, warm.getValue("cold_start_ms"));
      assertEquals(404, lines.get(2).getInteger("status"));
      assertEquals(null, lines.get(2).getValue("tenant"));
      assertEquals(400, lines.get(3).getInteger("status"));
    }
  }

  @Test
  void combinedFormatIsApachesLine() throws Exception {
    String config = "access-log:\n  format: combined\n  file: access.log\n" + TestBed.acmeTenant("");
    Path file = dir.resolve("access.log");
    try (TestBed bed = TestBed.start(dir, config)) {
      var r = bed.request(io.vertx.core.http.HttpMethod.GET, "acme.test", "/page").putHeader("User-Agent", "probe/1")
          .putHeader("Referer", "http://ref.test/").send().await();
      TestBed.await("a line", Duration.ofSeconds(10), () -> !lines(file).isEmpty());
      String line = lines(file).get(0);
      assertTrue(line.matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /page HTTP/1\\.1\" 200 \\d+ \"http://ref\\.test/\" \"probe/1\""
          + " \"[0-9a-f]{32}\""), line);
      assertTrue(line.endsWith(" \"" + r.getHeader("X-Request-Id") + "\""), "the id the client was given: " + line);
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
