package io.wakeport.supervision;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The per-instance minute the console shows: counts, errors and percentiles from the bins. */
class RecentTrafficTest {

  @Test
  void countsRequestsAndServerErrorsAndTakesPercentilesFromTheBins() {
    RecentTraffic traffic = new RecentTraffic();
    assertEquals(RecentTraffic.Minute.NONE, traffic.lastMinute());
    for (int i = 0; i < 98; i++) {
      traffic.record(200, 3_000_000); // 3 ms: the 5 ms bin
    }
    traffic.record(502, 40_000_000); // 40 ms: the 50 ms bin
    traffic.record(404, 700_000_000); // 700 ms: the 1 s bin; a 4xx is no server error
    RecentTraffic.Minute minute = traffic.lastMinute();
    assertEquals(100, minute.requests());
    assertEquals(1, minute.errors());
    assertEquals(5, minute.p50Millis());
    assertEquals(50, minute.p99Millis());
  }

  @Test
  void aRequestSlowerThanTheLastBoundIsInfinitelySlow() {
    RecentTraffic traffic = new RecentTraffic();
    traffic.record(200, 90_000_000_000L);
    assertEquals(Double.POSITIVE_INFINITY, traffic.lastMinute().p99Millis());
  }
}
