package io.wakeport.config;

import java.time.Duration;

/**
 * The active health check of a tenant's remote members (HAProxy's {@code check inter rise fall}):
 * every {@code interval} after the last check ended, one check per member, never two at once.
 *
 * @param kind       {@code NONE} (members are always up), a TCP connect, or an HTTP GET
 * @param path       the HTTP check's path, such as {@code /health}; null for the others
 * @param expectLow  lowest status an HTTP check passes with (200 unless {@code expect} says)
 * @param expectHigh highest such status (399 unless {@code expect} says)
 * @param timeout    a check not done this long has failed
 * @param rise       consecutive passed checks that put a down member back
 * @param fall       consecutive failed checks that take an up member out
 * @param observe    what of live traffic takes a member out at once (passive checks), or null: nothing
 */
public record HealthCheck(Kind kind, String path, int expectLow, int expectHigh, Duration interval, Duration timeout,
    int rise, int fall, Observe observe) {

  public enum Kind { NONE, TCP, HTTP }

  /**
   * Passive checks: {@code errors} consecutive failures of live requests to a member take it down
   * at once, without waiting for its active check (HAProxy's {@code observe layer4 error-limit N
   * on-error mark-down}); the active check alone brings it back, after {@code rise} passes.
   *
   * @param errors       consecutive errors that take an up member out
   * @param serverErrors whether answers 500-599 (but 501 and 505, which say more of the request
   *                     than of the member) count as errors too, as with HAProxy's
   *                     {@code observe layer7}; a connection refused, a connect timed out and a
   *                     connection closed before any answer always count
   */
  public record Observe(int errors, boolean serverErrors) {
    /** Whether the member's answer with {@code status} is an error of the member's. */
    public boolean isError(int status) {
      return serverErrors && status >= 500 && status <= 599 && status != 501 && status != 505;
    }
  }

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
  public static final int DEFAULT_RISE = 2;
  public static final int DEFAULT_FALL = 3;

  /** A TCP connect every 2 s, rise 2, fall 3: HAProxy's defaults. */
  public static HealthCheck defaults() {
    return new HealthCheck(Kind.TCP, null, 200, 399, DEFAULT_INTERVAL, DEFAULT_INTERVAL, DEFAULT_RISE, DEFAULT_FALL, null);
  }

  /** Whether {@code status} passes an HTTP check. */
  public boolean passes(int status) {
    return status >= expectLow && status <= expectHigh;
  }

  /** How the check reads in a log line: {@code tcp}, {@code http /health}. */
  public String describe() {
    return switch (kind) {
      case NONE -> "none";
      case TCP -> "tcp";
      case HTTP -> "http " + path;
    };
  }
}
