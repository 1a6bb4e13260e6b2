package io.wakeport.containment;

import io.wakeport.config.ResourceLimits;
import io.wakeport.containment.CgroupContainment.CgroupBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance's cgroups: its grouping cgroup, and one per v1 hierarchy that carries a limit.
 * The launch shell joins all of them before it execs the backend, so every descendant is born
 * inside.
 */
final class CgroupCell implements Cell {

  private static final Logger log = LoggerFactory.getLogger(CgroupCell.class);
  private static final long CPU_PERIOD_MICROS = 100_000;

  private final String name;
  private final String marker;
  private final CgroupBase grouping;
  private final Path groupDir;
  /** Per limit controller, this instance's cgroup for it. */
  private final Map<String, Path> limitDirs = new java.util.LinkedHashMap<>();
  private final Map<String, Integer> limitVersions = new java.util.HashMap<>();
  /** Every cgroup of the instance, grouping first. */
  private final List<Path> dirs = new ArrayList<>();
  private volatile long oomBaseline;

  CgroupCell(String name, String id, CgroupBase grouping, Map<String, CgroupBase> limitBases) {
    this.name = name;
    this.marker = id + "/" + name;
    this.grouping = grouping;
    this.groupDir = grouping.dir().resolve(name);
    dirs.add(groupDir);
    limitBases.forEach((controller, base) -> {
      Path dir = base.dir().resolve(name);
      limitDirs.put(controller, dir);
      limitVersions.put(controller, base.version());
      if (!dirs.contains(dir)) {
        dirs.add(dir);
      }
    });
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Map<String, String> environment() {
    return Map.of(Containment.MARKER, marker);
  }

  @Override
  public List<Path> joinFiles() {
    return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
  }

  @Override
  public Set<Long> prepare(ResourceLimits limits) throws IOException {
    for (Path dir : dirs) {
      Files.createDirectories(dir);
    }
    Set<Long> strays = members();
    applyLimits(limits);
    oomBaseline = rawOomKills();
    return strays;
  }

  /** Sets every knob, to its limit or to unlimited: a cgroup kept from an earlier start may hold old values. */
  private void applyLimits(ResourceLimits limits) throws IOException {
    Path memory = limitDirs.get("memory");
    if (memory != null) {
      if (limitVersions.get("memory") == 2) {
        CgroupFiles.write(memory.resolve("memory.max"), limits.memoryBytes() > 0 ? Long.toString(limits.memoryBytes()) : "max");
        // Swap would let a backend pass its limit slowly instead of being stopped at it.
        CgroupFiles.writeIfPresent(memory.resolve("memory.swap.max"), limits.memoryBytes() > 0 ? "0" : "max");
      } else {
        String value = limits.memoryBytes() > 0 ? Long.toString(limits.memoryBytes()) : "-1";
        // memsw must stay at least limit_in_bytes: lift it first, then set both.
        CgroupFiles.writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), "-1");
        CgroupFiles.write(memory.resolve("memory.limit_in_bytes"), value);
        CgroupFiles.writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), value);
      }
    }
    Path cpu = limitDirs.get("cpu");
    if (cpu != null) {
      long quota = limits.cpus() > 0 ? Math.max(1000, Math.round(limits.cpus() * CPU_PERIOD_MICROS)) : -1;
      if (limitVersions.get("cpu") == 2) {
        CgroupFiles.write(cpu.resolve("cpu.max"), (quota > 0 ? Long.toString(quota) : "max") + " " + CPU_PERIOD_MICROS);
      } else {
        CgroupFiles.write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_MICROS));
        CgroupFiles.write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(quota));
      }
    }
    Path pids = limitDirs.get("pids");
    if (pids != null) {
      CgroupFiles.write(pids.resolve("pids.max"), limits.pids() > 0 ? Integer.toString(limits.pids()) : "max");
    }
  }

  @Override
  public Set<Long> members() {
    Set<Long> pids = new LinkedHashSet<>();
    // A backend allowed to make cgroups of its own may put processes below its cgroup: count them too.
    try (Stream<Path> tree = Files.walk(groupDir)) {
      for (Path file : tree.filter(p -> p.getFileName().toString().equals("cgroup.procs")).toList()) {
        for (String line : Files.readAllLines(file)) {
          if (!line.isBlank()) {
            long pid = Long.parseLong(line.trim());
            if (!ProcFs.zombie(pid)) {
              pids.add(pid);
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not made yet, or removed: no members
    }
    return pids;
  }

  /** One look: a child is in its parent's cgroup from the moment it is forked, so none is ever missed. */
  @Override
  public Set<Long> settledMembers() {
    return members();
  }

  @Override
  public void killAll() {
    Path kill = groupDir.resolve("cgroup.kill");
    if (grouping.version() == 2 && Files.exists(kill)) {
      try {
        // One write kills every process in the cgroup and its descendants, forks in flight included.
        CgroupFiles.write(kill, "1");
        for (int i = 0; i < 200 && !members().isEmpty(); i++) {
          MarkerContainment.sleepBriefly();
        }
        return;
      } catch (IOException e) {
        log.debug("cgroup.kill of {} failed, killing its members one by one: {}", groupDir, e.toString());
      }
    }
    for (int round = 0; round < 20; round++) {
      Set<Long> left = members();
      if (left.isEmpty()) {
        return;
      }
      Signals.send("KILL", left.stream().map(String::valueOf).toList());
      MarkerContainment.sleepBriefly();
    }
  }

  @Override
  public ResourceUsage usage() {
    Set<Long> pids = members();
    long memory = -1;
    Path memDir = limitDirs.get("memory");
    if (memDir != null) {
      memory = CgroupFiles.number(memDir.resolve(limitVersions.get("memory") == 2 ? "memory.current" : "memory.usage_in_bytes"));
    }
    long cpu = -1;
    if (grouping.version() == 2) {
      long micros = CgroupFiles.keyed(groupDir.resolve("cpu.stat"), "usage_usec");
      cpu = micros < 0 ? -1 : micros * 1000;
    }
    if (memory < 0 || cpu < 0) {
      long rss = 0;
      long nanos = 0;
      for (long pid : pids) {
        rss += ProcFs.rssBytes(pid);
        nanos += ProcFs.cpuNanos(pid);
      }
      memory = memory < 0 ? rss : memory;
      cpu = cpu < 0 ? nanos : cpu;
    }
    return new ResourceUsage(memory, cpu, pids.size(), oomKills());
  }

  @Override
  public long oomKills() {
    long raw = rawOomKills();
    return raw < 0 ? 0 : Math.max(0, raw - oomBaseline);
  }

  private long rawOomKills() {
    Path memDir = limitDirs.get("memory");
    if (memDir == null) {
      return -1;
    }
    return limitVersions.get("memory") == 2
        ? CgroupFiles.keyed(memDir.resolve("memory.events"), "oom_kill")
        : CgroupFiles.keyed(memDir.resolve("memory.oom_control"), "oom_kill");
  }

  @Override
  public void remove() {
    for (Path dir : dirs) {
      // Deepest first: a backend's own sub-cgroups must go before its cgroup can.
      List<Path> tree = new ArrayList<>();
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.filter(Files::isDirectory).forEach(tree::add);
      } catch (IOException e) {
        continue; // already gone
      }
      tree.sort(Comparator.comparingInt(Path::getNameCount).reversed());
      for (Path p : tree) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.debug("cgroup {} not removed: {}", p, e.toString());
        }
      }
    }
  }

  @Override
  public String describe() {
    return "cgroup " + groupDir;
  }
}
