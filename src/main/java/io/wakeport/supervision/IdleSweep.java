package io.wakeport.supervision;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The periodic sweep, on the supervisor's context: stops instances idle longer than their
 * {@code idle-timeout}, lets {@link Reconciliation} retire and replace instances, wakes the start
 * queue, and now and then rotates backend logs grown past {@code log-max-size} (on a worker
 * thread). Idle stops and rotation look at running instances only.
 */
final class IdleSweep {

  /** Idle stops and log rotation are checked this often, over running instances only. */
  private static final long SWEEP_MILLIS = 250;
  private static final int LOG_CHECK_EVERY_SWEEPS = 20;

  private final Vertx vertx;
  private final Path logDir;
  private final StartQueue queue;
  private final Stopping stopping;
  private final Reconciliation reconciliation;

  // Confined to the supervisor context.
  private long timer = -1;
  private int sweeps;

  IdleSweep(Vertx vertx, Path logDir, StartQueue queue, Stopping stopping, Reconciliation reconciliation) {
    this.vertx = vertx;
    this.logDir = logDir;
    this.queue = queue;
    this.stopping = stopping;
    this.reconciliation = reconciliation;
  }

  /** Begins sweeping; called on the supervisor context, where the sweeps then run. */
  void start() {
    timer = vertx.setPeriodic(SWEEP_MILLIS, t -> sweep());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void sweep() {
    long now = System.nanoTime();
    reconciliation.sweep();
    for (Instance instance : new ArrayList<>(queue.running())) {
      if (instance.state() != InstanceState.READY || instance.process == null || instance.keepWarm) {
        continue;
      }
      Duration idle = instance.tenant.policy().idleTimeout();
      if (idle.isZero() || instance.inFlight() > 0 || now - instance.lastActivityNanos() < idle.toNanos()) {
        continue;
      }
      instance.suspendReady();
      if (instance.inFlight() > 0) {
        instance.resumeReady();
        continue;
      }
      stopping.stop(instance, "idle for " + idle.toMillis() + " ms");
    }
    if (queue.hasPending()) {
      queue.admit();
    }
    if (++sweeps % LOG_CHECK_EVERY_SWEEPS == 0 && !queue.running().isEmpty()) {
      // The file each process writes to (an adopted one may still write under a former name),
      // taken here on the supervisor context.
      List<Map.Entry<Path, Long>> snapshot = new ArrayList<>();
      for (Instance instance : queue.running()) {
        ManagedProcess process = instance.process;
        Path file = process != null ? process.logFile() : logDir.resolve(instance.name + ".log");
        snapshot.add(Map.entry(file, instance.tenant.policy().logMaxBytes()));
      }
      vertx.executeBlocking(() -> {
        for (Map.Entry<Path, Long> log : snapshot) {
          LogFiles.rotateIfLarger(log.getKey(), log.getValue());
        }
        return null;
      }, false);
    }
  }
}
