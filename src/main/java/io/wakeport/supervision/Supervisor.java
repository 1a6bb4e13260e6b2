package io.wakeport.supervision;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.LaunchSpec;
import io.wakeport.config.TenantConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns every {@link Instance} and makes them ready on demand: one start per instance however many
 * requests wait (single flight), readiness polling, crash detection and stopping. All state changes
 * run on one Vert.x context of its own; blocking work (spawn, kill) runs on worker threads.
 * Knows nothing of HTTP.
 */
public final class Supervisor {

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  /** Readiness polling: a refused loopback connect costs microseconds, so start at 1 ms and cap low. */
  private static final long FIRST_POLL_MILLIS = 1;
  private static final long MAX_POLL_MILLIS = 5;
  private static final int FAILED_START_RETRY_AFTER_SECONDS = 5;
  private static final String STOP_SIGNAL = "TERM";
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Context context;
  private final Path logDir;
  private final ProcessLauncher launcher = new ProcessLauncher();
  private final PortProbe probe;
  private final ConcurrentHashMap<String, Instance> instances = new ConcurrentHashMap<>();

  public Supervisor(Vertx vertx, Path logDir) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.logDir = logDir;
    this.probe = new PortProbe(vertx, 1000);
  }

  public Collection<Instance> instances() {
    return instances.values();
  }

  public Instance instance(String tenant, String route) {
    return instances.get(key(tenant, route));
  }

  /**
   * A ready backend for {@code config}'s instance of {@code tenant}, starting it if needed. On
   * success the caller holds a lease and must call {@link #release} exactly once when the exchange
   * is over; on failure (a {@link StartFailedException}) it holds none. Completes on the caller's
   * context.
   */
  public Future<Backend> acquire(TenantConfig tenant, InstanceConfig config) {
    Instance instance = instances.computeIfAbsent(key(tenant.name(), config.route()), k -> new Instance(tenant, config));
    // Lease first, then look: an idle stop clears `ready` before it checks the leases, so one of
    // the two always sees the other.
    instance.inFlight.incrementAndGet();
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
          instance.released();
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

  public void release(Backend backend) {
    backend.instance().released();
  }

  /**
   * A ready instance refused a connection: whoever served the port is gone (a process not ours
   * that exited, or ours closing its listener). Forget it so the next request probes and starts.
   */
  public void refused(Backend backend) {
    Instance instance = backend.instance();
    context.runOnContext(v -> {
      if (instance.state() == InstanceState.READY && (instance.process == null || !instance.process.isAlive())) {
        instance.process = null;
        instance.transition(InstanceState.STOPPED, "connection refused");
      }
    });
  }

  /** On the supervisor context. */
  private Future<Backend> awaitReady(Instance instance) {
    switch (instance.state()) {
      case READY:
        return Future.succeededFuture(new Backend(instance, instance.address(), false));
      case STARTING:
        return instance.starting.future();
      case STOPPING:
        return instance.stopping.future().transform(ar -> awaitReady(instance));
      default:
        return beginStart(instance);
    }
  }

  private Future<Backend> beginStart(Instance instance) {
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    instance.transition(InstanceState.STARTING, "request arrived");
    Future<Backend> result = instance.starting.future();
    // A process someone else started on the port is simply used.
    probe.isOpen(instance.address()).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        becomeReady(instance, "port already open: served by a process wakeport did not start");
      } else {
        spawn(instance);
      }
    });
    return result;
  }

  private void spawn(Instance instance) {
    TenantConfig tenant = instance.tenant;
    LaunchSpec spec = tenant.launchSpec(instance.config);
    Path logFile = logDir.resolve(logName(instance) + ".log");
    long timeoutMillis = Math.max(1, tenant.startTimeout().toMillis());
    instance.startTimer = vertx.setTimer(timeoutMillis, t -> {
      instance.startTimer = -1;
      failStart(instance, "not ready after start-timeout " + tenant.startTimeout().toMillis() + " ms");
    });
    vertx.executeBlocking(() -> launcher.start(spec, logFile), false).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING) {
        if (ar.succeeded()) {
          stopProcess(ar.result());
        }
        return;
      }
      if (ar.failed()) {
        failStart(instance, "cannot execute " + spec.argv().get(0) + ": " + ar.cause().getMessage());
        return;
      }
      ManagedProcess process = ar.result();
      instance.process = process;
      log.info("tenant {} spawned pid {} on port {}, output in {}", instance.tenantName(), process.pid(),
          instance.address().port(), logFile);
      process.exit().thenAccept(code -> context.runOnContext(v -> exited(instance, process, code)));
      pollUntilOpen(instance, process, FIRST_POLL_MILLIS);
    });
  }

  private void pollUntilOpen(Instance instance, ManagedProcess process, long delay) {
    probe.isOpen(instance.address()).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != process) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        becomeReady(instance, "port open after " + millisSince(instance.startBeganNanos) + " ms");
      } else {
        long next = Math.min(MAX_POLL_MILLIS, delay + 1);
        vertx.setTimer(delay, t -> pollUntilOpen(instance, process, next));
      }
    });
  }

  private void becomeReady(Instance instance, String reason) {
    cancelStartTimer(instance);
    instance.transition(InstanceState.READY, reason);
    instance.starting.complete(new Backend(instance, instance.address(), true));
  }

  private void failStart(Instance instance, String reason) {
    if (instance.state() != InstanceState.STARTING) {
      return;
    }
    cancelStartTimer(instance);
    ManagedProcess process = instance.process;
    instance.process = null;
    StringBuilder message = new StringBuilder("tenant " + instance.tenantName() + " failed to start: " + reason);
    if (process != null) {
      appendOutput(message, process);
      stopProcess(process);
    }
    log.error(message.toString());
    instance.transition(InstanceState.STOPPED, "start failed: " + reason);
    instance.starting.fail(new StartFailedException(instance.tenantName(), message.toString(),
        FAILED_START_RETRY_AFTER_SECONDS));
  }

  /** The process exited on its own (a stop in progress is noticed by the stop itself). */
  private void exited(Instance instance, ManagedProcess process, int code) {
    if (instance.process != process) {
      return;
    }
    switch (instance.state()) {
      case STARTING -> failStart(instance, "exited with code " + code + " before it was ready");
      case READY -> {
        instance.process = null;
        StringBuilder message = new StringBuilder("tenant " + instance.tenantName() + " pid " + process.pid()
            + " exited with code " + code + " while serving");
        appendOutput(message, process);
        log.warn(message.toString());
        instance.transition(InstanceState.CRASHED, "exited with code " + code);
      }
      default -> { }
    }
  }

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
    stopProcess(process).onComplete(ar -> {
      instance.process = null;
      instance.transition(InstanceState.STOPPED, "process tree gone");
      stopping.complete();
    });
    return stopping.future();
  }

  /** Stops every instance wakeport started, in parallel. */
  public Future<Void> stopAll(String reason) {
    List<Future<Void>> stops = new ArrayList<>();
    for (Instance instance : instances.values()) {
      stops.add(stop(instance, reason));
    }
    return Future.join(stops).mapEmpty();
  }

  private Future<Boolean> stopProcess(ManagedProcess process) {
    return vertx.executeBlocking(() -> {
      boolean graceful = launcher.stopTree(process, STOP_SIGNAL, STOP_GRACE);
      process.log().close();
      return graceful;
    }, false);
  }

  private void cancelStartTimer(Instance instance) {
    if (instance.startTimer >= 0) {
      vertx.cancelTimer(instance.startTimer);
      instance.startTimer = -1;
    }
  }

  private static void appendOutput(StringBuilder message, ManagedProcess process) {
    List<String> lines = process.lastOutput();
    if (lines.isEmpty()) {
      message.append("; it printed nothing");
      return;
    }
    message.append("; its last output (").append(process.log().file()).append("):");
    lines.forEach(line -> message.append("\n  | ").append(line));
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static String key(String tenant, String route) {
    return route.isEmpty() ? tenant : tenant + "/" + route;
  }

  static String logName(Instance instance) {
    return instance.route().isEmpty() ? instance.tenantName() : instance.tenantName() + "-" + instance.route();
  }

  public Future<Void> close() {
    return probe.close();
  }
}
