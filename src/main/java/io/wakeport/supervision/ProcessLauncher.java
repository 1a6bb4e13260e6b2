package io.wakeport.supervision;

import io.wakeport.config.LaunchSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.StartedProcess;

/**
 * Starts backend processes and stops whole process trees. Every method blocks: call them on a
 * worker thread, never on an event loop.
 *
 * <p>Each backend is started through {@code setsid} so that it leads a process group of its own:
 * a stop signals the whole group, which reaches children a wrapper script forked even after the
 * wrapper itself has died, and a Ctrl-C at wakeport's terminal does not reach the backends.
 */
public final class ProcessLauncher {

  private static final Logger log = LoggerFactory.getLogger(ProcessLauncher.class);
  private static final String SETSID = findProgram("setsid");
  private static final String KILL = findProgram("kill");

  /** @throws IOException when the command cannot be executed at all */
  public ManagedProcess start(LaunchSpec spec, Path logFile) throws IOException {
    if (!Files.isDirectory(spec.workdir())) {
      throw new IOException("working directory " + spec.workdir() + " does not exist");
    }
    // Checked here rather than left to setsid, so the log says what is wrong instead of "exit 127".
    String program = spec.argv().get(0);
    if (resolveProgram(program, spec.env().getOrDefault("PATH", System.getenv("PATH"))) == null) {
      throw new IOException("program not found or not executable");
    }
    Files.createDirectories(logFile.getParent());
    List<String> argv = new ArrayList<>(spec.argv().size() + 6);
    if (SETSID != null) {
      argv.add(SETSID);
    }
    // The shell opens the log in append mode and then becomes the backend (exec keeps the pid), so
    // the backend writes its output itself: no pipe to wakeport, nothing to break when wakeport
    // restarts, and no pumping thread per backend.
    argv.addAll(List.of("/bin/sh", "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1",
        "wakeport-launch", logFile.toString()));
    argv.addAll(spec.argv());
    StartedProcess started = new ProcessExecutor()
        .command(argv)
        .directory(spec.workdir().toFile())
        .environment(spec.env())
        .redirectErrorStream(true)
        .start();
    return ManagedProcess.spawned(started.getProcess(), SETSID != null, logFile);
  }

  /**
   * Runs the spawn path once on a trivial command, so the first tenant woken after wakeport starts
   * does not pay for loading and compiling it (measured: ~170 ms on the first spawn, ~7 ms after).
   */
  public void warmUp() {
    try {
      List<String> argv = new ArrayList<>();
      if (SETSID != null) {
        argv.add(SETSID);
      }
      argv.addAll(List.of("/bin/sh", "-c", "exit 0"));
      new ProcessExecutor().command(argv).redirectErrorStream(true).execute();
    } catch (Exception e) {
      log.debug("spawn warm-up failed: {}", e.toString());
    }
  }

  /**
   * Stops {@code process} and everything it started: {@code signal} to the process group and to
   * every descendant, then KILL to whatever is still alive after {@code grace}.
   *
   * @return true when everything exited within the grace period
   */
  public boolean stopTree(ManagedProcess process, String signal, Duration grace) {
    // Snapshot the tree first: once the parent dies, its children are reparented and lost to us.
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(process.handle());
    process.handle().descendants().forEach(tree::add);
    signalAll(process, tree, signal);
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : tree) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        }
      } catch (Exception ignored) {
        // timed out or interrupted: KILL below
      }
    }
    List<ProcessHandle> survivors = tree.stream().filter(ProcessHandle::isAlive).toList();
    boolean graceful = survivors.isEmpty();
    if (!graceful) {
      log.warn("pid {}: {} of its process tree still alive {} ms after {}; sending KILL",
          process.pid(), survivors.size(), grace.toMillis(), signal);
      signalAll(process, survivors, "KILL");
      for (ProcessHandle h : survivors) {
        try {
          h.onExit().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
          log.error("pid {} survived KILL", h.pid());
        }
      }
    }
    return graceful;
  }

  private void signalAll(ManagedProcess process, List<ProcessHandle> handles, String signal) {
    List<String> targets = new ArrayList<>();
    if (process.groupLeader()) {
      targets.add("-" + process.pid());
    }
    for (ProcessHandle h : handles) {
      targets.add(Long.toString(h.pid()));
    }
    if (KILL == null) {
      // No kill(1): the JDK can only send TERM and KILL, and only to single processes.
      handles.forEach(h -> { if (signal.equals("KILL")) h.destroyForcibly(); else h.destroy(); });
      return;
    }
    List<String> cmd = new ArrayList<>(List.of(KILL, "-s", signal, "--"));
    cmd.addAll(targets);
    try {
      // kill exits non-zero when some targets are already gone; that is expected here.
      new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      handles.forEach(ProcessHandle::destroyForcibly);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The executable {@code program} names: itself when it holds a slash, else the first match on PATH. */
  static Path resolveProgram(String program, String path) {
    if (program.contains("/")) {
      Path p = Path.of(program);
      return Files.isExecutable(p) && !Files.isDirectory(p) ? p : null;
    }
    for (String dir : (path == null ? "" : path).split(":")) {
      if (dir.isEmpty()) continue;
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p) && !Files.isDirectory(p)) {
        return p;
      }
    }
    return null;
  }

  private static String findProgram(String name) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
