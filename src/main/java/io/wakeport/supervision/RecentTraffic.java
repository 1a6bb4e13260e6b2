package io.wakeport.supervision;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One instance's requests over the last minute, for the console and the API: requests, errors
 * (5xx) and latency percentiles, in a ring of six ten-second slots with a coarse latency
 * histogram each. Recording is a few uncontended atomic increments; a slot is cleared by the
 * first request of its new ten seconds, so a request racing that clear may be lost, which a
 * per-minute figure can afford. Precise figures are the metrics' job.
 */
public final class RecentTraffic {

  /** What the last minute held. Percentiles are the upper bounds of their histogram bins; -1 with no request. */
  public record Minute(long requests, long errors, double p50Millis, double p99Millis) {
    public static final Minute NONE = new Minute(0, 0, -1, -1);
  }

  private static final long SLOT_NANOS = 10_000_000_000L;
  private static final int SLOTS = 6;
  /** Upper bounds of the latency bins in milliseconds; the last bin takes everything slower. */
  private static final double[] BOUNDS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000};
  private static final int BINS = BOUNDS.length + 1;
  /** Per slot: requests, errors, then the bins. */
  private static final int WIDTH = 2 + BINS;

  private final AtomicLongArray counts = new AtomicLongArray(SLOTS * WIDTH);
  private final AtomicLongArray epochs = new AtomicLongArray(SLOTS);

  RecentTraffic() {
    for (int slot = 0; slot < SLOTS; slot++) {
      epochs.set(slot, Long.MIN_VALUE); // never used
    }
  }

  void record(int status, long nanos) {
    long epoch = Math.floorDiv(System.nanoTime(), SLOT_NANOS);
    int slot = (int) Math.floorMod(epoch, SLOTS);
    long seen = epochs.get(slot);
    if (seen != epoch && epochs.compareAndSet(slot, seen, epoch)) {
      for (int i = slot * WIDTH; i < (slot + 1) * WIDTH; i++) {
        counts.set(i, 0);
      }
    }
    int base = slot * WIDTH;
    counts.incrementAndGet(base);
    if (status >= 500) {
      counts.incrementAndGet(base + 1);
    }
    counts.incrementAndGet(base + 2 + bin(nanos / 1e6));
  }

  private static int bin(double millis) {
    for (int i = 0; i < BOUNDS.length; i++) {
      if (millis <= BOUNDS[i]) {
        return i;
      }
    }
    return BOUNDS.length;
  }

  /** The slots of the last minute (the current one included), summed. */
  public Minute lastMinute() {
    long now = Math.floorDiv(System.nanoTime(), SLOT_NANOS);
    long requests = 0;
    long errors = 0;
    long[] bins = new long[BINS];
    for (int slot = 0; slot < SLOTS; slot++) {
      long epoch = epochs.get(slot);
      if (epoch == Long.MIN_VALUE || now - epoch >= SLOTS) {
        continue;
      }
      int base = slot * WIDTH;
      requests += counts.get(base);
      errors += counts.get(base + 1);
      for (int i = 0; i < BINS; i++) {
        bins[i] += counts.get(base + 2 + i);
      }
    }
    if (requests == 0) {
      return Minute.NONE;
    }
    return new Minute(requests, errors, percentile(bins, 0.50), percentile(bins, 0.99));
  }

  private static double percentile(long[] bins, double q) {
    long total = 0;
    for (long b : bins) total += b;
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < bins.length; i++) {
      seen += bins[i];
      if (seen >= rank) {
        return i < BOUNDS.length ? BOUNDS[i] : Double.POSITIVE_INFINITY;
      }
    }
    return Double.POSITIVE_INFINITY;
  }
}
