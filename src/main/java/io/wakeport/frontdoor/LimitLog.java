package io.wakeport.frontdoor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a limit being hit at most once a second per cause, with how many more hits the quiet
 * second held: an attack must not turn into a flood of log lines.
 */
public final class LimitLog {

  private static final Logger log = LoggerFactory.getLogger(LimitLog.class);
  private static final long INTERVAL_NANOS = 1_000_000_000L;

  private record Tally(AtomicLong lastNanos, AtomicLong suppressed) {}

  /**
   * A detail may quote what a client sent (a parser's message does): control characters become
   * {@code \xNN}, so a client cannot forge log lines or send escape sequences to a terminal.
   */
  static String printable(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        if (out == null) {
          out = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        out.append(String.format("\\x%02x", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  private final ConcurrentHashMap<String, Tally> causes = new ConcurrentHashMap<>();

  /** {@code cause} is a short fixed key ("client-header-timeout"); {@code detail} says who and what. */
  public void hit(String cause, String detail) {
    Tally tally = causes.computeIfAbsent(cause, c -> new Tally(new AtomicLong(System.nanoTime() - INTERVAL_NANOS),
        new AtomicLong()));
    long now = System.nanoTime();
    long last = tally.lastNanos.get();
    if (now - last >= INTERVAL_NANOS && tally.lastNanos.compareAndSet(last, now)) {
      long more = tally.suppressed.getAndSet(0);
      log.warn("{}: {}{}", cause, printable(detail), more > 0 ? " (and " + more + " more since the last such line)" : "");
    } else {
      tally.suppressed.incrementAndGet();
    }
  }
}
