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

  /** What {@code config} and the operator's override make of this instance. */
  default MemberMode effectiveMode(InstanceConfig config) {
    return MemberMode.effective(mode(), config);
  }

  default int effectiveWeight(InstanceConfig config) {
    int set = weight();
    return set > 0 ? set : config.weight();
  }
}
