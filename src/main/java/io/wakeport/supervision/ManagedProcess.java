package io.wakeport.supervision;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A backend process wakeport started: its pid, when it started (so a reused pid is never taken for
 * it), whether it leads its own process group, and its output log.
 */
public final class ManagedProcess {

  private final ProcessHandle handle;
  private final Instant startedAt;
  private final boolean groupLeader;
  private final BackendLog log;
  private final CompletableFuture<Integer> exit;

  ManagedProcess(Process process, boolean groupLeader, BackendLog log) {
    this.handle = process.toHandle();
    this.startedAt = handle.info().startInstant().orElse(Instant.now());
    this.groupLeader = groupLeader;
    this.log = log;
    this.exit = process.onExit().thenApply(Process::exitValue);
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

  /** Completes with the exit code once the process has exited, on a JDK thread. */
  public CompletableFuture<Integer> exit() {
    return exit;
  }

  public boolean isAlive() {
    return handle.isAlive();
  }

  List<String> lastOutput() {
    return log.lastLines();
  }

  BackendLog log() {
    return log;
  }
}
