package io.wakeport.routing;

import io.wakeport.config.InstanceConfig;

/** What balancing needs to know of a running instance, read without locks. */
public interface InstanceLoad {

  /** Ready or starting: a new session sent to it does not cost a cold start of its own. */
  boolean running();

  /** Cannot be started for now (crash-loop backoff). */
  boolean unavailable();

  int inFlight();

  /** Exponentially weighted response time; 0 before the first sample. */
  double latencyMillis();

  /** The operator's mode, over the config's {@code disabled} and {@code standby}; null to follow the config. */
  default MemberMode mode() {
    return null;
  }

  /** The operator's weight, over the config's; 0 to follow the config. */
  default int weight() {
    return 0;
  }

  /** The load a registered member last reported, 1 (idle) to 100 (full); 0 for one that reports none. */
  default int load() {
    return 0;
  }

  /** What {@code config} and the operator's override make of this instance. */
  default MemberMode effectiveMode(InstanceConfig config) {
    return MemberMode.effective(mode(), config);
  }

  /**
   * The weight balancing uses: the operator's or the config's, times the room the member says it
   * has left, {@code 101 - load} (mod_cluster's load factor, turned round: there 100 is idle). A
   * member that reports no load counts as idle (x100), so weights keep their ratios among those,
   * and one at load 100 keeps a hundredth of its share rather than none.
   */
  default int effectiveWeight(InstanceConfig config) {
    int set = weight();
    int load = load();
    return (set > 0 ? set : config.weight()) * (101 - Math.max(1, Math.min(100, load)));
  }
}
