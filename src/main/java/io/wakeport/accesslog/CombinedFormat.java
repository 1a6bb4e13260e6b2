package io.wakeport.accesslog;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Apache's combined log format,
 * {@code %h - - [%d/%b/%Y:%H:%M:%S %z] "%r" %>s %b "%{Referer}i" "%{User-agent}i"}, then the
 * request id in quotes when there is one (every answer on the front port has one), escaped as
 * Apache's {@code ap_escape_logitem} does so that no client-sent value can end a quoted field or
 * a line: {@code \"}, {@code \\}, {@code \n} and friends, and {@code \xNN} for every other byte
 * outside printable ASCII.
 */
final class CombinedFormat implements LineFormat {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final ZoneId zone;
  // Many lines share a second: format the time once per second.
  private long cachedSecond = Long.MIN_VALUE;
  private String cachedTime;

  /** @param zone the zone timestamps are written in (Apache uses the server's local time) */
  CombinedFormat(ZoneId zone) {
    this.zone = zone;
  }

  @Override
  public void append(AccessEntry e, StringBuilder out) {
    field(e.client(), out);
    out.append(" - - [").append(time(e.time())).append("] \"");
    field(e.method(), out);
    out.append(' ');
    field(e.uri(), out);
    out.append(' ');
    field(e.protocol(), out);
    out.append("\" ").append(e.status()).append(' ');
    if (e.bytes() > 0) {
      out.append(e.bytes());
    } else {
      out.append('-');
    }
    out.append(" \"");
    field(e.referer(), out);
    out.append("\" \"");
    field(e.userAgent(), out);
    out.append('"');
    if (e.requestId() != null) {
      // After Apache's fields, as nginx setups log $request_id: parsers of the combined format read on.
      out.append(" \"");
      escape(e.requestId(), out);
      out.append('"');
    }
    out.append('\n');
  }

  private String time(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    if (second != cachedSecond) {
      cachedTime = TIME.format(Instant.ofEpochSecond(second).atZone(zone));
      cachedSecond = second;
    }
    return cachedTime;
  }

  /** Apache writes {@code -} for a missing value (an empty one stays empty). */
  private static void field(String value, StringBuilder out) {
    if (value == null) {
      out.append('-');
    } else {
      escape(value, out);
    }
  }

  static void escape(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out.append(c);
        continue;
      }
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case 0x0b -> out.append("\\v");
        default -> {
          if (c <= 0xff) {
            hex(c, out); // a byte as received
          } else {
            // Not from the wire (that arrives one char per byte): write its UTF-8 bytes.
            int cp = s.codePointAt(i);
            if (Character.isSupplementaryCodePoint(cp)) {
              i++;
            }
            String one = Character.isSurrogate(c) && !Character.isSupplementaryCodePoint(cp)
                ? "?" : new String(Character.toChars(cp));
            for (byte b : one.getBytes(StandardCharsets.UTF_8)) {
              hex(b & 0xff, out);
            }
          }
        }
      }
    }
  }

  private static void hex(int b, StringBuilder out) {
    out.append("\\x").append(HEX[b >> 4]).append(HEX[b & 0xf]);
  }
}
