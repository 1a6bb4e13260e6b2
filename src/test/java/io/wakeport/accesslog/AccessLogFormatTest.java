package io.wakeport.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The two line formats, exactly, and what a client sending hostile values can and cannot do to them. */
class AccessLogFormatTest {

  private static final long APACHE_EXAMPLE_TIME = OffsetDateTime.parse("2000-10-10T13:55:36.250-07:00").toInstant().toEpochMilli();

  /** What a client controls: a quote to end the field, a line break to forge a line, a NUL, raw bytes, Unicode. */
  private static final String HOSTILE = "x\" 200 1 \"-\" \"-\"\n1.2.3.4 - - [forged] \"GET / HTTP/1.1\\\r\t\u0000\u001b\u007f\u00e9\u20ac\ud83d\ude00\u2028\ud800";

  private static AccessEntry apacheExample() {
    return new AccessEntry(APACHE_EXAMPLE_TIME, "127.0.0.1", "GET", "/apache_pb.gif", "HTTP/1.0", 200, 2326,
        "http://www.example.com/start.html", "Mozilla/4.08 [en] (Win98; I ;Nav)", "www.example.com",
        "acme", "", 12_345, AccessEntry.NO_COLD_START, null);
  }

  private static String combined(AccessEntry e) {
    StringBuilder out = new StringBuilder();
    new CombinedFormat(ZoneOffset.ofHours(-7)).append(e, out);
    return out.toString();
  }

  private static String json(AccessEntry e) {
    StringBuilder out = new StringBuilder();
    new JsonFormat().append(e, out);
    return out.toString();
  }

  // ---- combined ------------------------------------------------------------------------------

  @Test
  void combinedIsApachesExampleLine() {
    assertEquals("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326"
        + " \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"\n", combined(apacheExample()));
  }

  @Test
  void combinedWritesADashForNoBodyAndMissingHeadersAndTheRequestIdLast() {
    AccessEntry e = new AccessEntry(APACHE_EXAMPLE_TIME, "::1", "HEAD", "/", "HTTP/2", 304, 0,
        null, null, null, null, null, 10, 5, "r1");
    assertEquals("::1 - - [10/Oct/2000:13:55:36 -0700] \"HEAD / HTTP/2\" 304 - \"-\" \"-\" \"r1\"\n", combined(e));
  }

  @Test
  void combinedEscapesAsApacheDoesSoNoFieldOrLineCanBeForged() {
    AccessEntry e = new AccessEntry(APACHE_EXAMPLE_TIME, "127.0.0.1", "GET", "/" + HOSTILE, "HTTP/1.1", 200, 1,
        HOSTILE, HOSTILE, "h", null, null, 1, -1, null);
    String escaped = "x\\\" 200 1 \\\"-\\\" \\\"-\\\"\\n1.2.3.4 - - [forged] \\\"GET / HTTP/1.1\\\\\\r\\t"
        + "\\x00\\x1b\\x7f\\xe9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80\\xe2\\x80\\xa8\\x3f";
    String line = combined(e);
    assertEquals("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /" + escaped + " HTTP/1.1\" 200 1 \""
        + escaped + "\" \"" + escaped + "\"\n", line);
    assertOneLineOfPrintableAscii(line);
    // Every quote the client sent is escaped, so a log parser sees exactly the six field quotes.
    assertEquals(6, line.replace("\\\\", "").replace("\\\"", "").chars().filter(c -> c == '"').count());
  }

  @Test
  void combinedWritesARawByteAsReceivedAsOneEscape() {
    // Vert.x gives a raw byte 0xC3 0xA9 (UTF-8 é on the wire) as the chars U+00C3 U+00A9: Apache writes \xc3\xa9.
    AccessEntry e = new AccessEntry(0, "c", "GET", "/caf\u00c3\u00a9", "HTTP/1.1", 200, 1, null, null, null, null, null, 0, -1, null);
    assertTrue(combined(e).contains("\"GET /caf\\xc3\\xa9 HTTP/1.1\""), combined(e));
  }

  // ---- json ----------------------------------------------------------------------------------

  @Test
  void jsonHasEveryKeyInOrder() {
    AccessEntry e = new AccessEntry(APACHE_EXAMPLE_TIME, "127.0.0.1", "GET", "/a?b=c", "HTTP/1.1", 200, 2326,
        null, "curl/8", "acme.example", "acme", "first", 1_912_345, 1900, "req-7");
    assertEquals("{\"time\":\"2000-10-10T20:55:36.250Z\",\"client\":\"127.0.0.1\",\"method\":\"GET\",\"uri\":\"/a?b=c\","
        + "\"protocol\":\"HTTP/1.1\",\"host\":\"acme.example\",\"status\":200,\"bytes\":2326,\"duration_ms\":1912.345,"
        + "\"tenant\":\"acme\",\"route\":\"first\",\"cold_start_ms\":1900,\"referer\":null,\"user_agent\":\"curl/8\","
        + "\"request_id\":\"req-7\"}\n", json(e));
  }

  @Test
  void jsonWritesNullForNoColdStartNoTenantAndTheEmptyRoute() {
    JsonObject o = new JsonObject(json(apacheExample()));
    assertTrue(o.containsKey("cold_start_ms"));
    assertNull(o.getValue("cold_start_ms"));
    assertNull(o.getValue("route"), "a single-instance tenant has no route");
    assertNull(o.getValue("request_id"));
    assertEquals("12.345", o.getValue("duration_ms").toString());
    assertEquals("2000-10-10T20:55:36.250Z", o.getString("time"), "UTC, with milliseconds");
    assertTrue(json(new AccessEntry(0, "c", "GET", "/", "HTTP/1.1", 200, 0, null, null, null, null, null, 7, -1, null))
        .contains("\"time\":\"1970-01-01T00:00:00.000Z\"") , "milliseconds even when they are zero");
    assertTrue(json(new AccessEntry(0, "c", "GET", "/", "HTTP/1.1", 200, 0, null, null, null, null, null, 7, -1, null))
        .contains("\"duration_ms\":0.007,"));
  }

  @Test
  void jsonEscapesHostileValuesSoTheLineStaysOneValidObject() {
    AccessEntry e = new AccessEntry(1, HOSTILE, "GET", "/" + HOSTILE, HOSTILE, 200, 1,
        HOSTILE, HOSTILE, HOSTILE, "acme", null, 1, -1, HOSTILE);
    String line = json(e);
    assertEquals(1, line.chars().filter(c -> c == '\n').count());
    assertTrue(line.endsWith("}\n"));
    for (char c : line.substring(0, line.length() - 1).toCharArray()) {
      assertFalse(c < 0x20 || c == 0x7f || c == 0x2028 || Character.isSurrogate(c) && !validPairAround(line, c),
          "raw control character " + (int) c + " in " + line);
    }
    assertTrue(line.contains("\\u0000") && line.contains("\\u000a") && line.contains("\\u2028") && line.contains("\\ud800"), line);
    JsonObject o = new JsonObject(line);
    for (String key : List.of("client", "protocol", "referer", "user_agent", "host", "request_id")) {
      assertEquals(HOSTILE, o.getString(key), key);
    }
    assertEquals("/" + HOSTILE, o.getString("uri"));
    assertEquals(15, o.size(), "no key forged");
  }

  private static boolean validPairAround(String line, char c) {
    return line.contains("\ud83d\ude00") && (c == '\ud83d' || c == '\ude00');
  }

  private static void assertOneLineOfPrintableAscii(String line) {
    assertTrue(line.endsWith("\n"));
    String body = line.substring(0, line.length() - 1);
    assertTrue(body.chars().allMatch(c -> c >= 0x20 && c < 0x7f), () -> "not printable ASCII: " + body);
  }
}
