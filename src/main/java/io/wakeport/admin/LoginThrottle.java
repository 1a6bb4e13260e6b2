package io.wakeport.admin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Failed password checks per client address and user name: after {@value #MAX_FAILURES} in a
 * row, that pair's passwords are not even checked until a minute has passed without a failure
 * (429). It slows a guesser to ten tries a minute, and locks out only that user from that address,
 * for a minute; a password verified in the last minutes is still known without a check and still
 * accepted, so a guesser on the same address does not lock the operator out. The token needs
 * none of this: 256 random bits cannot be guessed.
 */
final class LoginThrottle {

  static final int MAX_FAILURES = 10;
  static final Duration LOCKED_FOR = Duration.ofMinutes(1);

  /** Thrown (as a failed future) when the pair is locked out. */
  static final class Locked extends RuntimeException {
    Locked() {
      super("too many failed logins: try again in " + LOCKED_FOR.toSeconds() + " s", null, false, false);
    }
  }

  private final Cache<String, AtomicInteger> failures = Caffeine.newBuilder()
      .expireAfterWrite(LOCKED_FOR).maximumSize(10_000).build();

  boolean locked(String client, String user) {
    AtomicInteger count = failures.getIfPresent(key(client, user));
    return count != null && count.get() >= MAX_FAILURES;
  }

  void failed(String client, String user) {
    // A write each time: the minute counts from the last failure.
    failures.asMap().compute(key(client, user), (k, n) -> {
      AtomicInteger count = n == null ? new AtomicInteger() : n;
      count.incrementAndGet();
      return count;
    });
  }

  void succeeded(String client, String user) {
    failures.invalidate(key(client, user));
  }

  private static String key(String client, String user) {
    return client + "\u0000" + user;
  }
}
