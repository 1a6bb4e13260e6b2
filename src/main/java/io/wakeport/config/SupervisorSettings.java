package io.wakeport.config;

/**
 * Limits over all tenants, and what happens to backends when wakeport exits.
 *
 * @param maxRunning  instances wakeport may run at once; past it the least recently used idle one is stopped
 * @param maxStarting instances that may be starting at once
 * @param keepOnExit  leave backends running when wakeport exits (the next wakeport adopts them)
 */
public record SupervisorSettings(int maxRunning, int maxStarting, boolean keepOnExit) {

  public static SupervisorSettings defaults() {
    return new SupervisorSettings(Integer.MAX_VALUE, 2 * Runtime.getRuntime().availableProcessors(), false);
  }
}
