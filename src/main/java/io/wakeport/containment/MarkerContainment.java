package io.wakeport.containment;

import io.wakeport.config.ResourceLimits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fallback where no cgroup can be made: every process of an instance inherits
 * {@code WAKEPORT_CELL=<state id>/<instance>}, and the cell is whatever {@code /proc} shows
 * carrying it. Limits cannot be enforced; usage is summed over the members.
 */
final class MarkerContainment implements Containment {

  private final String id;
  private final String why;

  MarkerContainment(String id, String why) {
    this.id = id;
    this.why = why;
  }

  @Override
  public String describe() {
    return "containment: process marker " + MARKER + "=" + id + "/<instance>, found through /proc (" + why
        + "); limits cannot be enforced; a process that clears its environment escapes it";
  }

  @Override
  public String unenforceable(ResourceLimits limits) {
    return limits.any() ? "limits cannot be enforced: processes are kept together by marker, not by cgroups ("
        + why + ")" : null;
  }

  @Override
  public Cell cell(String name) {
    return new MarkerCell(name, id + "/" + name);
  }

  @Override
  public String cellOf(long pid) {
    return markedCell(pid, id);
  }

  /** The instance named by {@code pid}'s marker for state {@code id}, or null. */
  static String markedCell(long pid, String id) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
      String prefix = MARKER + "=" + id + "/";
      for (String entry : new String(raw, StandardCharsets.UTF_8).split("\0")) {
        if (entry.startsWith(prefix)) {
          return entry.substring(prefix.length());
        }
      }
    } catch (java.io.IOException ignored) {
      // gone, or another user's: not ours
    }
    return null;
  }

  @Override
  public void close() {
    // nothing was made
  }

  private static final class MarkerCell implements Cell {
    private final String name;
    private final String value;

    MarkerCell(String name, String value) {
      this.name = name;
      this.value = value;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Map<String, String> environment() {
      return Map.of(MARKER, value);
    }

    @Override
    public List<Path> joinFiles() {
      return List.of();
    }

    @Override
    public Set<Long> prepare(ResourceLimits limits) {
      return members();
    }

    @Override
    public Set<Long> members() {
      return ProcFs.withEnvironment(MARKER + "=" + value);
    }

    /**
     * Five looks 20 ms apart: a daemonizing chain (setsid, a subshell, the server) can stay a step
     * ahead of one scan of {@code /proc} on a loaded machine, not of five.
     */
    @Override
    public Set<Long> settledMembers() {
      for (int look = 0; look < 5; look++) {
        Set<Long> found = members();
        if (!found.isEmpty()) {
          return found;
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      return Set.of();
    }

    @Override
    public void killAll() {
      // A member may fork while it is being killed: a few rounds catch what it made meanwhile.
      for (int round = 0; round < 20; round++) {
        Set<Long> left = members();
        if (left.isEmpty() && settledEmpty()) {
          return;
        }
        Signals.send("KILL", left.stream().map(String::valueOf).toList());
        sleepBriefly();
      }
    }

    @Override
    public ResourceUsage usage() {
      Set<Long> pids = members();
      long memory = 0;
      long cpu = 0;
      for (long pid : pids) {
        memory += ProcFs.rssBytes(pid);
        cpu += ProcFs.cpuNanos(pid);
      }
      return new ResourceUsage(memory, cpu, pids.size(), 0);
    }

    @Override
    public long oomKills() {
      return 0;
    }

    @Override
    public void remove() {
      // nothing was made
    }

    @Override
    public String describe() {
      return "marker " + MARKER + "=" + value;
    }
  }

  static void sleepBriefly() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
