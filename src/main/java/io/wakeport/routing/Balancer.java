package io.wakeport.routing;

import io.wakeport.config.Balancing;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import java.util.List;

/**
 * Picks the instance for a new session of one tenant. Which instances qualify is the same for
 * every method: neither draining nor disabled, not standby (unless nothing else is available),
 * not in backoff (the config's flags, or the operator's {@link MemberMode} over them), and
 * running ones first: a stopped instance is started for new sessions only when every running one
 * has more than {@code busy-target} requests in flight. The method then chooses among those.
 * One per multi-instance tenant and config snapshot, and one per rule that sends a path to some
 * of its routes ({@link PathRules}), choosing among those only; shared by all event loops.
 */
public final class Balancer {

  /** Every instance of a tenant. */
  static final long ALL = -1L;

  private final TenantConfig tenant;
  /** The instances this balancer may choose (bit i for instance i): {@link #ALL}, or a rule's routes. */
  private final long members;
  /** Smooth weighted round-robin state (nginx's), and picks per instance for tie-breaking. */
  private final int[] current;
  private final long[] picks;

  Balancer(TenantConfig tenant) {
    this(tenant, ALL);
  }

  Balancer(TenantConfig tenant, long members) {
    this.tenant = tenant;
    this.members = members;
    this.current = new int[tenant.instances().size()];
    this.picks = new long[tenant.instances().size()];
  }

  boolean serves(TenantConfig t) {
    return tenant.equals(t);
  }

  /** Whether a session stuck to {@code instance} (one of the tenant's) may stay on it with this balancer. */
  public boolean includes(InstanceConfig instance) {
    return members == ALL || (members & (1L << tenant.instances().indexOf(instance))) != 0;
  }

  /**
   * @param loads    one per instance of the tenant, in config order
   * @param excluded instances already tried for this request (bit i for instance i), or 0
   * @return the index of the chosen instance, or -1 when none can take the session
   */
  public int choose(List<? extends InstanceLoad> loads, long excluded) {
    excluded |= ~members;
    List<InstanceConfig> instances = tenant.instances();
    long candidates = 0;
    long standby = 0;
    for (int i = 0; i < instances.size(); i++) {
      MemberMode mode = loads.get(i).effectiveMode(instances.get(i));
      if ((excluded & (1L << i)) != 0 || mode == MemberMode.DRAIN || mode == MemberMode.DISABLED
          || loads.get(i).unavailable()) {
        continue;
      }
      if (mode == MemberMode.STANDBY) {
        standby |= 1L << i;
      } else {
        candidates |= 1L << i;
      }
    }
    if (candidates == 0) {
      candidates = standby;
    }
    if (candidates == 0) {
      return -1;
    }
    long running = 0;
    boolean roomOnRunning = false;
    for (int i = 0; i < instances.size(); i++) {
      if ((candidates & (1L << i)) != 0 && loads.get(i).running()) {
        running |= 1L << i;
        roomOnRunning |= loads.get(i).inFlight() <= tenant.balancing().busyTarget();
      }
    }
    long stopped = candidates & ~running;
    long pool = running == 0 ? candidates : roomOnRunning || stopped == 0 ? running : stopped;
    return pick(pool, loads);
  }

  private synchronized int pick(long pool, List<? extends InstanceLoad> loads) {
    List<InstanceConfig> instances = tenant.instances();
    Balancing.Method method = tenant.balancing().method();
    int best = -1;
    if (method == Balancing.Method.REQUESTS) {
      int total = 0;
      for (int i = 0; i < instances.size(); i++) {
        if ((pool & (1L << i)) != 0) {
          int weight = loads.get(i).effectiveWeight(instances.get(i));
          current[i] += weight;
          total += weight;
          if (best < 0 || current[i] > current[best]) {
            best = i;
          }
        }
      }
      current[best] -= total;
    } else {
      for (int i = 0; i < instances.size(); i++) {
        if ((pool & (1L << i)) != 0 && (best < 0 || better(method, loads.get(i), i, loads.get(best), best))) {
          best = i;
        }
      }
    }
    picks[best]++;
    return best;
  }

  /** Fewest in flight, or lowest latency (an instance without samples first); ties go to the least picked. */
  private boolean better(Balancing.Method method, InstanceLoad a, int ai, InstanceLoad b, int bi) {
    int byLoad = method == Balancing.Method.BUSYNESS
        ? Integer.compare(a.inFlight(), b.inFlight())
        : Double.compare(a.latencyMillis(), b.latencyMillis());
    return byLoad != 0 ? byLoad < 0 : picks[ai] < picks[bi];
  }
}
