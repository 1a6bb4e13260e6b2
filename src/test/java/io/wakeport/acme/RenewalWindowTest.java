package io.wakeport.acme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When certificates are renewed, and how failures back off. */
class RenewalWindowTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final RenewalWindow window = new RenewalWindow(Duration.ofDays(30));

  @Test
  void aNinetyDayCertificateIsRenewedThirtyDaysBeforeItEnds() {
    assertEquals(T0.plus(Duration.ofDays(60)), window.renewAt(T0, T0.plus(Duration.ofDays(90))));
  }

  @Test
  void aYearLongCertificateIsRenewedAtTwoThirdsWhichComeFirst() {
    assertEquals(T0.plus(Duration.ofHours(365 * 24 * 2 / 3)), window.renewAt(T0, T0.plus(Duration.ofDays(365))));
  }

  @Test
  void thirtyDaysBeforeTheEndWinsWhenItComesFirst() {
    assertEquals(T0.plus(Duration.ofDays(45)), window.renewAt(T0, T0.plus(Duration.ofDays(75))));
  }

  @Test
  void twoThirdsWinWhenTheyComeFirst() {
    RenewalWindow shortBefore = new RenewalWindow(Duration.ofDays(1));
    assertEquals(T0.plus(Duration.ofDays(60)), shortBefore.renewAt(T0, T0.plus(Duration.ofDays(90))));
  }

  @Test
  void aCertificateShorterThanRenewBeforeIsRenewedAtHalfItsLifeNotAtOnce() {
    assertEquals(T0.plus(Duration.ofHours(84)), window.renewAt(T0, T0.plus(Duration.ofDays(7))));
  }

  @Test
  void jitterIsATwentiethOfTheValidityAtMostAnHour() {
    assertEquals(Duration.ofHours(1), window.maxJitter(T0, T0.plus(Duration.ofDays(90))));
    assertEquals(Duration.ofMillis(400), window.maxJitter(T0, T0.plus(Duration.ofSeconds(8))));
  }

  @Test
  void failuresBackOffFromAMinuteDoublingToSixHours() {
    assertEquals(Duration.ofMinutes(1), RenewalWindow.backoff(1));
    assertEquals(Duration.ofMinutes(2), RenewalWindow.backoff(2));
    assertEquals(Duration.ofMinutes(64), RenewalWindow.backoff(7));
    assertEquals(Duration.ofHours(6), RenewalWindow.backoff(30));
  }
}
