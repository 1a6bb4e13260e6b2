package io.wakeport.config;

import java.util.ArrayList;
import java.util.List;

/**
 * What one backend instance may use, all its processes together ({@code limits:} of a tenant).
 *
 * @param memoryBytes memory (resident and swap together where the machine can say so); 0 = unlimited
 * @param cpus        CPU time as a number of CPUs (0.5 = half of one); 0 = unlimited
 * @param pids        processes and threads; 0 = unlimited
 * @param source      where the config sets them (null when it does not), for warnings about this machine
 */
public record ResourceLimits(long memoryBytes, double cpus, int pids, ConfigProblem source) {

  public static final ResourceLimits NONE = new ResourceLimits(0, 0, 0, null);

  /**
   * {@code problem} (what this machine cannot enforce) at the config line that sets these limits.
   */
  public ConfigProblem at(String problem) {
    return source == null ? new ConfigProblem(null, 0, "limits", problem)
        : new ConfigProblem(source.file(), source.line(), source.key(), problem);
  }

  public boolean any() {
    return memoryBytes > 0 || cpus > 0 || pids > 0;
  }

  /** The controllers these limits need: {@code memory}, {@code cpu}, {@code pids}. */
  public List<String> controllers() {
    List<String> list = new ArrayList<>(3);
    if (memoryBytes > 0) list.add("memory");
    if (cpus > 0) list.add("cpu");
    if (pids > 0) list.add("pids");
    return list;
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>(3);
    if (memoryBytes > 0) parts.add("memory " + memoryBytes / (1024 * 1024) + "M");
    if (cpus > 0) parts.add("cpu " + cpus);
    if (pids > 0) parts.add("pids " + pids);
    return parts.isEmpty() ? "none" : String.join(", ", parts);
  }
}
