package io.wakeport.containment;

import io.wakeport.config.ResourceLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every process of one backend instance, however it was started: the instance's cgroup, or the
 * processes carrying its marker. A process the backend forks, double-forks or daemonizes with
 * setsid stays in it; only the cell, not the process tree, says what is still running. Every
 * method blocks: call them on a worker thread.
 */
public interface Cell {

  /** The instance's name ({@code acme}, {@code acme@first}, {@code apps+acme}). */
  String name();

  /** Environment entries every process of the instance inherits: the marker that finds it in {@code /proc}. */
  Map<String, String> environment();

  /** Files the launching shell writes its own pid into before it becomes the backend (cgroup.procs files). */
  List<Path> joinFiles();

  /**
   * Makes the cell ready for a new start with {@code limits}.
   *
   * @return pids of an earlier run still in the cell, which the caller stops before starting anew
   */
  Set<Long> prepare(ResourceLimits limits) throws IOException;

  /** Its live processes (zombies excluded). */
  Set<Long> members();

  /**
   * Its members, or none only when it is empty for sure: a scan of {@code /proc} can miss a
   * process forked after the scan listed the pids by a parent that exited before the scan read
   * it, so the marker looks again; a cgroup never misses a process.
   */
  Set<Long> settledMembers();

  /** {@link #settledMembers} is empty. */
  default boolean settledEmpty() {
    return settledMembers().isEmpty();
  }

  /** Sends SIGKILL to every member, until none is left or a few rounds have passed. */
  void killAll();

  /** What its processes use now. */
  ResourceUsage usage();

  /** Processes killed for its memory limit since {@link #prepare}: 0 where the machine cannot say. */
  long oomKills();

  /** Removes what {@link #prepare} made, once the cell is empty. */
  void remove();

  /** For logs: "cgroup /sys/fs/cgroup/…/acme" or "marker WAKEPORT_CELL=…". */
  String describe();
}
