package io.wakeport.routing;

/** What balancing needs to know of a running instance, read without locks. */
public interface InstanceLoad {

  /** Ready or starting: a new session sent to it does not cost a cold start of its own. */
  boolean running();

  /** Cannot be started for now (crash-loop backoff). */
  boolean unavailable();

  int inFlight();

  /** Exponentially weighted response time; 0 before the first sample. */
  double latencyMillis();
}
