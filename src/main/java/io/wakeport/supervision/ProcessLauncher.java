package io.wakeport.supervision;

import io.wakeport.config.LaunchSpec;
import io.wakeport.config.ResourceLimits;
import io.wakeport.containment.Cell;
import io.wakeport.containment.Containment;
import io.wakeport.containment.Signals;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.StartedProcess;

/**
 * Starts backend processes inside their instance's {@link Cell} and stops whole cells. Every
 * method blocks: call them on a worker thread, never on an event loop.
 *
 * <p>Each backend is started through {@code setsid} so that it leads a process group of its own
 * (a Ctrl-C at wakeport's terminal does not reach it), and through a shell that joins the cell
 * (writes itself into the cell's cgroups) before it execs the backend, so every descendant is
 * born inside, a double-forked or setsid daemon included.
 */
public final class ProcessLauncher {

  private static final Logger log = LoggerFactory.getLogger(ProcessLauncher.class);
  private static final String SETSID = Signals.find("setsid");
  /** Joins the cell, opens the log in append mode and becomes the backend (exec keeps the pid). */
  private static final String LAUNCH_SCRIPT = "log=$1; n=$2; shift 2; "
      + "while [ \"$n\" -gt 0 ]; do echo $$ 2>/dev/null >\"$1\" || { echo \"wakeport: cannot join $1\" >>\"$log\"; exit 125; }; "
      + "shift; n=$((n-1)); done; exec \"$@\" </dev/null >>\"$log\" 2>&1";
  /** How often the cell of a daemonized backend is checked for its last process. */
  private static final long DAEMON_POLL_MILLIS = 100;

  private final Containment containment;
  private final ScheduledExecutorService daemonWatch = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "wakeport-daemon-watch");
    t.setDaemon(true);
    return t;
  });

  public ProcessLauncher(Containment containment) {
    this.containment = containment;
  }

  public Containment containment() {
    return containment;
  }

  /** Stops watching daemonized backends (they are stopped, or kept, by the caller). */
  public void close() {
    daemonWatch.shutdownNow();
  }

  /**
   * Starts {@code spec} in the cell named {@code name}, under {@code limits}. Processes an earlier
   * run left in that cell are killed first: they are ours, and would hold the port.
   *
   * @throws IOException when the command cannot be executed at all, or the cell cannot be made
   */
  public ManagedProcess start(String name, LaunchSpec spec, ResourceLimits limits, Path logFile) throws IOException {
    if (!Files.isDirectory(spec.workdir())) {
      throw new IOException("working directory " + spec.workdir() + " does not exist");
    }
    // Checked here rather than left to setsid, so the log says what is wrong instead of "exit 127".
    String program = spec.argv().get(0);
    if (resolveProgram(program, spec.env().getOrDefault("PATH", System.getenv("PATH"))) == null) {
      throw new IOException("program not found or not executable");
    }
    Files.createDirectories(logFile.getParent());
    Cell cell = containment.cell(name);
    Set<Long> strays = cell.prepare(limits);
    if (!strays.isEmpty()) {
      log.warn("{}: {} process(es) of an earlier start still in its {}: killing them before starting anew: {}",
          name, strays.size(), cell.describe(), strays);
      cell.killAll();
    }
    List<String> argv = new ArrayList<>(spec.argv().size() + 10);
    if (SETSID != null) {
      argv.add(SETSID);
    }
    List<Path> joins = cell.joinFiles();
    argv.addAll(List.of("/bin/sh", "-c", LAUNCH_SCRIPT, "wakeport-launch", logFile.toString(),
        Integer.toString(joins.size())));
    joins.forEach(p -> argv.add(p.toString()));
    argv.addAll(spec.argv());
    Map<String, String> env = new HashMap<>(spec.env());
    env.putAll(cell.environment());
    StartedProcess started = new ProcessExecutor()
        .command(argv)
        .directory(spec.workdir().toFile())
        .environment(env)
        .redirectErrorStream(true)
        .start();
    Process process = started.getProcess();
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    ManagedProcess managed = ManagedProcess.spawned(process, SETSID != null, logFile, cell, exit);
    process.onExit().thenAccept(p -> afterLauncherExit(managed, p.exitValue(), exit));
    return managed;
  }

  /**
   * The process wakeport started has exited. A launcher that exits 0 and leaves its server
   * running (systemd's {@code Type=forking}) has not ended the instance: it lives on while its
   * cell holds a process.
   */
  private void afterLauncherExit(ManagedProcess process, int code, CompletableFuture<Integer> exit) {
    Cell cell = process.cell();
    if (process.stopRequested()) {
      exit.complete(code); // the stop under way waits for the rest of the cell itself
      return;
    }
    // Only a launcher that exits 0 may have daemonized; what a failed one left, the supervisor stops
    // (Stopping.stopCell) before it starts the instance again, so no kill here can race a new start.
    Set<Long> left = code != 0 ? Set.of() : cell.settledMembers();
    if (left.isEmpty()) {
      process.exitedAfterOomKills(cell.oomKills());
      exit.complete(code);
      return;
    }
    long daemon = left.iterator().next();
    process.daemonized(daemon);
    log.info("{}: pid {} exited 0 and left {} process(es) running ({}): the instance lives while they do",
        process.cell().name(), process.launcherPid(), left.size(), left);
    watchUntilEmpty(process, exit);
  }

  private void watchUntilEmpty(ManagedProcess process, CompletableFuture<Integer> exit) {
    daemonWatch.schedule(() -> {
      Set<Long> left = process.cell().settledMembers();
      if (left.isEmpty()) {
        process.exitedAfterOomKills(process.cell().oomKills());
        exit.complete(-1);
      } else {
        process.daemonized(left.iterator().next());
        watchUntilEmpty(process, exit);
      }
    }, DAEMON_POLL_MILLIS, TimeUnit.MILLISECONDS);
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
   * What a stop found.
   *
   * @param graceful  everything exited within the grace period after the first signal
   * @param survivors processes still alive even after KILL (none, unless the kernel holds them)
   */
  public record StopOutcome(boolean graceful, Set<Long> survivors) {

    /** For the instance's transition: true only when nothing of it is left. */
    public String describe(Cell cell) {
      return survivors.isEmpty() ? "process tree gone (" + cell.describe() + " empty)"
          : survivors.size() + " process(es) of its " + cell.describe() + " still alive after KILL: " + survivors;
    }
  }

  /**
   * Stops {@code process} and everything of its cell: {@code signal} to the process group, the
   * process tree and every member of the cell, then KILL to whatever is still alive after
   * {@code grace}.
   */
  public StopOutcome stop(ManagedProcess process, String signal, Duration grace) {
    process.requestStop();
    Cell cell = process.cell();
    // Snapshot the tree too: a process that cleared its marker is still a child of ours until it double-forks.
    Set<ProcessHandle> tree = new LinkedHashSet<>();
    tree.add(process.handle());
    process.handle().descendants().forEach(tree::add);
    List<String> targets = new ArrayList<>();
    if (process.groupLeader() && process.handle().isAlive()) {
      targets.add("-" + process.launcherPid());
    }
    tree.forEach(h -> targets.add(Long.toString(h.pid())));
    cell.members().forEach(pid -> targets.add(Long.toString(pid)));
    Signals.send(signal, targets);
    long deadline = System.nanoTime() + grace.toNanos();
    boolean graceful = false;
    while (true) {
      // One cheap look each round; the settling looks (five /proc scans with the marker) only once it seems empty.
      if (tree.stream().noneMatch(ProcessHandle::isAlive) && cell.members().isEmpty() && cell.settledEmpty()) {
        graceful = true;
        break;
      }
      if (System.nanoTime() >= deadline) {
        break;
      }
      sleep(Math.min(20, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
    }
    if (!graceful) {
      Set<Long> alive = new LinkedHashSet<>(cell.members());
      tree.stream().filter(ProcessHandle::isAlive).forEach(h -> alive.add(h.pid()));
      log.warn("pid {}: {} process(es) of its {} still alive {} ms after {}; sending KILL: {}",
          process.pid(), alive.size(), cell.describe(), grace.toMillis(), signal, alive);
      cell.killAll();
      Signals.send("KILL", tree.stream().filter(ProcessHandle::isAlive).map(h -> Long.toString(h.pid())).toList());
      for (ProcessHandle h : tree) {
        try {
          h.onExit().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
          // reported below
        }
      }
    }
    Set<Long> survivors = new LinkedHashSet<>(cell.settledMembers());
    tree.stream().filter(ProcessHandle::isAlive).forEach(h -> survivors.add(h.pid()));
    if (survivors.isEmpty()) {
      cell.remove();
    } else {
      log.error("{}: {} process(es) survived KILL: {}", cell.name(), survivors.size(), survivors);
    }
    return new StopOutcome(graceful, survivors);
  }

  /** Kills every process left in the cell named {@code name} (an escapee of an earlier start): TERM, then KILL. */
  public StopOutcome stopCell(String name, Duration grace) {
    Cell cell = containment.cell(name);
    Set<Long> members = cell.members();
    Signals.send("TERM", members.stream().map(String::valueOf).toList());
    long deadline = System.nanoTime() + grace.toNanos();
    while (!cell.members().isEmpty() && System.nanoTime() < deadline) {
      sleep(20);
    }
    boolean graceful = cell.settledEmpty();
    if (!graceful) {
      cell.killAll();
    }
    Set<Long> survivors = cell.settledMembers();
    if (survivors.isEmpty()) {
      cell.remove();
    }
    return new StopOutcome(graceful, survivors);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
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
}
