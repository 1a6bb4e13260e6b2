package io.wakeport.acme;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.shredzone.acme4j.PollableResource;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.exception.AcmeException;

/**
 * Waits for an ACME resource to reach one of some states. acme4j's own wait polls every 3 s when
 * the server sends no Retry-After, so a validation that takes 100 ms would cost 3 s, longer than
 * an on-demand handshake waits; here the wait starts at 100 ms and doubles up to those 3 s. A
 * Retry-After from the server is always honoured.
 */
final class Polling {

  private static final Duration FIRST = Duration.ofMillis(100);
  private static final Duration MOST = Duration.ofSeconds(3);

  private Polling() {}

  static Status until(PollableResource resource, Set<Status> wanted, Duration timeout)
      throws AcmeException, InterruptedException {
    if (wanted.contains(resource.getStatus())) {
      return resource.getStatus();
    }
    Instant deadline = Instant.now().plus(timeout);
    Duration pause = FIRST;
    while (Instant.now().isBefore(deadline)) {
      Instant next = resource.fetch().orElse(Instant.now().plus(pause));
      if (wanted.contains(resource.getStatus())) {
        return resource.getStatus();
      }
      if (next.isAfter(deadline)) {
        break;
      }
      long millis = Duration.between(Instant.now(), next).toMillis();
      if (millis > 0) {
        Thread.sleep(millis);
      }
      pause = pause.multipliedBy(2).compareTo(MOST) < 0 ? pause.multipliedBy(2) : MOST;
    }
    throw new AcmeException("still " + resource.getStatus() + " after " + timeout.toSeconds() + " s");
  }
}
