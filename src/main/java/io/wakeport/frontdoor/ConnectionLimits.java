package io.wakeport.frontdoor;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open front connections, in total and per client address, across every event loop. A
 * connection over either cap is refused (closed at once) so that one client, or a flood, cannot
 * use up the file descriptors that backends, logs and other clients need.
 */
public final class ConnectionLimits {

  /** Why a connection was refused, or null when it was admitted. */
  public enum Refusal { TOTAL, PER_CLIENT }

  private final int maxTotal;
  private final int maxPerClient;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();

  /** {@code maxPerClient} 0: no per-client cap. */
  public ConnectionLimits(int maxTotal, int maxPerClient) {
    this.maxTotal = maxTotal;
    this.maxPerClient = maxPerClient;
  }

  public int maxTotal() {
    return maxTotal;
  }

  public int maxPerClient() {
    return maxPerClient;
  }

  /** Front connections open now. */
  public int open() {
    return total.get();
  }

  /** Counts a new connection; on refusal nothing stays counted and {@link #closed} must not be called. */
  public Refusal admit(InetAddress client) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return Refusal.TOTAL;
    }
    if (maxPerClient > 0 && client != null) {
      boolean[] over = new boolean[1];
      // compute() runs atomically per address, so counts and removals of empty entries never race.
      perClient.compute(client, (address, count) -> {
        int n = count == null ? 0 : count;
        over[0] = n >= maxPerClient;
        return over[0] ? count : Integer.valueOf(n + 1);
      });
      if (over[0]) {
        total.decrementAndGet();
        return Refusal.PER_CLIENT;
      }
    }
    return null;
  }

  public void closed(InetAddress client) {
    total.decrementAndGet();
    if (maxPerClient > 0 && client != null) {
      // An address with no connection left is forgotten, so the map does not grow with every client ever seen.
      perClient.computeIfPresent(client, (address, count) -> count <= 1 ? null : count - 1);
    }
  }
}
