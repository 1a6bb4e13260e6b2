package io.wakeport.accesslog;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One JSON object per line, keys always present and in a fixed order (null when a value is
 * missing). Strings are escaped so that no client-sent value can end a string or a line:
 * quote and backslash with a backslash, every control character (and DEL, C1 controls,
 * U+2028/U+2029, lone surrogates) as a backslash-u escape of four hex digits.
 */
final class JsonFormat implements LineFormat {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  @Override
  public void append(AccessEntry e, StringBuilder out) {
    out.append("{\"time\":\"").append(TIME.format(Instant.ofEpochMilli(e.time()))).append('"');
    string(out, "client", e.client());
    string(out, "method", e.method());
    string(out, "uri", e.uri());
    string(out, "protocol", e.protocol());
    string(out, "host", e.host());
    out.append(",\"status\":").append(e.status());
    out.append(",\"bytes\":").append(e.bytes());
    out.append(",\"duration_ms\":");
    millis(e.durationMicros(), out);
    string(out, "tenant", e.tenant());
    string(out, "route", e.route() == null || e.route().isEmpty() ? null : e.route());
    out.append(",\"cold_start_ms\":");
    if (e.coldStartMillis() < 0) {
      out.append("null");
    } else {
      out.append(e.coldStartMillis());
    }
    string(out, "referer", e.referer());
    string(out, "user_agent", e.userAgent());
    string(out, "request_id", e.requestId());
    out.append("}\n");
  }

  /** Microseconds as milliseconds with three decimals, without going through a double. */
  private static void millis(long micros, StringBuilder out) {
    if (micros < 0) {
      out.append('-');
      micros = -micros;
    }
    long fraction = micros % 1000;
    out.append(micros / 1000).append('.');
    if (fraction < 100) out.append('0');
    if (fraction < 10) out.append('0');
    out.append(fraction);
  }

  private static void string(StringBuilder out, String key, String value) {
    out.append(",\"").append(key).append("\":");
    if (value == null) {
      out.append("null");
      return;
    }
    out.append('"');
    escape(value, out);
    out.append('"');
  }

  static void escape(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029) {
        unicode(c, out);
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        out.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        unicode(c, out); // a lone half cannot be written as UTF-8
      } else {
        out.append(c);
      }
    }
  }

  private static void unicode(char c, StringBuilder out) {
    out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xf]).append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
  }
}
