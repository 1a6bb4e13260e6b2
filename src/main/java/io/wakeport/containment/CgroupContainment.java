package io.wakeport.containment;

import io.wakeport.config.ResourceLimits;
import io.wakeport.containment.CgroupHierarchies.Hierarchy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cgroup per instance under {@code <wakeport's own cgroup>/wakeport.<state id>}. Grouping uses
 * cgroup v2 where it is mounted (with {@code cgroup.kill}), else a v1 hierarchy. Each limit uses
 * the v2 controller when it is enabled there, else the v1 hierarchy that carries it (a hybrid
 * machine keeps memory, cpu and pids on v1).
 */
final class CgroupContainment implements Containment {

  private static final Logger log = LoggerFactory.getLogger(CgroupContainment.class);
  private static final List<String> LIMIT_CONTROLLERS = List.of("memory", "cpu", "pids");
  /** v1 hierarchies good for grouping alone, best first. */
  private static final List<String> V1_GROUPING = List.of("pids", "name=systemd", "memory", "cpu", "freezer");
  private static volatile String whyNone = "no cgroup hierarchy is mounted";

  private final String id;
  /** Where the instances' grouping cgroups are made. */
  private final CgroupBase grouping;
  /** Per limit controller, where its cgroups are made (the grouping base when v2 carries it). */
  private final Map<String, CgroupBase> limitBases;
  private final Map<String, String> unavailable;
  private final Map<String, CgroupCell> cells = new ConcurrentHashMap<>();

  /** A directory under which instance cgroups are made, in a hierarchy of {@code version}. */
  record CgroupBase(int version, Path dir) {}

  private CgroupContainment(String id, CgroupBase grouping, Map<String, CgroupBase> limitBases,
      Map<String, String> unavailable) {
    this.id = id;
    this.grouping = grouping;
    this.limitBases = limitBases;
    this.unavailable = unavailable;
  }

  static String whyNone() {
    return whyNone;
  }

  /** The cgroups this machine lets wakeport make, or null (then {@link #whyNone} says why). */
  static CgroupContainment detect(String id) {
    List<Hierarchy> hierarchies = CgroupHierarchies.discover();
    if (hierarchies.isEmpty()) {
      whyNone = "no cgroup hierarchy is mounted or /proc/self/cgroup is unreadable";
      return null;
    }
    String baseName = "wakeport." + id;
    Hierarchy v2 = hierarchies.stream().filter(h -> h.version() == 2).findFirst().orElse(null);
    CgroupBase grouping = null;
    List<String> failures = new ArrayList<>();
    if (v2 != null) {
      grouping = makeBase(2, v2.ownDir().resolve(baseName), failures);
    }
    if (grouping == null) {
      for (String want : V1_GROUPING) {
        Hierarchy h = hierarchies.stream().filter(x -> x.version() == 1 && x.controllers().contains(want))
            .findFirst().orElse(null);
        if (h != null && (grouping = makeBase(1, h.ownDir().resolve(baseName), failures)) != null) {
          break;
        }
      }
    }
    if (grouping == null) {
      whyNone = "no cgroup can be made here: " + String.join("; ", failures);
      return null;
    }
    Map<String, CgroupBase> limits = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    for (String controller : LIMIT_CONTROLLERS) {
      String why;
      if (grouping.version() == 2 && v2.controllers().contains(controller)) {
        why = V2Controllers.enable(v2.ownDir(), grouping.dir(), controller);
        if (why == null) {
          limits.put(controller, grouping);
          continue;
        }
      } else {
        why = "cgroup v2 does not offer it here";
      }
      Hierarchy v1 = hierarchies.stream().filter(h -> h.version() == 1 && h.controllers().contains(controller))
          .findFirst().orElse(null);
      if (v1 != null) {
        if (grouping.version() == 1 && v1.ownDir().resolve(baseName).equals(grouping.dir())) {
          limits.put(controller, grouping);
          continue;
        }
        CgroupBase base = makeBase(1, v1.ownDir().resolve(baseName), failures);
        if (base != null) {
          limits.put(controller, base);
          continue;
        }
        why = why + "; cgroup v1 " + v1.ownDir() + " is not writable";
      }
      unavailable.put(controller, why);
    }
    return new CgroupContainment(id, grouping, limits, unavailable);
  }

  private static CgroupBase makeBase(int version, Path dir, List<String> failures) {
    try {
      Files.createDirectories(dir);
      return new CgroupBase(version, dir);
    } catch (IOException | SecurityException e) {
      failures.add("cannot create " + dir + " (" + e.getClass().getSimpleName() + ")");
      return null;
    }
  }

  @Override
  public String describe() {
    StringBuilder sb = new StringBuilder("containment: a cgroup per instance under ").append(grouping.dir())
        .append(" (cgroup v").append(grouping.version()).append(grouping.version() == 2 ? ", killed with cgroup.kill" : "")
        .append(")");
    if (!limitBases.isEmpty()) {
      sb.append("; limits ");
      List<String> parts = new ArrayList<>();
      limitBases.forEach((c, base) -> parts.add(c + (base == grouping ? "" : " (cgroup v" + base.version() + " " + base.dir() + ")")));
      sb.append(String.join(", ", parts));
    }
    if (!unavailable.isEmpty()) {
      sb.append("; cannot limit ").append(String.join(", ", unavailable.keySet()));
    }
    return sb.toString();
  }

  @Override
  public String unenforceable(ResourceLimits limits) {
    List<String> missing = new ArrayList<>();
    for (String controller : limits.controllers()) {
      if (unavailable.containsKey(controller)) {
        missing.add(controller + " (" + unavailable.get(controller) + ")");
      }
    }
    return missing.isEmpty() ? null : "cannot be enforced here: " + String.join(", ", missing);
  }

  @Override
  public Cell cell(String name) {
    return cells.computeIfAbsent(name, n -> new CgroupCell(n, id, grouping, limitBases));
  }

  @Override
  public String cellOf(long pid) {
    String marked = MarkerContainment.markedCell(pid, id);
    if (marked != null) {
      return marked;
    }
    // A process that cleared its environment is still in its cgroup.
    try {
      String needle = "/wakeport." + id + "/";
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
        int at = line.indexOf(needle);
        if (at >= 0) {
          String rest = line.substring(at + needle.length());
          int slash = rest.indexOf('/');
          return slash < 0 ? rest : rest.substring(0, slash);
        }
      }
    } catch (IOException ignored) {
      // gone
    }
    return null;
  }

  @Override
  public void close() {
    List<Path> bases = new ArrayList<>();
    bases.add(grouping.dir());
    limitBases.values().forEach(b -> bases.add(b.dir()));
    for (Path base : bases) {
      try {
        Files.deleteIfExists(base); // only succeeds when no instance cgroup is left under it
      } catch (IOException e) {
        log.debug("cgroup {} kept: {}", base, e.toString());
      }
    }
  }
}
