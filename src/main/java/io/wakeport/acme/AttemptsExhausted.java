package io.wakeport.acme;

import java.io.IOException;
import java.time.Instant;

/** An order refused before it was placed: the name used up its attempts for the hour. */
public final class AttemptsExhausted extends IOException {

  private final Instant nextAllowed;

  AttemptsExhausted(String name, int perHour, Instant nextAllowed) {
    super(name + ": " + perHour + " ACME orders within the last hour (max-attempts-per-hour); next allowed at "
        + nextAllowed);
    this.nextAllowed = nextAllowed;
  }

  public Instant nextAllowed() {
    return nextAllowed;
  }
}
