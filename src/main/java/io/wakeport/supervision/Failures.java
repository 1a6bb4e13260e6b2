package io.wakeport.supervision;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.wakeport.config.SupervisionPolicy;
import io.wakeport.metrics.Metrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts that fail, processes that exit on their own, and ready instances a request could not
 * reach: the failure is logged with the backend's last output, counted, and settles the instance
 * as STOPPED or CRASHED, or in BACKOFF when it keeps failing; a keep-warm instance is started
 * again. Runs on the supervisor's context; the output is read on a worker thread.
 */
final class Failures {

  /** Logs as the supervisor did before this was split out of it. */
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  private static final int TAIL_LINES = 15;

  private final Vertx vertx;
  private final Context context;
  private final StartQueue queue;
  private final Stopping stopping;
  private final Spawning spawning;
  private final Metrics metrics;

  Failures(Vertx vertx, Context context, StartQueue queue, Stopping stopping, Spawning spawning, Metrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.context = context;
    this.queue = queue;
    this.stopping = stopping;
    this.spawning = spawning;
  }

  /** Fails a start in progress; a process it has is stopped first, so a new start cannot race it for the port. */
  void failStart(Instance instance, String reason) {
    if (instance.state() != InstanceState.STARTING) {
      return;
    }
    spawning.cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    queue.releaseSlot(instance);
    queue.remove(instance);
    metrics.startFailed(instance.tenant);
    ManagedProcess process = instance.process;
    Duration backoff = recordFailure(instance);
    int retryAfter = backoff == null ? 1 : (int) Math.max(1, backoff.toSeconds());
    Promise<Backend> starting = instance.starting;
    logWithOutput("tenant " + instance.tenantName() + " failed to start: " + reason, process, true);
    if (process == null) {
      settleAfterFailure(instance, backoff, "start failed: " + reason);
    } else {
      // Keep the port reserved until the process tree is gone: a new start must not race it.
      instance.stopping = Promise.promise();
      instance.transition(InstanceState.STOPPING, "start failed: " + reason);
      Promise<Void> stopped = instance.stopping;
      stopping.stopProcess(instance, process).onComplete(ar -> {
        stopping.forget(instance);
        settleAfterFailure(instance, backoff, (ar.succeeded() ? ar.result().describe(process.cell())
            : "stop failed: " + ar.cause()) + " after failed start");
        stopped.complete();
      });
    }
    starting.fail(new StartFailedException(instance.tenantName(), reason, retryAfter));
    queue.admit();
  }

  /** The process exited on its own (a stop in progress is noticed by the stop itself). */
  void exited(Instance instance, ManagedProcess process, int code) {
    if (instance.process != process) {
      return;
    }
    String how = code >= 0 ? "exited with code " + code : "exited";
    if (process.oomKills() > 0) {
      instance.oomKills++;
      how = "killed by its memory limit (limits: memory " + instance.tenant.policy().limits().memoryBytes() / (1024 * 1024)
          + "M; the kernel's OOM killer ended " + process.oomKills() + " of its processes), " + how;
    }
    switch (instance.state()) {
      case STARTING -> {
        if (instance.awaitingPortAgain) {
          startAgainAfterCrash(instance, process, how);
        } else {
          failStartAfterExit(instance, process, how + " before it was ready");
        }
      }
      case READY -> crashed(instance, process, how);
      default -> { }
    }
  }

  /**
   * A backend that exits before it is ready has often found its port taken: that is checked (a
   * bind and its output, on a worker thread) and said in the reason, before the start fails.
   */
  private void failStartAfterExit(Instance instance, ManagedProcess process, String reason) {
    SocketAddress address = instance.address();
    long logFrom = instance.logOffset;
    vertx.executeBlocking(() -> PortInUse.explain(address.host(), address.port(), process.logFile(), logFrom), false)
        .onComplete(ar -> {
          if (instance.process != process) {
            return;
          }
          String why = ar.succeeded() ? ar.result() : null;
          failStart(instance, why == null ? reason : reason + ": " + why);
        });
  }

  /** Nothing of a request reached the instance ({@link Supervisor#unreachable}): what that means. */
  void unreachable(Instance instance) {
    if (instance.state() != InstanceState.READY) {
      return;
    }
    ManagedProcess process = instance.process;
    if (process == null) {
      instance.transition(InstanceState.STOPPED, "connection refused (the process serving it was not ours)");
    } else if (!process.isAlive()) {
      crashed(instance, process, "exited (its port refused connections)");
    } else {
      spawning.awaitPortAgain(instance, process);
    }
  }

  /**
   * Completes true once the ready instance's process is gone and its exit handled, false when it
   * still lives after {@code millis} or is not ours ({@link Supervisor#exitsWithin}).
   */
  Future<Boolean> exitsWithin(Instance instance, long millis) {
    ManagedProcess process = instance.process;
    if (instance.state() != InstanceState.READY) {
      return Future.succeededFuture(true); // already found gone, stopped or starting again
    }
    if (process == null) {
      return Future.succeededFuture(false); // not ours: nothing to watch
    }
    Promise<Boolean> gone = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, millis), t -> gone.tryComplete(false));
    process.exit().thenAccept(code -> context.runOnContext(x -> {
      vertx.cancelTimer(timer);
      exited(instance, process, code); // unless its own exit handler came first
      gone.tryComplete(true);
    }));
    return gone.future();
  }

  /** A ready instance's process is gone. */
  private void crashed(Instance instance, ManagedProcess process, String how) {
    logWithOutput("tenant " + instance.tenantName() + " pid " + process.pid() + " " + how + " while serving",
        process, false);
    stopping.forget(instance);
    metrics.crashed(instance.tenant);
    Duration backoff = recordFailure(instance);
    // What it left in its cell (a child it forked) goes before anything may start it again:
    // STOPPING keeps new requests waiting meanwhile, as after a failed start.
    instance.stopping = Promise.promise();
    instance.transition(InstanceState.STOPPING, "crashed: " + how + "; stopping what it left");
    Promise<Void> stopped = instance.stopping;
    stopping.stopCell(instance.name, instance.tenant.policy().stopGrace()).onComplete(ar -> {
      settleAfterFailure(instance, backoff, "crashed: " + how, InstanceState.CRASHED);
      stopped.complete();
      queue.admit();
    });
  }

  /**
   * Requests were waiting for a live process's port and the process died (a kill -9 is often seen
   * as a refused connect before its exit): a crash, and the waiting requests get a new start
   * rather than a 503, unless the tenant is crash-looping.
   */
  private void startAgainAfterCrash(Instance instance, ManagedProcess process, String how) {
    spawning.cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    logWithOutput("tenant " + instance.tenantName() + " pid " + process.pid() + " " + how + " while serving",
        process, false);
    stopping.forget(instance);
    metrics.crashed(instance.tenant);
    Duration backoff = recordFailure(instance);
    Promise<Backend> starting = instance.starting;
    if (backoff != null) {
      settleAfterFailure(instance, backoff, "crashed: " + how);
      starting.fail(new StartFailedException(instance.tenantName(), "crashed repeatedly", (int) Math.max(1, backoff.toSeconds())));
      queue.admit();
    } else {
      instance.startBeganNanos = System.nanoTime();
      queue.enqueue(instance);
    }
  }

  /** After a failed start or a crash: STOPPED (or CRASHED), or BACKOFF when it keeps failing. */
  private void settleAfterFailure(Instance instance, Duration backoff, String reason) {
    settleAfterFailure(instance, backoff, reason, InstanceState.STOPPED);
  }

  /** {@code settled}: CRASHED for a crash, STOPPED for a failed start. */
  private void settleAfterFailure(Instance instance, Duration backoff, String reason, InstanceState settled) {
    if (backoff != null) {
      metrics.backoff(instance.tenant);
      instance.backoffUntilNanos = System.nanoTime() + backoff.toNanos();
      instance.transition(InstanceState.BACKOFF, reason + "; crash loop: no start for " + backoff.toMillis() + " ms");
      instance.backoffTimer = vertx.setTimer(Math.max(1, backoff.toMillis()), t -> {
        instance.backoffTimer = -1;
        if (instance.state() == InstanceState.BACKOFF) {
          instance.transition(InstanceState.STOPPED, "backoff over");
          if (instance.keepWarm) {
            spawning.start(instance, "keep-warm after backoff");
          }
        }
      });
    } else {
      instance.transition(settled, reason);
      if (instance.keepWarm) {
        spawning.start(instance, "keep-warm restart");
      }
    }
  }

  /**
   * Counts a failed start or a crash; returns the backoff to enter when there were too many
   * lately, doubling each time the loop goes on. A long healthy run forgives earlier loops.
   */
  private Duration recordFailure(Instance instance) {
    SupervisionPolicy policy = instance.tenant.policy();
    long now = System.nanoTime();
    if (instance.readySinceNanos != 0 && now - instance.readySinceNanos > policy.backoffWindow().toNanos()) {
      instance.backoffLevel = 0;
    }
    instance.recentFailures.addLast(now);
    while (!instance.recentFailures.isEmpty()
        && now - instance.recentFailures.peekFirst() > policy.backoffWindow().toNanos()) {
      instance.recentFailures.removeFirst();
    }
    if (instance.recentFailures.size() < policy.backoffFailures()) {
      return null;
    }
    instance.recentFailures.clear();
    long millis = policy.backoffInitial().toMillis() << Math.min(20, instance.backoffLevel);
    instance.backoffLevel++;
    return Duration.ofMillis(Math.min(millis, policy.backoffMax().toMillis()));
  }

  /** Logs {@code message} with the last lines of the backend's output (read on a worker thread). */
  private void logWithOutput(String message, ManagedProcess process, boolean error) {
    if (process == null) {
      if (error) log.error(message); else log.warn(message);
      return;
    }
    Path file = process.logFile();
    vertx.executeBlocking(() -> LogFiles.tail(file, TAIL_LINES), false).onComplete(ar -> {
      StringBuilder sb = new StringBuilder(message);
      List<String> lines = ar.succeeded() ? ar.result() : List.of();
      if (lines.isEmpty()) {
        sb.append("; it printed nothing");
      } else {
        sb.append("; its last output (").append(file).append("):");
        lines.forEach(line -> sb.append("\n  | ").append(line));
      }
      if (error) log.error(sb.toString()); else log.warn(sb.toString());
    });
  }
}
