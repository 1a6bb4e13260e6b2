package io.wakeport.config;

import java.lang.management.ManagementFactory;

/**
 * Limits over all tenants, and what happens to backends when wakeport exits.
 *
 * @param maxRunning  instances wakeport may run at once; past it the least recently used idle one is stopped
 * @param maxStarting instances that may be starting at once
 * @param keepOnExit  leave backends running when wakeport exits (the next wakeport adopts them)
 * @param maxRunningDefaulted max-running was not set, so it is {@link #defaultMaxRunning} of this machine
 * @param containment how each instance's processes are kept together (read once, at start)
 */
public record SupervisorSettings(int maxRunning, int maxStarting, boolean keepOnExit, boolean maxRunningDefaulted,
    ContainmentMode containment) {

  /** Memory a backend is assumed to take when max-running is not set. */
  public static final long MIB_PER_BACKEND = 64;
  public static final int MIN_DEFAULT_RUNNING = 16;
  public static final int MAX_DEFAULT_RUNNING = 4096;

  public static SupervisorSettings defaults() {
    return new SupervisorSettings(defaultMaxRunning(totalMemoryBytes()), 2 * Runtime.getRuntime().availableProcessors(),
        false, true, ContainmentMode.AUTO);
  }

  /**
   * max-running when the config does not set it: the machine's memory over {@value #MIB_PER_BACKEND}
   * MiB a backend, at least {@value #MIN_DEFAULT_RUNNING}, at most {@value #MAX_DEFAULT_RUNNING}
   * ({@code totalBytes} 0 or less, memory unknown: the minimum).
   */
  public static int defaultMaxRunning(long totalBytes) {
    long n = totalBytes <= 0 ? 0 : totalBytes / (MIB_PER_BACKEND * 1024 * 1024);
    return (int) Math.max(MIN_DEFAULT_RUNNING, Math.min(MAX_DEFAULT_RUNNING, n));
  }

  /** For the start log: max-running and where it comes from. */
  public String describeMaxRunning() {
    if (!maxRunningDefaulted) {
      return "max-running " + maxRunning + " (from the config)";
    }
    long total = totalMemoryBytes();
    return "max-running " + maxRunning + " (default: " + (total <= 0 ? "memory unknown" : total / (1024 * 1024)
        + " MiB memory") + " / " + MIB_PER_BACKEND + " MiB a backend, within " + MIN_DEFAULT_RUNNING + "-"
        + MAX_DEFAULT_RUNNING + "; set max-running to change it)";
  }

  /** Physical memory (the container's limit inside one), or 0 when the JVM cannot say. */
  public static long totalMemoryBytes() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return 0;
  }
}
