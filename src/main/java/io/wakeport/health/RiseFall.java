package io.wakeport.health;

/**
 * HAProxy's rise and fall over one member's check results: {@code fall} consecutive failures take
 * an up member down, {@code rise} consecutive passes bring a down one back. A member starts up,
 * but unconfirmed (HAProxy's default {@code init-state up}): until its first check passes, one
 * failure takes it down, so a member that is dead at start costs one check, not {@code fall}.
 * Not thread-safe: one per member, on the checks' context.
 */
public final class RiseFall {

  private final int rise;
  private final int fall;
  private boolean up = true;
  private boolean confirmed;
  /** Consecutive results against the current state: failures while up, passes while down. */
  private int streak;
  private int lastFailures;

  public RiseFall(int rise, int fall) {
    this.rise = rise;
    this.fall = fall;
  }

  /** The same state and streak under new thresholds (a reload changed rise or fall). */
  public RiseFall with(int newRise, int newFall) {
    RiseFall next = new RiseFall(newRise, newFall);
    next.up = up;
    next.confirmed = confirmed;
    next.streak = streak;
    next.lastFailures = lastFailures;
    return next;
  }

  public boolean up() {
    return up;
  }

  /** Consecutive results against the current state so far. */
  public int streak() {
    return streak;
  }

  /** A passed check; true when it brought the member back up. */
  public boolean passed() {
    confirmed = true;
    if (up) {
      streak = 0;
      return false;
    }
    if (++streak >= rise) {
      up = true;
      streak = 0;
      return true;
    }
    return false;
  }

  /** A failed check; true when it took the member down. */
  public boolean failed() {
    if (!up) {
      streak = 0;
      return false;
    }
    ++streak;
    if (streak >= fall || !confirmed) {
      up = false;
      confirmed = true;
      int failures = streak;
      streak = 0;
      lastFailures = failures;
      return true;
    }
    return false;
  }

  /**
   * Down without its checks' say (its live traffic failed: passive checks): from here {@code rise}
   * passes bring it back, as after a fall.
   */
  public void takeDown() {
    up = false;
    confirmed = true;
    streak = 0;
  }

  /** How many failed checks the last fall took. */
  public int lastFailures() {
    return lastFailures;
  }
}
