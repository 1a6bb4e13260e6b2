package io.wakeport.health;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** HAProxy's rise and fall, and its default init-state up: a member never seen healthy falls at its first failure. */
class RiseFallTest {

  @Test
  void fallConsecutiveFailuresTakeAConfirmedMemberDownAndRisePassesBringItBack() {
    RiseFall health = new RiseFall(2, 3);
    assertFalse(health.passed(), "up already");
    assertFalse(health.failed());
    assertFalse(health.failed());
    assertFalse(health.passed(), "a pass in between starts the count again");
    assertFalse(health.failed());
    assertFalse(health.failed());
    assertTrue(health.up());
    assertTrue(health.failed(), "the third in a row");
    assertFalse(health.up());
    assertTrue(health.lastFailures() == 3);
    assertFalse(health.passed());
    assertFalse(health.failed(), "a failure while down starts the rise again");
    assertFalse(health.passed());
    assertTrue(health.passed(), "two in a row");
    assertTrue(health.up());
  }

  @Test
  void aMemberThatNeverPassedFallsAtItsFirstFailure() {
    RiseFall health = new RiseFall(2, 3);
    assertTrue(health.failed());
    assertTrue(health.lastFailures() == 1);
  }

  @Test
  void newThresholdsKeepTheStateAndTheCount() {
    RiseFall health = new RiseFall(2, 3);
    health.passed();
    health.failed();
    RiseFall stricter = health.with(2, 2);
    assertTrue(stricter.up());
    assertTrue(stricter.failed(), "one failure counted before, one now: fall 2");
  }
}
