package io.wakeport.health;

import io.wakeport.config.HealthCheck;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passive checks of one remote member: its consecutive errors in live traffic, as
 * {@link HealthCheck.Observe} counts them. Counted from any event loop without a lock (requests to
 * one member run on several); an answer that is no error starts the count over. Says once per
 * streak, when it reaches {@code errors}, that the member is to go down; {@link #reset} when it is
 * back up. Under concurrent requests "consecutive" is as the requests ended, give or take one.
 */
public final class LiveErrors {

  private final HealthCheck.Observe observe;
  private final AtomicInteger streak = new AtomicInteger();
  private volatile String lastError;

  public LiveErrors(HealthCheck.Observe observe) {
    this.observe = observe;
  }

  public HealthCheck.Observe observe() {
    return observe;
  }

  /** Counts {@code outcome}; true exactly when it is the error that completes the streak. */
  public boolean count(LiveOutcome outcome) {
    String error;
    if (outcome.status() == 0) {
      error = outcome.error(); // no answer: null when nothing of it was the member's doing
    } else if (observe.isError(outcome.status())) {
      error = outcome.error() != null ? outcome.error() : "answered " + outcome.status();
    } else {
      if (streak.get() != 0) {
        streak.set(0); // written only when there is something to clear: most answers read it only
      }
      return false;
    }
    if (error == null) {
      return false;
    }
    lastError = error;
    return streak.incrementAndGet() == observe.errors();
  }

  /** The last error counted, for the log. */
  public String lastError() {
    return lastError;
  }

  /** Starts over: the member is back up. */
  public void reset() {
    streak.set(0);
  }
}
