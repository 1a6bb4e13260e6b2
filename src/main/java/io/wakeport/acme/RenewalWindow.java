package io.wakeport.acme;

import java.time.Duration;
import java.time.Instant;

/**
 * When a certificate is renewed: at two thirds of its validity or {@code renewBefore} before it
 * ends, whichever comes first, but never before half its validity (a renew-before longer than a
 * short-lived certificate's whole life would otherwise renew it the moment it arrives), less a
 * random jitter of up to a twentieth of the validity (at most an hour) so that certificates issued
 * together are not all renewed in the same second. Failed orders back off exponentially.
 */
public record RenewalWindow(Duration renewBefore) {

  static final Duration FIRST_BACKOFF = Duration.ofMinutes(1);
  static final Duration MAX_BACKOFF = Duration.ofHours(6);
  static final Duration MAX_JITTER = Duration.ofHours(1);

  /** The moment the certificate valid from {@code notBefore} to {@code notAfter} is due, before jitter. */
  public Instant renewAt(Instant notBefore, Instant notAfter) {
    Duration validity = Duration.between(notBefore, notAfter);
    Instant twoThirds = notBefore.plus(validity.multipliedBy(2).dividedBy(3));
    Instant before = notAfter.minus(renewBefore);
    Instant half = notBefore.plus(validity.dividedBy(2));
    Instant at = before.isBefore(twoThirds) ? before : twoThirds;
    return at.isBefore(half) ? half : at;
  }

  /** The largest jitter for a certificate of this validity. */
  public Duration maxJitter(Instant notBefore, Instant notAfter) {
    Duration twentieth = Duration.between(notBefore, notAfter).dividedBy(20);
    return twentieth.compareTo(MAX_JITTER) < 0 ? twentieth : MAX_JITTER;
  }

  /** How long to wait after the {@code failures}-th failure in a row: 1 minute, doubling, at most 6 hours. */
  public static Duration backoff(int failures) {
    if (failures <= 0) {
      return Duration.ZERO;
    }
    int shift = Math.min(failures - 1, 20);
    Duration d = FIRST_BACKOFF.multipliedBy(1L << shift);
    return d.compareTo(MAX_BACKOFF) < 0 ? d : MAX_BACKOFF;
  }
}
