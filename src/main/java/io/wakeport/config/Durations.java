package io.wakeport.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the config's duration syntax: 500ms, 60s, 15m, 2h, and 0. */
public final class Durations {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** Far beyond any sensible timeout, and small enough that millisecond arithmetic cannot overflow. */
  private static final long MAX_UNITS = 10_000_000;

  private Durations() {}

  /** @throws IllegalArgumentException with a message meant for the operator */
  public static Duration parse(String text) {
    String s = text.trim();
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 500ms, 60s, 15m, 2h)");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      n = Long.MAX_VALUE;
    }
    if (n > MAX_UNITS) {
      throw new IllegalArgumentException("'" + text + "' is too long a duration");
    }
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
    if (ms % 1000 == 0) return ms / 1000 + "s";
    return ms + "ms";
  }
}
