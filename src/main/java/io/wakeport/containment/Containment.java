package io.wakeport.containment;

import io.wakeport.config.ContainmentMode;
import io.wakeport.config.ConfigProblem;
import io.wakeport.config.ResourceLimits;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.nio.file.Path;

/**
 * How this machine keeps each backend instance's processes together, found out at start
 * ({@link #detect}): a cgroup per instance where one can be made (as systemd's
 * {@code KillMode=control-group}), or else a marker in every child's environment, found through
 * {@code /proc}. The cgroup is the kernel's own grouping and nothing escapes it; the marker
 * catches double-forked, setsid and daemonized children too, but not a process that clears its
 * own environment.
 */
public interface Containment {

  /**
   * The limits in {@code config} this machine cannot enforce, each at the config line that sets
   * them (once per line, however many tenants inherit it from defaults).
   */
  default List<ConfigProblem> unenforceable(WakeportConfig config) {
    Map<String, ConfigProblem> problems = new LinkedHashMap<>();
    for (TenantConfig tenant : config.tenants().values()) {
      ResourceLimits limits = tenant.policy().limits();
      String why = limits.any() ? unenforceable(limits) : null;
      if (why != null) {
        ConfigProblem problem = limits.at(why);
        problems.putIfAbsent(problem.file() + ":" + problem.line(), problem);
      }
    }
    return List.copyOf(problems.values());
  }

  /** The environment variable that marks every process of an instance. */
  String MARKER = "WAKEPORT_CELL";

  /** For the start log: the mechanism, where, and which limits it can enforce. */
  String describe();

  /** Null when {@code limits} can all be enforced here, or what cannot and why. */
  String unenforceable(ResourceLimits limits);

  /** The cell of the instance named {@code name}; nothing is made until {@link Cell#prepare}. */
  Cell cell(String name);

  /** The name of the cell that {@code pid} belongs to, or null when it is not one of this wakeport's (blocking). */
  String cellOf(long pid);

  /** Removes what is left of the containment once no cell is in use (blocking). */
  void close();

  /**
   * What this machine allows for the wakeport whose state is in {@code stateDir}: each state dir
   * has its own cgroups and markers, so two wakeports never take each other's processes.
   *
   * @throws IllegalStateException when {@code mode} is CGROUP and no cgroup can be made
   */
  static Containment detect(Path stateDir, ContainmentMode mode) {
    String id = CellId.of(stateDir);
    if (mode != ContainmentMode.MARKER) {
      CgroupContainment cgroups = CgroupContainment.detect(id);
      if (cgroups != null) {
        return cgroups;
      }
      if (mode == ContainmentMode.CGROUP) {
        throw new IllegalStateException("containment: cgroup was asked for, but " + CgroupContainment.whyNone());
      }
    }
    return new MarkerContainment(id, mode == ContainmentMode.MARKER ? "containment: marker is set in the config"
        : CgroupContainment.whyNone());
  }
}
