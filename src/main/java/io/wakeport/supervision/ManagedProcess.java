package io.wakeport.supervision;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A backend process wakeport started (or adopted from an earlier run): its pid, when it started
 * (so a reused pid is never taken for it), whether it leads its own process group, and its log.
 */
public final class ManagedProcess {

  private final ProcessHandle handle;
  private final Instant startedAt;
  private final boolean groupLeader;
  private final Path logFile;
  private final CompletableFuture<Integer> exit;

  private ManagedProcess(ProcessHandle handle, Instant startedAt, boolean groupLeader, Path logFile,
      CompletableFuture<Integer> exit) {
    this.handle = handle;
    this.startedAt = startedAt;
    this.groupLeader = groupLeader;
    this.logFile = logFile;
    this.exit = exit;
  }

  static ManagedProcess spawned(Process process, boolean groupLeader, Path logFile) {
    ProcessHandle handle = process.toHandle();
    return new ManagedProcess(handle, startInstant(handle), groupLeader, logFile,
        process.onExit().thenApply(Process::exitValue));
  }

  /** A process of an earlier wakeport run; its exit code cannot be known (-1). */
  static ManagedProcess adopted(ProcessHandle handle, boolean groupLeader, Path logFile) {
    return new ManagedProcess(handle, startInstant(handle), groupLeader, logFile,
        handle.onExit().thenApply(h -> -1));
  }

  static Instant startInstant(ProcessHandle handle) {
    return handle.info().startInstant().orElse(Instant.EPOCH);
  }

  public long pid() {
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

  /** Completes with the exit code (-1 when unknown) once the process has exited, on a JDK thread. */
  public CompletableFuture<Integer> exit() {
    return exit;
  }

  public boolean isAlive() {
    return handle.isAlive();
  }
}
