package io.wakeport.supervision;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.Containment;
import io.wakeport.containment.ResourceUsage;
import io.wakeport.metrics.Metrics;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns every {@link Instance} and makes them ready on demand: one start per instance however many
 * requests wait (single flight), start slots and the running limit, readiness checks, crash
 * detection and backoff, idle stops, keep-warm and adoption of backends an earlier run started.
 * The public facade; each job is a room of its own: {@link StartQueue} (admission),
 * {@link Spawning} (start and readiness), {@link Failures} (failed starts, crashes, backoff),
 * {@link Stopping}, {@link IdleSweep}, {@link Reconciliation} (config reloads) and
 * {@link Adoption}. All state changes run on one Vert.x context of its own, which every room
 * shares; spawning, killing and file I/O run on worker threads. Knows nothing of HTTP.
 */
public final class Supervisor {

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  private final Vertx vertx;
  private final Context context;
  private final PortProbe probe;
  private final WebClient web;
  private final ConcurrentHashMap<String, Instance> instances = new ConcurrentHashMap<>();
  private final StartQueue queue;
  private final Containment containment;
  private final ProcessLauncher launcher;
  private final Stopping stopping;
  private final Spawning spawning;
  private final Failures failures;
  private final Adoption adoption;
  private final Reconciliation reconciliation;
  private final IdleSweep idleSweep;
  private final io.wakeport.health.HealthProbes healthProbes;
  private final RemoteMembers remoteMembers;
  private final KeepWarm keepWarm;
  /** Told of every state change, on this context (the admin API's event stream); none may block. */
  private final LifecycleListeners lifecycleListeners = new LifecycleListeners();

  /** A supervisor whose backends are contained as {@code config} asks ({@link Containment#detect}). */
  public Supervisor(Vertx vertx, WakeportConfig config) {
    this(vertx, config, Containment.detect(config.stateDir(), config.supervisor().containment()));
  }

  public Supervisor(Vertx vertx, WakeportConfig config, Containment containment) {
    this(vertx, config, containment, Metrics.off());
  }

  /** A supervisor that records its starts, failures and queue in {@code metrics}. */
  public Supervisor(Vertx vertx, WakeportConfig config, Containment containment, Metrics metrics) {
    this.vertx = vertx;
    this.containment = containment;
    this.context = vertx.getOrCreateContext();
    this.probe = new PortProbe(vertx, 1000);
    this.web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setConnectTimeout(1000));
    this.launcher = new ProcessLauncher(containment);
    PidFiles pidFiles = new PidFiles(config.runDir());
    // Each room is given the rooms built before it; its calls into rooms built after it go
    // through `late`.
    LateCalls late = new LateCalls();
    this.queue = new StartQueue(vertx, config.supervisor(), late, metrics);
    this.stopping = new Stopping(vertx, launcher, pidFiles, queue, late);
    this.spawning = new Spawning(vertx, context, launcher, pidFiles, probe, web, config.logDir(), queue, stopping, late,
        metrics);
    this.failures = new Failures(vertx, context, queue, stopping, spawning, metrics);
    this.adoption = new Adoption(vertx, pidFiles, config.logDir(), containment, stopping,
        (tenant, ic, process) -> spawning.adopt(instanceFor(tenant, ic), process));
    this.reconciliation = new Reconciliation(vertx, instances, late);
    this.idleSweep = new IdleSweep(vertx, config.logDir(), queue, stopping, reconciliation);
    this.healthProbes = new io.wakeport.health.HealthProbes(vertx);
    this.remoteMembers = new RemoteMembers(vertx, healthProbes, metrics);
    this.keepWarm = new KeepWarm(spawning, this::instanceFor);
  }

  /** What the rooms ask of each other, answered by the room that does it; on the supervisor context. */
  private final class LateCalls
      implements StartQueue.Lifecycle, Stopping.Starts, Spawning.Outcomes, Reconciliation.Lifecycle {
    @Override
    public void start(Instance instance, String reason) {
      spawning.start(instance, reason);
    }

    @Override
    public void spawn(Instance instance) {
      spawning.spawn(instance);
    }

    @Override
    public Future<Void> stop(Instance instance, String reason) {
      return stopping.stop(instance, reason);
    }

    @Override
    public void failStart(Instance instance, String reason) {
      failures.failStart(instance, reason);
    }

    @Override
    public void exited(Instance instance, ManagedProcess process, int code) {
      failures.exited(instance, process, code);
    }
  }

  /** Adopts backends an earlier run left (pid files), starts keep-warm instances, and begins sweeping. */
  public Future<Void> start(WakeportConfig config) {
    Promise<Void> done = Promise.promise();
    spawning.warmUp();
    context.runOnContext(v -> {
      idleSweep.start();
      remoteMembers.sync(config, this::instanceFor);
      adoption.adoptLeftovers(config).onComplete(ar -> {
        keepWarm.apply(config);
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
    return instances.computeIfAbsent(key(tenant.stateName(), config.route()), k -> new Instance(tenant, config, lifecycleListeners));
  }

  /**
   * A ready backend for {@code config}'s instance of {@code tenant}, starting it if needed. On
   * success the caller holds a lease and must call {@link #release} exactly once when the exchange
   * is over; on failure (a {@link StartFailedException}) it holds none. Completes on the caller's
   * context.
   */
  public Future<Backend> acquire(TenantConfig tenant, InstanceConfig config) {
    return acquire(tenant, config, null);
  }

  /**
   * As {@link #acquire(TenantConfig, InstanceConfig)}, for a request that may stop waiting: once
   * {@code leaving} completes before the backend is ready, the request leaves the start's queue
   * (its place under max-queue and its lease are given back, the result fails) while the start
   * goes on for whoever comes next. A waiting page's request leaves this way.
   */
  public Future<Backend> acquire(TenantConfig tenant, InstanceConfig config, Future<Void> leaving) {
    Instance instance = instanceFor(tenant, config);
    // Lease first, then look: an idle stop clears `ready` before it checks the leases, so one of
    // the two always sees the other.
    instance.leased();
    Future<Backend> ready = instance.readyFuture();
    if (ready != null) {
      return ready;
    }
    if (config.isRemote()) {
      // Another machine's, and down (or not yet taken over from a process of ours by a reload):
      // nothing to start here; the caller fails over or answers 503.
      instance.released(false);
      return Future.failedFuture(RemoteMembers.down(tenant, config));
    }
    Context caller = Vertx.currentContext();
    Promise<Backend> result = Promise.promise();
    context.runOnContext(v -> {
      instance.tenant = tenant;
      instance.config = config;
      Future<Void> left = leaving == null ? null : onContext(leaving);
      queue.awaitReady(instance, left).onComplete(ar -> {
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

  /** {@code event}, completing on the supervisor's context. */
  private Future<Void> onContext(Future<Void> event) {
    Promise<Void> here = Promise.promise();
    event.onComplete(ar -> context.runOnContext(v -> here.tryComplete()));
    return here.future();
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
    if (queue.startsWaiting() && instance.inFlight() == 0) {
      context.runOnContext(v -> queue.admit());
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
    if (instance.isRemote()) {
      return; // not ours to start: its health checks take it out when it stays unreachable
    }
    instance.suspendReady();
    context.runOnContext(v -> failures.unreachable(instance));
  }

  /**
   * What a live request found at a member on another machine (passive checks), from the request's
   * event loop: with {@code check.observe}, enough errors in a row take it DOWN at once. Nothing
   * for an instance here.
   */
  public void observed(Backend backend, io.wakeport.health.LiveOutcome outcome) {
    Instance instance = backend.instance();
    if (RemoteMembers.observed(instance, outcome)) {
      context.runOnContext(v -> remoteMembers.takeDown(instance));
    }
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
    if (instance.isRemote()) {
      return Future.succeededFuture(false); // no process of ours to wait for
    }
    Context caller = Vertx.currentContext();
    Promise<Boolean> gone = Promise.promise();
    context.runOnContext(v -> failures.exitsWithin(instance, millis).onComplete(gone));
    if (caller == null || caller == context) {
      return gone.future();
    }
    Promise<Boolean> there = Promise.promise();
    gone.future().onComplete(ar -> caller.runOnContext(x -> there.handle(ar)));
    return there.future();
  }

  /**
   * Starts {@code config}'s instance of {@code tenant} without a request, as a request would
   * (single flight, start slots, backoff), and completes once it is ready; it then idles out
   * like any other.
   */
  public Future<Void> start(TenantConfig tenant, InstanceConfig config) {
    return acquire(tenant, config).map(backend -> {
      release(backend, true);
      return null;
    });
  }

  /**
   * Restarts {@code which} instances of {@code tenant} one at a time: each is stopped and started
   * again, and ready, before the next stops, so a tenant with several instances keeps serving.
   * Instances not running are left alone unless {@code evenIfStopped}.
   */
  public Future<Void> restart(TenantConfig tenant, List<InstanceConfig> which, boolean evenIfStopped, String reason) {
    Future<Void> chain = Future.succeededFuture();
    for (InstanceConfig config : which) {
      chain = chain.compose(v -> {
        Instance instance = instanceFor(tenant, config);
        if (!instance.running() && !evenIfStopped) {
          return Future.succeededFuture();
        }
        return stop(instance, reason).compose(x -> start(tenant, config));
      });
    }
    return chain;
  }

  /**
   * Sets the operator's mode (drain, disable, standby, active) over the config's, or null for the
   * config's again. Read by the balancer at the next new session; kept until set again or until
   * a reload changes the instance's config.
   */
  public void mode(Instance instance, io.wakeport.routing.MemberMode mode, String reason) {
    instance.mode(mode);
    log.info("tenant {}: {} ({})", instance, mode == null ? "mode as configured" : mode.name().toLowerCase(), reason);
  }

  /** Sets the operator's balancing weight over the config's (1..100), or 0 for the config's again; as {@link #mode}. */
  public void weight(Instance instance, int weight, String reason) {
    instance.weight(weight);
    log.info("tenant {}: weight {} ({})", instance, weight == 0 ? "as configured" : weight, reason);
  }

  /** Sets a registered member's reported load (1..100), read by the balancer at the next new session. */
  public void load(Instance instance, int load) {
    instance.load(load);
  }

  /**
   * Records that a registered member came, moved or left: an event of the instance like any state
   * change (logged, on the event stream, in its recent events), {@code to} UP or DOWN. A member
   * that leaves is DOWN from here, before the next snapshot takes it out of balancing.
   */
  public Future<Void> memberChanged(String tenant, String route, InstanceState to, String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      remoteMembers.changed(instances.get(key(tenant, route)), to, reason);
      done.complete();
    });
    return done.future();
  }

  /** Everything known of every instance, taken at once on the supervisor's context. */
  public Future<List<InstanceView>> views() {
    Promise<List<InstanceView>> done = Promise.promise();
    context.runOnContext(v -> {
      List<InstanceView> views = new ArrayList<>(instances.size());
      for (Instance instance : instances.values()) {
        views.add(instance.view());
      }
      done.complete(views);
    });
    return done.future();
  }

  /**
   * Tells {@code listener} of every state change from now on, on the supervisor's context: it
   * must hand the event on without blocking. Run the returned action to stop.
   */
  public Runnable onLifecycle(Consumer<LifecycleEvent> listener) {
    return lifecycleListeners.add(listener);
  }

  /** Stops one instance gracefully; completes when its process tree is gone. */
  public Future<Void> stop(Instance instance, String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> stopping.stop(instance, reason).onComplete(done));
    return done.future();
  }

  /** Stops every instance wakeport runs, in parallel (keep-warm ones too). */
  public Future<Void> stopAll(String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> stopping.stopAll(instances.values(), reason).onComplete(ar -> done.complete()));
    return done.future();
  }

  /**
   * Brings the instances in line with a new config snapshot. Instances of tenants or routes that
   * are gone finish their requests and stop; changed tenants keep running their process and use
   * the new command, environment and port at their next start, or are replaced at once, one
   * instance of a tenant at a time, with {@code on-change: restart} (see {@link Reconciliation}).
   */
  public Future<Void> reconcile(WakeportConfig config) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      queue.limits(config.supervisor());
      reconciliation.apply(config);
      remoteMembers.sync(config, this::instanceFor);
      keepWarm.apply(config);
      queue.admit();
      done.complete();
    });
    return done.future();
  }

  /**
   * In a cluster: keep-warm instances are started only where the cluster places them
   * ({@link #warm}), not on every node.
   */
  public void keepWarmByPlacement() {
    keepWarm.byPlacement();
  }

  /** Marks {@code config}'s instance of {@code tenant} keep-warm here and starts it if it is down. */
  public void warm(TenantConfig tenant, InstanceConfig config, String reason) {
    context.runOnContext(v -> keepWarm.warm(tenant, config, reason));
  }

  static String key(String tenant, String route) {
    return route.isEmpty() ? tenant : tenant + "/" + route;
  }

  /**
   * Instances with a process of wakeport's (starting, ready or stopping): what {@code max-running}
   * counts. Read off the supervisor's context (a gauge): a moment's value.
   */
  public int runningCount() {
    return queue.runningCount();
  }

  /** Instances queued for a start slot or for room under {@code max-running}; a moment's value. */
  public int queuedStarts() {
    return queue.queuedCount();
  }

  /** Requests waiting on a start now; a moment's value. */
  public int waitingRequests() {
    return queue.waitingCount();
  }

  /** How many instances are in {@code state} now (one pass over them all). */
  public int count(InstanceState state) {
    int n = 0;
    for (Instance instance : instances.values()) {
      if (instance.state() == state) {
        n++;
      }
    }
    return n;
  }

  /** How backends' processes are kept together on this machine. */
  public Containment containment() {
    return containment;
  }

  /**
   * What all processes of {@code instance} use now (memory, CPU time, processes, OOM kills),
   * read on a worker thread; {@link ResourceUsage#UNKNOWN} when it runs no process of ours.
   */
  public Future<ResourceUsage> usage(Instance instance) {
    io.wakeport.supervision.ManagedProcess process = instance.process;
    if (process == null) {
      return Future.succeededFuture(ResourceUsage.UNKNOWN);
    }
    return vertx.executeBlocking(() -> process.cell().usage(), false);
  }

  /** Stops sweeping and closes the clients; backends are stopped (or kept) by the caller. */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      idleSweep.stop();
      remoteMembers.close();
      healthProbes.close();
      web.close();
      probe.close().onComplete(ar -> vertx.executeBlocking(() -> {
        launcher.close();
        containment.close();
        return null;
      }, false).onComplete(x -> done.complete()));
    });
    return done.future();
  }
}
