package io.wakeport.containment;

/**
 * What one instance's processes use now, all together.
 *
 * @param memoryBytes current memory; -1 when unknown
 * @param cpuNanos    CPU time used so far (user and system); -1 when unknown
 * @param processes   live processes in the instance
 * @param oomKills    processes the kernel killed for the instance's memory limit, since it started
 */
public record ResourceUsage(long memoryBytes, long cpuNanos, int processes, long oomKills) {

  public static final ResourceUsage UNKNOWN = new ResourceUsage(-1, -1, 0, 0);
}
