package io.wakeport.supervision;

import io.wakeport.containment.Cell;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A backend process wakeport started (or adopted from an earlier run): its pid, when it started
 * (so a reused pid is never taken for it), whether it leads its own process group, its log, and
 * the {@link Cell} that holds it and everything it starts.
 */
public final class ManagedProcess {

  private final ProcessHandle handle;
  private final Instant startedAt;
  private final boolean groupLeader;
  private final Path logFile;
  private final Cell cell;
  private final CompletableFuture<Integer> exit;
  /** Set when the launcher exited 0 and left its daemon running: the pid the instance now lives in. */
  private volatile long daemonPid = -1;
  /** Processes of its cell the kernel killed for its memory limit, as counted when it ended. */
  private volatile long oomKills;
  private volatile boolean stopRequested;

  private ManagedProcess(ProcessHandle handle, Instant startedAt, boolean groupLeader, Path logFile, Cell cell,
      CompletableFuture<Integer> exit) {
    this.handle = handle;
    this.startedAt = startedAt;
    this.groupLeader = groupLeader;
    this.logFile = logFile;
    this.cell = cell;
    this.exit = exit;
  }

  static ManagedProcess spawned(Process process, boolean groupLeader, Path logFile, Cell cell,
      CompletableFuture<Integer> exit) {
    ProcessHandle handle = process.toHandle();
    return new ManagedProcess(handle, startInstant(handle), groupLeader, logFile, cell, exit);
  }

  /** A process of an earlier wakeport run; its exit code cannot be known (-1). */
  static ManagedProcess adopted(ProcessHandle handle, boolean groupLeader, Path logFile, Cell cell) {
    return new ManagedProcess(handle, startInstant(handle), groupLeader, logFile, cell,
        handle.onExit().thenApply(h -> -1));
  }

  static Instant startInstant(ProcessHandle handle) {
    return handle.info().startInstant().orElse(Instant.EPOCH);
  }

  /** The process wakeport started, or the daemon it left behind once it exited. */
  public long pid() {
    long daemon = daemonPid;
    return daemon > 0 ? daemon : handle.pid();
  }

  /** The process wakeport started (a daemonizing launcher's own pid, even after it exited). */
  long launcherPid() {
    return handle.pid();
  }

  public Instant startedAt() {
    return startedAt;
  }

  ProcessHandle handle() {
    return handle;
  }

  boolean groupLeader() {
    return groupLeader;
  }

  Path logFile() {
    return logFile;
  }

  public Cell cell() {
    return cell;
  }

  /** A stop has begun: what the process leaves behind gets the stop's signal and grace, not a KILL at its exit. */
  void requestStop() {
    stopRequested = true;
  }

  boolean stopRequested() {
    return stopRequested;
  }

  void exitedAfterOomKills(long count) {
    oomKills = count;
  }

  /** How many of its processes the kernel killed for the memory limit, once it has ended (else 0). */
  public long oomKills() {
    return oomKills;
  }

  void daemonized(long pid) {
    daemonPid = pid;
  }

  /**
   * Completes once the instance's processes are gone, on a JDK thread: with the exit code of the
   * process wakeport started (-1 when unknown), or, when that exited 0 and left a daemon (as
   * systemd's {@code Type=forking}), with -1 once the last process of its cell has exited.
   */
  public CompletableFuture<Integer> exit() {
    return exit;
  }

  /** Whether the instance lives: the process wakeport started, or the daemon it left behind. */
  public boolean isAlive() {
    return handle.isAlive() || (daemonPid > 0 && !exit.isDone());
  }
}
