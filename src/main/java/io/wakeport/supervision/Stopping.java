package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.wakeport.config.SupervisionPolicy;
import io.wakeport.supervision.ProcessLauncher.StopOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Stopping: an instance's graceful stop (READY to STOPPING to STOPPED once its cell is empty),
 * stopping them all, and forgetting a process that exited or was stopped. The one place that
 * stops processes ({@link #stopTree}, {@link #stopCell}): the signals and the waiting run on a
 * worker thread, the state changes on the supervisor's context.
 */
final class Stopping {

  /** What stopping needs of a start in progress; called on the supervisor's context. */
  interface Starts {
    /** Fails the instance's start; a process it has is stopped by that failure. */
    void failStart(Instance instance, String reason);
  }

  private final Vertx vertx;
  private final ProcessLauncher launcher;
  private final PidFiles pidFiles;
  private final StartQueue queue;
  private final Starts starts;

  Stopping(Vertx vertx, ProcessLauncher launcher, PidFiles pidFiles, StartQueue queue, Starts starts) {
    this.vertx = vertx;
    this.launcher = launcher;
    this.pidFiles = pidFiles;
    this.queue = queue;
    this.starts = starts;
  }

  /** Stops one instance gracefully; completes when its process tree is gone. */
  Future<Void> stop(Instance instance, String reason) {
    switch (instance.state()) {
      case STOPPING:
        return instance.stopping.future();
      case STARTING:
        starts.failStart(instance, "stopped: " + reason);
        return instance.state() == InstanceState.STOPPING ? instance.stopping.future() : Future.succeededFuture();
      case BACKOFF:
        if (instance.backoffTimer >= 0) {
          vertx.cancelTimer(instance.backoffTimer);
          instance.backoffTimer = -1;
        }
        instance.transition(InstanceState.STOPPED, reason);
        return Future.succeededFuture();
      case READY:
        break;
      default:
        return Future.succeededFuture();
    }
    ManagedProcess process = instance.process;
    if (process == null) {
      // Served by a process that is not ours: forget it, never signal it.
      instance.transition(InstanceState.STOPPED, reason + " (process not ours, left running)");
      return Future.succeededFuture();
    }
    instance.stopping = Promise.promise();
    instance.transition(InstanceState.STOPPING, reason);
    Promise<Void> stopping = instance.stopping;
    stopProcess(instance, process).onComplete(ar -> {
      forget(instance);
      instance.transition(InstanceState.STOPPED, ar.succeeded() ? ar.result().describe(process.cell())
          : "stop failed: " + ar.cause());
      stopping.complete();
      queue.admit();
    });
    return stopping.future();
  }

  /** Stops every instance, in parallel (keep-warm ones too); completes when all are done. */
  Future<Void> stopAll(Collection<Instance> instances, String reason) {
    queue.clear();
    List<Future<Void>> stops = new ArrayList<>();
    for (Instance instance : instances) {
      instance.keepWarm = false;
      stops.add(stop(instance, reason));
    }
    return Future.join(stops).mapEmpty();
  }

  /** Stops the instance's process tree with its tenant's stop signal and grace. */
  Future<StopOutcome> stopProcess(Instance instance, ManagedProcess process) {
    SupervisionPolicy policy = instance.tenant.policy();
    return stopTree(process, policy.stopSignal(), policy.stopGrace());
  }

  /**
   * Stops {@code process} and everything of its cell, on a worker thread. Every stop of a process
   * goes through here.
   */
  Future<StopOutcome> stopTree(ManagedProcess process, String signal, Duration grace) {
    return vertx.executeBlocking(() -> launcher.stop(process, signal, grace), false);
  }

  /**
   * Stops what is left in the cell named {@code cellName} when no process of ours is known for it:
   * an escapee of an earlier start (a daemon whose launcher is gone, from this run or an earlier one).
   */
  Future<StopOutcome> stopCell(String cellName, Duration grace) {
    return vertx.executeBlocking(() -> launcher.stopCell(cellName, grace), false);
  }

  /** The instance no longer has a process of ours (it exited or was stopped). */
  void forget(Instance instance) {
    ManagedProcess process = instance.process;
    instance.process = null;
    queue.untrack(instance);
    if (process != null) {
      String name = instance.name;
      vertx.executeBlocking(() -> {
        pidFiles.delete(name);
        return null;
      }, false);
    }
  }
}
