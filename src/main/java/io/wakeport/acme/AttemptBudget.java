package io.wakeport.acme;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The bound on orders per name per hour ({@code max-attempts-per-hour}), over a sliding hour.
 * The times are kept in the store, so a restart (or a crash loop) does not reset the count.
 */
final class AttemptBudget {

  static final Duration HOUR = Duration.ofHours(1);

  private final AcmeStore store;
  private final int perHour;

  AttemptBudget(AcmeStore store, int perHour) {
    this.store = store;
    this.perHour = perHour;
  }

  /**
   * Takes one attempt for {@code name} at {@code now} and keeps it; returns null when taken, else
   * the moment the next attempt will be allowed (the oldest counted one leaves the hour).
   */
  synchronized Instant take(String name, Instant now) throws IOException {
    List<Instant> recent = new ArrayList<>();
    for (Instant t : store.attempts(name)) {
      if (t.isAfter(now.minus(HOUR))) {
        recent.add(t);
      }
    }
    if (recent.size() >= perHour) {
      return recent.get(recent.size() - perHour).plus(HOUR);
    }
    recent.add(now);
    store.saveAttempts(name, recent);
    return null;
  }
}
