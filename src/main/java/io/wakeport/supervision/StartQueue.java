package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.wakeport.config.SupervisionPolicy;
import io.wakeport.config.SupervisorSettings;
import io.wakeport.metrics.Metrics;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Start admission. A request for an instance that is not ready waits here on its start, bounded
 * by {@code max-queue} and {@code queue-timeout}; instances wait, in arrival order, for a start
 * slot ({@code max-starting}) and for room under the running limit ({@code max-running}), made
 * when needed by stopping the least recently used idle instance. It only decides: the start,
 * spawn and stop are the {@link Spawning} and {@link Stopping} rooms', and everything here runs
 * on the supervisor's context.
 */
final class StartQueue {

  /** What admission needs of the other rooms; called on the supervisor's context. */
  interface Lifecycle {
    /** Moves a stopped instance to STARTING; it queues here unless its port is already served. */
    void start(Instance instance, String reason);

    /** Starts the process of an instance that was given a start slot. */
    void spawn(Instance instance);

    /** Completes when the instance's process tree is gone. */
    Future<Void> stop(Instance instance, String reason);
  }

  private final Vertx vertx;
  private final Lifecycle lifecycle;
  private final Metrics metrics;
  /** Sizes for the gauges, written on the supervisor context and read by a scrape. */
  private volatile int runningCount;
  private volatile int queuedCount;
  private volatile int waitingCount;

  // Confined to the supervisor context.
  private SupervisorSettings settings;
  /** Instances with a process of ours: holding a start slot, ready, or stopping. */
  private final Set<Instance> running = new LinkedHashSet<>();
  /** Instances waiting for a start slot, in arrival order. */
  private final ArrayDeque<Instance> pending = new ArrayDeque<>();
  private int startingCount;
  private int evictionsInProgress;
  /** Read by event loops on release: wakes the start queue when an instance turns idle. */
  private volatile boolean startsWaiting;

  StartQueue(Vertx vertx, SupervisorSettings settings, Lifecycle lifecycle, Metrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.settings = settings;
    this.lifecycle = lifecycle;
  }

  /** The limits of a new config snapshot; the next admission applies them. */
  void limits(SupervisorSettings settings) {
    this.settings = settings;
  }

  /** What a request that found the instance not ready gets: a ready backend, a start's, or a failure. */
  Future<Backend> awaitReady(Instance instance) {
    return awaitReady(instance, null);
  }

  /** As {@link #awaitReady(Instance)}; the wait ends (failed) once {@code left}, if given, completes first. */
  Future<Backend> awaitReady(Instance instance, Future<Void> left) {
    switch (instance.state()) {
      case READY:
        return Future.succeededFuture(new Backend(instance, instance.address(), false));
      case STARTING:
        return join(instance, left);
      case STOPPING:
        return instance.stopping.future().transform(ar -> awaitReady(instance, left));
      case BACKOFF:
        metrics.startRefused("backoff");
        return Future.failedFuture(new StartFailedException(instance.tenantName(),
            "in backoff after repeated failures", secondsUntil(instance.backoffUntilNanos)));
      default:
        lifecycle.start(instance, "request arrived");
        return join(instance, left);
    }
  }

  /**
   * Queues one request on the instance's start, bounded in number and in time; it leaves the
   * queue when {@code left} (completed on this context) comes first. Leaving never touches the start.
   */
  private Future<Backend> join(Instance instance, Future<Void> left) {
    SupervisionPolicy policy = instance.tenant.policy();
    if (instance.waiters >= policy.maxQueue()) {
      metrics.startRefused("max-queue");
      return Future.failedFuture(new StartFailedException(instance.tenantName(),
          "start queue full (max-queue " + policy.maxQueue() + ")", 1));
    }
    instance.waiters++;
    waitingCount++;
    long began = System.nanoTime();
    Promise<Backend> waiter = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, policy.queueTimeout().toMillis()), t -> waiter.tryFail(
        new StartFailedException(instance.tenantName(), "waited longer than queue-timeout", 1)));
    if (left != null) {
      left.onComplete(v -> {
        vertx.cancelTimer(timer);
        waiter.tryFail(new StartFailedException(instance.tenantName(), "the request stopped waiting", 1));
      });
    }
    instance.starting.future().onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        waiter.tryComplete(ar.result());
      } else {
        waiter.tryFail(ar.cause());
      }
    });
    return waiter.future().andThen(ar -> {
      instance.waiters--;
      waitingCount--;
      metrics.startWait(System.nanoTime() - began, ar.succeeded());
    });
  }

  /** Queues a STARTING instance for a start slot, and admits what the limits allow. */
  void enqueue(Instance instance) {
    pending.add(instance);
    queuedCount = pending.size();
    admit();
  }

  /** Starts queued instances while start slots and the running limit allow. */
  void admit() {
    while (!pending.isEmpty()) {
      Instance next = pending.peek();
      if (next.state() != InstanceState.STARTING || next.admitted) {
        pending.poll();
        continue;
      }
      if (startingCount >= settings.maxStarting()) {
        break;
      }
      if (running.size() >= settings.maxRunning()) {
        // An evicted instance counts until its process tree is gone: the limit is never exceeded.
        if (running.size() - evictionsInProgress < settings.maxRunning()) {
          break; // a stop under way will make room, and admits again when done
        }
        Instance victim = leastRecentlyUsedIdle();
        if (victim == null) {
          break; // wait for one to turn idle (release) or stop
        }
        evictionsInProgress++;
        lifecycle.stop(victim, "max-running " + settings.maxRunning() + " reached: least recently used idle instance")
            .onComplete(ar -> {
              evictionsInProgress--;
              admit();
            });
        break;
      }
      pending.poll();
      next.admitted = true;
      startingCount++;
      running.add(next);
      lifecycle.spawn(next);
    }
    startsWaiting = !pending.isEmpty();
    queuedCount = pending.size();
    runningCount = running.size();
  }

  private Instance leastRecentlyUsedIdle() {
    Instance best = null;
    for (Instance candidate : running) {
      if (candidate.state() == InstanceState.READY && candidate.process != null && !candidate.keepWarm
          && candidate.inFlight() == 0
          && (best == null || candidate.lastActivityNanos() < best.lastActivityNanos())) {
        best = candidate;
      }
    }
    if (best != null) {
      best.suspendReady();
      if (best.inFlight() > 0) {
        best.resumeReady();
        return null;
      }
    }
    return best;
  }

  /** The start is over (ready or failed): its slot is free again. */
  void releaseSlot(Instance instance) {
    if (instance.admitted) {
      instance.admitted = false;
      startingCount--;
    }
    if (instance.process == null) {
      running.remove(instance);
      runningCount = running.size();
    }
  }

  /** A failed start leaves the queue. */
  void remove(Instance instance) {
    pending.remove(instance);
    queuedCount = pending.size();
  }

  /** Everything stops: no queued start is admitted any more. */
  void clear() {
    pending.clear();
    queuedCount = 0;
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  /** Starts wait for room; read off the supervisor context, by {@link Supervisor#release}. */
  boolean startsWaiting() {
    return startsWaiting;
  }

  /** An adopted process counts against the running limit like one we spawned. */
  void track(Instance instance) {
    running.add(instance);
    runningCount = running.size();
  }

  /** The instance has no process of ours any more. */
  void untrack(Instance instance) {
    running.remove(instance);
    runningCount = running.size();
  }

  int runningCount() {
    return runningCount;
  }

  int queuedCount() {
    return queuedCount;
  }

  int waitingCount() {
    return waitingCount;
  }

  /** Instances with a process of ours, in the order they got it; a view, for the idle sweep. */
  Set<Instance> running() {
    return Collections.unmodifiableSet(running);
  }

  private static int secondsUntil(long nanos) {
    return (int) Math.max(1, Math.ceil((nanos - System.nanoTime()) / 1e9));
  }
}
