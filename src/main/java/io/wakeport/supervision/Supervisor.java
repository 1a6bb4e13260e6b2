package io.wakeport.supervision;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.LaunchSpec;
import io.wakeport.config.Readiness;
import io.wakeport.config.SupervisionPolicy;
import io.wakeport.config.SupervisorSettings;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns every {@link Instance} and makes them ready on demand: one start per instance however many
 * requests wait (single flight), start slots and the running limit, readiness checks, crash
 * detection and backoff, idle stops, keep-warm and adoption of backends an earlier run started.
 * All state changes run on one Vert.x context of its own; spawning, killing and file I/O run on
 * worker threads. Knows nothing of HTTP.
 */
public final class Supervisor {

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  /** Readiness polling: a refused loopback connect costs microseconds, so start at 1 ms and cap low. */
  private static final long FIRST_POLL_MILLIS = 1;
  private static final long MAX_POLL_MILLIS = 5;
  private static final long MAX_HTTP_POLL_MILLIS = 20;
  /** Idle stops and log rotation are checked this often, over running instances only. */
  private static final long SWEEP_MILLIS = 250;
  private static final int LOG_CHECK_EVERY_SWEEPS = 20;
  private static final int TAIL_LINES = 15;

  private final Vertx vertx;
  private final Context context;
  private volatile SupervisorSettings settings;
  private final Path logDir;
  private final PidFiles pidFiles;
  private final ProcessLauncher launcher = new ProcessLauncher();
  private final PortProbe probe;
  private final WebClient web;
  private final ConcurrentHashMap<String, Instance> instances = new ConcurrentHashMap<>();
  private final Adoption adoption;
  private final Reconciliation reconciliation;

  // Confined to the supervisor context.
  /** Instances with a process of ours: holding a start slot, ready, or stopping. */
  private final Set<Instance> running = new LinkedHashSet<>();
  /** Instances waiting for a start slot, in arrival order. */
  private final ArrayDeque<Instance> pending = new ArrayDeque<>();
  private int startingCount;
  private int evictionsInProgress;
  private long sweepTimer = -1;
  private int sweeps;
  /** Read by event loops on release: wakes the start queue when an instance turns idle. */
  private volatile boolean startsWaiting;

  public Supervisor(Vertx vertx, WakeportConfig config) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.settings = config.supervisor();
    this.logDir = config.logDir();
    this.pidFiles = new PidFiles(config.runDir());
    this.probe = new PortProbe(vertx, 1000);
    this.web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setConnectTimeout(1000));
    this.adoption = new Adoption(vertx, launcher, pidFiles, logDir, this::adopt);
    this.reconciliation = new Reconciliation(vertx, instances, new Reconciliation.Lifecycle() {
      @Override
      public void start(Instance instance, String reason) {
        beginStart(instance, reason);
      }

      @Override
      public Future<Void> stop(Instance instance, String reason) {
        return stopOnContext(instance, reason);
      }
    });
  }

  /** Adopts backends an earlier run left (pid files), starts keep-warm instances, and begins sweeping. */
  public Future<Void> start(WakeportConfig config) {
    Promise<Void> done = Promise.promise();
    vertx.executeBlocking(() -> {
      launcher.warmUp();
      return null;
    }, false);
    context.runOnContext(v -> {
      sweepTimer = vertx.setPeriodic(SWEEP_MILLIS, t -> sweep());
      adoption.adoptLeftovers(config).onComplete(ar -> {
        keepWarm(config);
        done.complete();
      });
    });
    return done.future();
  }

  public Collection<Instance> instances() {
    return instances.values();
  }

  /** The instance of {@code tenant} (its {@link TenantConfig#stateName state name}) for {@code route}, or null. */
  public Instance instance(String tenant, String route) {
    return instances.get(key(tenant, route));
  }

  /** The instances of {@code tenant}, in config order (created on first use, stopped until asked for). */
  public List<Instance> instancesOf(TenantConfig tenant) {
    List<Instance> list = new ArrayList<>(tenant.instances().size());
    for (InstanceConfig ic : tenant.instances()) {
      list.add(instanceFor(tenant, ic));
    }
    return list;
  }

  /**
   * Drops {@code instance} if it has no process and no request (STOPPED or CRASHED, no lease),
   * so a later request makes a new one: for a tenant made from a template whose port is given
   * back. False, dropping nothing, when it is in use.
   */
  public boolean forget(Instance instance) {
    InstanceState state = instance.state();
    if (state != InstanceState.STOPPED && state != InstanceState.CRASHED || instance.pid() >= 0
        || instance.inFlight() > 0) {
      return false;
    }
    instances.remove(instance.key, instance);
    return true;
  }

  private Instance instanceFor(TenantConfig tenant, InstanceConfig config) {
    return instances.computeIfAbsent(key(tenant.stateName(), config.route()), k -> new Instance(tenant, config));
  }

  /**
   * A ready backend for {@code config}'s instance of {@code tenant}, starting it if needed. On
   * success the caller holds a lease and must call {@link #release} exactly once when the exchange
   * is over; on failure (a {@link StartFailedException}) it holds none. Completes on the caller's
   * context.
   */
  public Future<Backend> acquire(TenantConfig tenant, InstanceConfig config) {
    Instance instance = instanceFor(tenant, config);
    // Lease first, then look: an idle stop clears `ready` before it checks the leases, so one of
    // the two always sees the other.
    instance.leased();
    Future<Backend> ready = instance.readyFuture();
    if (ready != null) {
      return ready;
    }
    Context caller = Vertx.currentContext();
    Promise<Backend> result = Promise.promise();
    context.runOnContext(v -> {
      instance.tenant = tenant;
      instance.config = config;
      awaitReady(instance).onComplete(ar -> {
        if (ar.failed()) {
          instance.released(false);
        }
        if (caller == null || caller == context) {
          result.handle(ar);
        } else {
          caller.runOnContext(x -> result.handle(ar));
        }
      });
    });
    return result.future();
  }

  /**
   * A lease on the instance if it is ready now, or null: for requests that must neither start a
   * tenant nor keep it awake. Release with {@code countsAsActivity} false.
   */
  public Backend acquireIfReady(TenantConfig tenant, InstanceConfig config) {
    Instance instance = instanceFor(tenant, config);
    instance.leased();
    Future<Backend> ready = instance.readyFuture();
    if (ready != null) {
      return ready.result();
    }
    instance.released(false);
    return null;
  }

  public void release(Backend backend, boolean countsAsActivity) {
    Instance instance = backend.instance();
    instance.released(countsAsActivity);
    if (startsWaiting && instance.inFlight() == 0) {
      context.runOnContext(v -> admitPending());
    }
  }

  /**
   * Nothing of a request reached a ready instance: its connect was refused, or a fresh connection
   * died before any answer. Off the warm path at once, so the next request queues behind this
   * decision instead of racing it to the same dead port. If the process serving the port is not
   * ours, or ours is gone, the next acquire starts it again (single flight); if ours is alive,
   * requests wait for its port as during a start, bounded by start-timeout.
   */
  public void unreachable(Backend backend) {
    Instance instance = backend.instance();
    instance.suspendReady();
    context.runOnContext(v -> {
      if (instance.state() != InstanceState.READY) {
        return;
      }
      ManagedProcess process = instance.process;
      if (process == null) {
        instance.transition(InstanceState.STOPPED, "connection refused (the process serving it was not ours)");
      } else if (!process.isAlive()) {
        crashed(instance, process, "exited (its port refused connections)");
      } else {
        awaitPortAgain(instance, process);
      }
    });
  }

  /**
   * A connection of its own to a ready instance was accepted and then died before any answer. A
   * process killed with SIGKILL does that for a few milliseconds: the kernel completes connects
   * into its listen backlog until the process's files are closed, then resets them. Completes
   * (on the caller's context) true once the process serving the instance is gone, its exit
   * handled as a crash, or false when it still lives after {@code millis}, or is not ours.
   */
  public Future<Boolean> exitsWithin(Backend backend, long millis) {
    Instance instance = backend.instance();
    Context caller = Vertx.currentContext();
    Promise<Boolean> gone = Promise.promise();
    context.runOnContext(v -> {
      ManagedProcess process = instance.process;
      if (instance.state() != InstanceState.READY) {
        gone.complete(true); // already found gone, stopped or starting again
        return;
      }
      if (process == null) {
        gone.complete(false); // not ours: nothing to watch
        return;
      }
      long timer = vertx.setTimer(Math.max(1, millis), t -> gone.tryComplete(false));
      process.exit().thenAccept(code -> context.runOnContext(x -> {
        vertx.cancelTimer(timer);
        exited(instance, process, code); // unless its own exit handler came first
        gone.tryComplete(true);
      }));
    });
    if (caller == null || caller == context) {
      return gone.future();
    }
    Promise<Boolean> there = Promise.promise();
    gone.future().onComplete(ar -> caller.runOnContext(x -> there.handle(ar)));
    return there.future();
  }

  /** Our process lives but its port is closed: requests wait for it to listen again, as for a start. */
  private void awaitPortAgain(Instance instance, ManagedProcess process) {
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    instance.awaitingPortAgain = true;
    instance.transition(InstanceState.STARTING, "port closed while pid " + process.pid() + " lives: waiting for it");
    instance.startTimer = vertx.setTimer(Math.max(1, instance.tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      failStart(instance, "did not listen again within start-timeout " + instance.tenant.startTimeout().toMillis() + " ms");
    });
    pollUntilReady(instance, process, () -> probe.isOpen(instance.address()), FIRST_POLL_MILLIS);
  }

  // ---- starting ----------------------------------------------------------------------------

  private Future<Backend> awaitReady(Instance instance) {
    switch (instance.state()) {
      case READY:
        return Future.succeededFuture(new Backend(instance, instance.address(), false));
      case STARTING:
        return joinStart(instance);
      case STOPPING:
        return instance.stopping.future().transform(ar -> awaitReady(instance));
      case BACKOFF:
        return Future.failedFuture(new StartFailedException(instance.tenantName(),
            "in backoff after repeated failures", secondsUntil(instance.backoffUntilNanos)));
      default:
        beginStart(instance, "request arrived");
        return joinStart(instance);
    }
  }

  /** Queues one request on the instance's start, bounded in number and in time. */
  private Future<Backend> joinStart(Instance instance) {
    SupervisionPolicy policy = instance.tenant.policy();
    if (instance.waiters >= policy.maxQueue()) {
      return Future.failedFuture(new StartFailedException(instance.tenantName(),
          "start queue full (max-queue " + policy.maxQueue() + ")", 1));
    }
    instance.waiters++;
    Promise<Backend> waiter = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, policy.queueTimeout().toMillis()), t -> waiter.tryFail(
        new StartFailedException(instance.tenantName(), "waited longer than queue-timeout", 1)));
    instance.starting.future().onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        waiter.tryComplete(ar.result());
      } else {
        waiter.tryFail(ar.cause());
      }
    });
    return waiter.future().andThen(ar -> instance.waiters--);
  }

  private void beginStart(Instance instance, String reason) {
    instance.useConfiguredPort();
    instance.replaceWhenIdle = false;
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    instance.transition(InstanceState.STARTING, reason);
    // A process someone else started on the port is simply used, and never signalled.
    probe.isOpen(instance.address()).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != null || instance.admitted) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        becomeReady(instance, "port already open: served by a process wakeport did not start", false);
      } else {
        pending.add(instance);
        admitPending();
      }
    });
  }

  /** Starts queued instances while start slots and the running limit allow. */
  private void admitPending() {
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
        stopOnContext(victim, "max-running " + settings.maxRunning() + " reached: least recently used idle instance")
            .onComplete(ar -> {
              evictionsInProgress--;
              admitPending();
            });
        break;
      }
      pending.poll();
      next.admitted = true;
      startingCount++;
      running.add(next);
      spawn(next);
    }
    startsWaiting = !pending.isEmpty();
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

  private void spawn(Instance instance) {
    TenantConfig tenant = instance.tenant;
    LaunchSpec spec = tenant.launchSpec(instance.config);
    Path logFile = logDir.resolve(instance.name + ".log");
    instance.startTimer = vertx.setTimer(Math.max(1, tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      failStart(instance, "not ready after start-timeout " + tenant.startTimeout().toMillis() + " ms");
    });
    vertx.executeBlocking(() -> {
      long offset = Files.exists(logFile) ? LogFiles.size(logFile) : 0;
      ManagedProcess process = launcher.start(spec, logFile);
      pidFiles.write(instance.name, process, instance.address().port());
      return new Spawned(process, offset);
    }, false).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || !instance.admitted) {
        if (ar.succeeded()) {
          stopProcess(instance, ar.result().process());
        }
        return;
      }
      if (ar.failed()) {
        failStart(instance, "cannot execute " + spec.argv().get(0) + ": " + ar.cause().getMessage());
        return;
      }
      ManagedProcess process = ar.result().process();
      instance.process = process;
      instance.logOffset = ar.result().logOffset();
      log.info("tenant {} spawned pid {} on port {}, output in {}", instance.tenantName(), process.pid(),
          instance.address().port(), logFile);
      watchExit(instance, process);
      ReadinessCheck check = ReadinessCheck.of(tenant.readiness(), instance.address(), logFile,
          ar.result().logOffset(), probe, web, vertx);
      pollUntilReady(instance, process, check, FIRST_POLL_MILLIS);
    });
  }

  private record Spawned(ManagedProcess process, long logOffset) {}

  private void watchExit(Instance instance, ManagedProcess process) {
    process.exit().thenAccept(code -> context.runOnContext(v -> exited(instance, process, code)));
  }

  private void pollUntilReady(Instance instance, ManagedProcess process, ReadinessCheck check, long delay) {
    check.attempt().onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != process) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        Duration settle = instance.tenant.readiness().settle();
        String reason = "ready after " + millisSince(instance.startBeganNanos) + " ms";
        if (settle.isZero()) {
          becomeReady(instance, reason, true);
        } else {
          vertx.setTimer(settle.toMillis(), t -> {
            if (instance.state() == InstanceState.STARTING && instance.process == process) {
              becomeReady(instance, reason + " + settle " + settle.toMillis() + " ms", true);
            }
          });
        }
      } else {
        long cap = instance.tenant.readiness().kind() == Readiness.Kind.HTTP ? MAX_HTTP_POLL_MILLIS : MAX_POLL_MILLIS;
        vertx.setTimer(delay, t -> pollUntilReady(instance, process, check, Math.min(cap, delay + 1)));
      }
    });
  }

  /** {@code waited}: the request waited for a start (Server-Timing: cold-start), not just a port probe. */
  private void becomeReady(Instance instance, String reason, boolean waited) {
    cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    releaseStartSlot(instance);
    instance.readySinceNanos = System.nanoTime();
    instance.touch();
    instance.transition(InstanceState.READY, reason);
    instance.starting.complete(new Backend(instance, instance.address(), waited));
    admitPending();
  }

  private void failStart(Instance instance, String reason) {
    if (instance.state() != InstanceState.STARTING) {
      return;
    }
    cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    releaseStartSlot(instance);
    pending.remove(instance);
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
      Promise<Void> stopping = instance.stopping;
      stopProcess(instance, process).onComplete(ar -> {
        forgetProcess(instance);
        settleAfterFailure(instance, backoff, "process tree gone after failed start");
        stopping.complete();
      });
    }
    starting.fail(new StartFailedException(instance.tenantName(), reason, retryAfter));
    admitPending();
  }

  /** After a failed start or a crash: STOPPED (or CRASHED), or BACKOFF when it keeps failing. */
  private void settleAfterFailure(Instance instance, Duration backoff, String reason) {
    if (backoff != null) {
      instance.backoffUntilNanos = System.nanoTime() + backoff.toNanos();
      instance.transition(InstanceState.BACKOFF, reason + "; crash loop: no start for " + backoff.toMillis() + " ms");
      instance.backoffTimer = vertx.setTimer(Math.max(1, backoff.toMillis()), t -> {
        instance.backoffTimer = -1;
        if (instance.state() == InstanceState.BACKOFF) {
          instance.transition(InstanceState.STOPPED, "backoff over");
          if (instance.keepWarm) {
            beginStart(instance, "keep-warm after backoff");
          }
        }
      });
    } else {
      instance.transition(instance.state() == InstanceState.READY ? InstanceState.CRASHED : InstanceState.STOPPED, reason);
      if (instance.keepWarm) {
        beginStart(instance, "keep-warm restart");
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

  /** The process exited on its own (a stop in progress is noticed by the stop itself). */
  private void exited(Instance instance, ManagedProcess process, int code) {
    if (instance.process != process) {
      return;
    }
    String how = code >= 0 ? "exited with code " + code : "exited";
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

  private void crashed(Instance instance, ManagedProcess process, String how) {
    logWithOutput("tenant " + instance.tenantName() + " pid " + process.pid() + " " + how + " while serving",
        process, false);
    forgetProcess(instance);
    Duration backoff = recordFailure(instance);
    settleAfterFailure(instance, backoff, "crashed: " + how);
    admitPending();
  }

  /**
   * Requests were waiting for a live process's port and the process died (a kill -9 is often seen
   * as a refused connect before its exit): a crash, and the waiting requests get a new start
   * rather than a 503, unless the tenant is crash-looping.
   */
  private void startAgainAfterCrash(Instance instance, ManagedProcess process, String how) {
    cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    logWithOutput("tenant " + instance.tenantName() + " pid " + process.pid() + " " + how + " while serving",
        process, false);
    forgetProcess(instance);
    Duration backoff = recordFailure(instance);
    Promise<Backend> starting = instance.starting;
    if (backoff != null) {
      settleAfterFailure(instance, backoff, "crashed: " + how);
      starting.fail(new StartFailedException(instance.tenantName(), "crashed repeatedly", (int) Math.max(1, backoff.toSeconds())));
    } else {
      instance.startBeganNanos = System.nanoTime();
      pending.add(instance);
    }
    admitPending();
  }

  // ---- stopping ----------------------------------------------------------------------------

  /** Stops one instance gracefully; completes when its process tree is gone. */
  public Future<Void> stop(Instance instance, String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> stopOnContext(instance, reason).onComplete(done));
    return done.future();
  }

  private Future<Void> stopOnContext(Instance instance, String reason) {
    switch (instance.state()) {
      case STOPPING:
        return instance.stopping.future();
      case STARTING:
        failStart(instance, "stopped: " + reason);
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
      forgetProcess(instance);
      instance.transition(InstanceState.STOPPED, "process tree gone");
      stopping.complete();
      admitPending();
    });
    return stopping.future();
  }

  /** Stops every instance wakeport runs, in parallel (keep-warm ones too). */
  public Future<Void> stopAll(String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      pending.clear();
      List<Future<Void>> stops = new ArrayList<>();
      for (Instance instance : instances.values()) {
        instance.keepWarm = false;
        stops.add(stopOnContext(instance, reason));
      }
      Future.join(stops).onComplete(ar -> done.complete());
    });
    return done.future();
  }

  private Future<Boolean> stopProcess(Instance instance, ManagedProcess process) {
    SupervisionPolicy policy = instance.tenant.policy();
    return vertx.executeBlocking(() -> launcher.stopTree(process, policy.stopSignal(), policy.stopGrace()), false);
  }

  /** The instance no longer has a process of ours (it exited or was stopped). */
  private void forgetProcess(Instance instance) {
    ManagedProcess process = instance.process;
    instance.process = null;
    running.remove(instance);
    if (process != null) {
      String name = instance.name;
      vertx.executeBlocking(() -> {
        pidFiles.delete(name);
        return null;
      }, false);
    }
  }

  private void releaseStartSlot(Instance instance) {
    if (instance.admitted) {
      instance.admitted = false;
      startingCount--;
    }
    if (instance.process == null) {
      running.remove(instance);
    }
  }

  // ---- idle stops, log rotation (retiring and replacing: Reconciliation) --------------------

  private void sweep() {
    long now = System.nanoTime();
    reconciliation.sweep();
    for (Instance instance : new ArrayList<>(running)) {
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
      stopOnContext(instance, "idle for " + idle.toMillis() + " ms");
    }
    if (!pending.isEmpty()) {
      admitPending();
    }
    if (++sweeps % LOG_CHECK_EVERY_SWEEPS == 0 && !running.isEmpty()) {
      // The file each process writes to (an adopted one may still write under a former name),
      // taken here on the supervisor context.
      List<Map.Entry<Path, Long>> snapshot = new ArrayList<>();
      for (Instance instance : running) {
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

  // ---- config reloads (Reconciliation), keep-warm, adoption (Adoption) ---------------------

  /**
   * Brings the instances in line with a new config snapshot. Instances of tenants or routes that
   * are gone finish their requests and stop; changed tenants keep running their process and use
   * the new command, environment and port at their next start, or are replaced at once, one
   * instance of a tenant at a time, with {@code on-change: restart} (see {@link Reconciliation}).
   */
  public Future<Void> reconcile(WakeportConfig config) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      settings = config.supervisor();
      reconciliation.apply(config);
      keepWarm(config);
      admitPending();
      done.complete();
    });
    return done.future();
  }

  private void keepWarm(WakeportConfig config) {
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        continue;
      }
      int warm = tenant.policy().minRunning();
      for (int i = 0; i < Math.min(warm, tenant.instances().size()); i++) {
        Instance instance = instanceFor(tenant, tenant.instances().get(i));
        instance.tenant = tenant;
        instance.keepWarm = true;
        if (instance.state() == InstanceState.STOPPED || instance.state() == InstanceState.CRASHED) {
          beginStart(instance, "keep-warm (min-running " + warm + ")");
        }
      }
    }
  }

  /** Takes over a process an earlier run started (found by {@link Adoption}), on the supervisor context. */
  private void adopt(TenantConfig tenant, InstanceConfig config, ManagedProcess process) {
    Instance instance = instanceFor(tenant, config);
    instance.process = process;
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    running.add(instance);
    instance.transition(InstanceState.STARTING, "adopted pid " + process.pid() + " from an earlier run");
    watchExit(instance, process);
    instance.startTimer = vertx.setTimer(Math.max(1, instance.tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      failStart(instance, "adopted process not ready after start-timeout");
    });
    // Its ready line (if any) is in the past: adopted instances are checked by their port.
    pollUntilReady(instance, process, () -> probe.isOpen(instance.address()), FIRST_POLL_MILLIS);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private void cancelStartTimer(Instance instance) {
    if (instance.startTimer >= 0) {
      vertx.cancelTimer(instance.startTimer);
      instance.startTimer = -1;
    }
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

  private static int secondsUntil(long nanos) {
    return (int) Math.max(1, Math.ceil((nanos - System.nanoTime()) / 1e9));
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  static String key(String tenant, String route) {
    return route.isEmpty() ? tenant : tenant + "/" + route;
  }

  /** Stops sweeping and closes the clients; backends are stopped (or kept) by the caller. */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (sweepTimer >= 0) {
        vertx.cancelTimer(sweepTimer);
      }
      web.close();
      probe.close().onComplete(ar -> done.complete());
    });
    return done.future();
  }
}
