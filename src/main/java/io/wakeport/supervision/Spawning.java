package io.wakeport.supervision;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.wakeport.config.LaunchSpec;
import io.wakeport.config.Readiness;
import io.wakeport.config.TenantConfig;
import io.wakeport.containment.Containment;
import io.wakeport.metrics.Metrics;
import io.wakeport.supervision.PortOwnership.Owner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starting an instance, from STARTING to READY: the port probe first (a port someone else serves
 * is used, never signalled), the spawn on a worker thread once {@link StartQueue} admits it, the
 * readiness check polled until it passes, and the start-timeout over it all. The same watch covers
 * a process adopted from an earlier run and a live process whose port closed. The one place that
 * starts a process ({@link ProcessLauncher#start}). State changes run on the supervisor's context;
 * what goes wrong is handed to {@link Failures}.
 */
final class Spawning {

  /** Where a start that goes wrong is handed; called on the supervisor's context. */
  interface Outcomes {
    /** The start failed: its process, if any, is stopped. */
    void failStart(Instance instance, String reason);

    /** The instance's process exited on its own. */
    void exited(Instance instance, ManagedProcess process, int code);
  }

  /** Logs as the supervisor did before this was split out of it. */
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  /** Readiness polling: a refused loopback connect costs microseconds, so start at 1 ms and cap low. */
  private static final long FIRST_POLL_MILLIS = 1;
  private static final long MAX_POLL_MILLIS = 5;
  private static final long MAX_HTTP_POLL_MILLIS = 20;

  private final Vertx vertx;
  private final Context context;
  private final ProcessLauncher launcher;
  private final PidFiles pidFiles;
  private final PortProbe probe;
  private final WebClient web;
  private final Path logDir;
  private final StartQueue queue;
  private final Stopping stopping;
  private final Outcomes outcomes;
  private final Metrics metrics;

  Spawning(Vertx vertx, Context context, ProcessLauncher launcher, PidFiles pidFiles, PortProbe probe, WebClient web,
      Path logDir, StartQueue queue, Stopping stopping, Outcomes outcomes, Metrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.context = context;
    this.launcher = launcher;
    this.pidFiles = pidFiles;
    this.probe = probe;
    this.web = web;
    this.logDir = logDir;
    this.queue = queue;
    this.stopping = stopping;
    this.outcomes = outcomes;
  }

  /** Pays the first spawn's class loading now, on a worker thread, rather than in a tenant's first start. */
  void warmUp() {
    vertx.executeBlocking(() -> {
      launcher.warmUp();
      return null;
    }, false);
  }

  /** Moves the instance to STARTING: ready at once if its port is already served, else queued for a slot. */
  void start(Instance instance, String reason) {
    instance.useConfiguredPort();
    instance.replaceWhenIdle = false;
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    instance.transition(InstanceState.STARTING, reason);
    probe.isOpen(instance.address()).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != null || instance.admitted) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        takeOpenPort(instance);
      } else {
        queue.enqueue(instance);
      }
    });
  }

  /**
   * The port is open with no process of ours: who holds it decides. A process of wakeport's own
   * user is used and never signalled (unless the tenant says {@code foreign-listener: refuse});
   * another user's process, or another instance's, never gets the tenant's traffic; an escapee
   * of this instance's own cell (a daemon an earlier start left) is stopped, then started anew.
   */
  private void takeOpenPort(Instance instance) {
    int port = instance.address().port();
    String cellName = instance.name;
    Containment containment = launcher.containment();
    vertx.executeBlocking(() -> PortOwnership.of(port, containment, cellName, List.of()), false).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != null || instance.admitted) {
        return;
      }
      Owner owner = ar.succeeded() ? ar.result() : Owner.NOBODY;
      switch (owner.holder()) {
        case NOBODY -> queue.enqueue(instance);
        case OWN_CELL -> {
          log.warn("tenant {}: port {} is held by {}, left by an earlier start of this instance: stopping it",
              instance.tenantName(), port, owner.who());
          stopping.stopCell(cellName, instance.tenant.policy().stopGrace()).onComplete(x -> {
            if (instance.state() == InstanceState.STARTING && instance.process == null && !instance.admitted) {
              queue.enqueue(instance);
            }
          });
        }
        case SAME_USER -> {
          if (instance.tenant.policy().refuseForeignListener()) {
            outcomes.failStart(instance, "port " + port + " is served by " + owner.who()
                + ", a process wakeport did not start (foreign-listener: refuse)");
          } else {
            becomeReady(instance, "port already open: served by " + owner.who()
                + ", a process wakeport did not start", false);
          }
        }
        default -> outcomes.failStart(instance, "port " + port + " is served by " + owner.who()
            + ", which never gets this tenant's traffic");
      }
    });
  }

  /** Spawns the process of an admitted instance and polls its readiness check. */
  void spawn(Instance instance) {
    TenantConfig tenant = instance.tenant;
    LaunchSpec spec = tenant.launchSpec(instance.config);
    Path logFile = logDir.resolve(instance.name + ".log");
    instance.startTimer = vertx.setTimer(Math.max(1, tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      outcomes.failStart(instance, "not ready after start-timeout " + tenant.startTimeout().toMillis() + " ms");
    });
    vertx.executeBlocking(() -> {
      long offset = Files.exists(logFile) ? LogFiles.size(logFile) : 0;
      ManagedProcess process = launcher.start(instance.name, spec, tenant.policy().limits(), logFile);
      pidFiles.write(instance.name, process, instance.address().port());
      return new Spawned(process, offset);
    }, false).onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || !instance.admitted) {
        if (ar.succeeded()) {
          stopping.stopProcess(instance, ar.result().process());
        }
        return;
      }
      if (ar.failed()) {
        outcomes.failStart(instance, "cannot execute " + spec.argv().get(0) + ": " + ar.cause().getMessage());
        return;
      }
      ManagedProcess process = ar.result().process();
      instance.process = process;
      instance.logOffset = ar.result().logOffset();
      metrics.spawned(tenant);
      log.info("tenant {} spawned pid {} on port {}, output in {}", instance.tenantName(), process.pid(),
          instance.address().port(), logFile);
      watchExit(instance, process);
      ReadinessCheck check = ReadinessCheck.of(tenant.readiness(), instance.address(), logFile,
          ar.result().logOffset(), probe, web, vertx);
      pollUntilReady(instance, process, check, FIRST_POLL_MILLIS);
    });
  }

  private record Spawned(ManagedProcess process, long logOffset) {}

  /** Takes over a process an earlier run started: STARTING until its port answers. */
  void adopt(Instance instance, ManagedProcess process) {
    instance.process = process;
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    queue.track(instance);
    instance.transition(InstanceState.STARTING, "adopted pid " + process.pid() + " from an earlier run");
    watchExit(instance, process);
    instance.startTimer = vertx.setTimer(Math.max(1, instance.tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      outcomes.failStart(instance, "adopted process not ready after start-timeout");
    });
    // Its ready line (if any) is in the past: adopted instances are checked by their port.
    pollUntilReady(instance, process, () -> probe.isOpen(instance.address()), FIRST_POLL_MILLIS);
  }

  /** Our process lives but its port is closed: requests wait for it to listen again, as for a start. */
  void awaitPortAgain(Instance instance, ManagedProcess process) {
    instance.starting = Promise.promise();
    instance.startBeganNanos = System.nanoTime();
    instance.awaitingPortAgain = true;
    instance.transition(InstanceState.STARTING, "port closed while pid " + process.pid() + " lives: waiting for it");
    instance.startTimer = vertx.setTimer(Math.max(1, instance.tenant.startTimeout().toMillis()), t -> {
      instance.startTimer = -1;
      outcomes.failStart(instance,
          "did not listen again within start-timeout " + instance.tenant.startTimeout().toMillis() + " ms");
    });
    pollUntilReady(instance, process, () -> probe.isOpen(instance.address()), FIRST_POLL_MILLIS);
  }

  void cancelStartTimer(Instance instance) {
    if (instance.startTimer >= 0) {
      vertx.cancelTimer(instance.startTimer);
      instance.startTimer = -1;
    }
  }

  private void watchExit(Instance instance, ManagedProcess process) {
    process.exit().thenAccept(code -> context.runOnContext(v -> outcomes.exited(instance, process, code)));
  }

  private void pollUntilReady(Instance instance, ManagedProcess process, ReadinessCheck check, long delay) {
    check.attempt().onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != process) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        verifyOwner(instance, process);
      } else {
        long cap = instance.tenant.readiness().kind() == Readiness.Kind.HTTP ? MAX_HTTP_POLL_MILLIS : MAX_POLL_MILLIS;
        vertx.setTimer(delay, t -> pollUntilReady(instance, process, check, Math.min(cap, delay + 1)));
      }
    });
  }

  /**
   * The check passed: before any request goes there, the port must be held by the instance's own
   * processes. Another user's process that took the port meanwhile gets nothing; a process of
   * wakeport's own user outside the cell (a proxy a container runtime runs for the backend) is
   * accepted unless the tenant says {@code foreign-listener: refuse}.
   */
  private void verifyOwner(Instance instance, ManagedProcess process) {
    int port = instance.address().port();
    Containment containment = launcher.containment();
    vertx.executeBlocking(() -> PortOwnership.of(port, containment, instance.name, process.cell().members()), false)
        .onComplete(ar -> {
      if (instance.state() != InstanceState.STARTING || instance.process != process) {
        return;
      }
      Owner owner = ar.succeeded() ? ar.result() : Owner.NOBODY;
      boolean refused = switch (owner.holder()) {
        case NOBODY, OWN_CELL -> false;
        case SAME_USER -> instance.tenant.policy().refuseForeignListener();
        default -> true;
      };
      if (refused) {
        outcomes.failStart(instance, "port " + port + " is answered by " + owner.who()
            + ", not by the process wakeport started");
        return;
      }
      if (owner.holder() == PortOwnership.Holder.SAME_USER) {
        log.info("tenant {}: port {} is served by {}, outside the instance's processes: used (foreign-listener: use)",
            instance.tenantName(), port, owner.who());
      }
      ready(instance, process);
    });
  }

  /** Ready now, or after the readiness check's settle time if the process is still ours then. */
  private void ready(Instance instance, ManagedProcess process) {
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
  }

  /** {@code waited}: the request waited for a start (Server-Timing: cold-start), not just a port probe. */
  private void becomeReady(Instance instance, String reason, boolean waited) {
    cancelStartTimer(instance);
    instance.awaitingPortAgain = false;
    queue.releaseSlot(instance);
    instance.readySinceNanos = System.nanoTime();
    instance.lastStartMillis = System.currentTimeMillis();
    instance.lastStartDuration = millisSince(instance.startBeganNanos);
    instance.touch();
    instance.transition(InstanceState.READY, reason);
    if (waited) {
      metrics.coldStart(instance.readySinceNanos - instance.startBeganNanos);
    }
    instance.starting.complete(new Backend(instance, instance.address(), waited));
    queue.admit();
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
