package io.wakeport.registration;

import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.Supervisor;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where backends register themselves, report their load and leave (the admin API's member
 * endpoints), and where silent members are taken out: each change is checked against the files'
 * config and served through {@link ServedConfig}, on a thread of its own.
 */
public final class RegistrationDesk {

  private static final Logger log = LoggerFactory.getLogger(RegistrationDesk.class);

  /** How often registered members' leases are looked at: a member is out at most this long past its ttl. */
  public static final long EXPIRY_SWEEP_MILLIS = 100;
  /** Registration changes that may wait for the thread; past them the admin API answers 503. */
  private static final int REGISTRATION_QUEUE = 256;

  private final Supervisor supervisor;
  private final ServedConfig served;
  /** Members that registered themselves through the admin API; kept across reloads, not restarts. */
  private final Registrations registrations = new Registrations();
  /**
   * Where registrations are applied: one thread of its own, since applying waits for the
   * supervisor (which no Vert.x thread may do), with a bounded queue: a flood is refused, not stored.
   */
  private final ThreadPoolExecutor registrationThread =
      new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(REGISTRATION_QUEUE), r -> {
        Thread t = new Thread(r, "wakeport-registrations");
        t.setDaemon(true);
        return t;
      });
  /** A lease sweep waits for the registration thread: the timer queues no second one. */
  private volatile boolean sweepQueued;

  public RegistrationDesk(Supervisor supervisor, ServedConfig served) {
    this.supervisor = supervisor;
    this.served = served;
  }

  /** Members that registered themselves (admin API), by tenant in registration order. */
  public Registrations registrations() {
    return registrations;
  }

  /**
   * Adds (or renews) a registered member of {@code tenant} and serves the new snapshot. Blocking:
   * from a worker thread, never an event loop. Fails with {@link RegistrationRefused}.
   */
  public Registrations.Change register(String tenant, String route, String address, int weight, Integer load) {
    synchronized (served) {
      TenantConfig t = loadedTenant(tenant);
      Registrations.Change change = registrations.register(t, route, address, weight, load, System.currentTimeMillis());
      Registration r = change.registration();
      if (change.membersChanged()) {
        applyRegistrations();
        log.info("tenant {}: member {} {} at {} (weight {}, load {})", tenant, route,
            change.created() ? "registered" : "registered again", r.member().address(), r.weight(), r.load());
      }
      if (change.created()) {
        String why = "registered at " + r.member().address();
        settle(supervisor.memberChanged(t.stateName(), route, InstanceState.UP, why), 10);
      }
      pushLoad(r);
      return change;
    }
  }

  /** A registered member's load report (1..100), which renews its lease. */
  public Registration report(String tenant, String route, int load) {
    Registration r = registrations.report(loadedTenant(tenant), route, load, System.currentTimeMillis());
    pushLoad(r);
    return r;
  }

  /** Takes a registered member out at its own request; blocking, as {@link #register}. */
  public Registration deregister(String tenant, String route) {
    synchronized (served) {
      TenantConfig t = loadedTenant(tenant);
      Registration gone = registrations.remove(t, route);
      log.info("tenant {}: member {} at {} deregistered", tenant, route, gone.member().address());
      settle(supervisor.memberChanged(t.stateName(), route, InstanceState.DOWN, "deregistered"), 10);
      applyRegistrations();
      return gone;
    }
  }

  /** On the sweep's timer: members whose lease ran out are taken out, off the event loop. */
  public void expireRegistrations() {
    long now = System.currentTimeMillis();
    if (sweepQueued || registrations.all().stream().noneMatch(r -> expired(r, now))) {
      return;
    }
    sweepQueued = true;
    onRegistrationThread((Runnable) () -> {
      synchronized (served) {
        sweepQueued = false;
        WakeportConfig loaded = served.loaded();
        List<Registration> expired = registrations.expire(loaded, System.currentTimeMillis());
        for (Registration r : expired) {
          String ttl = io.wakeport.config.Durations.format(loaded.tenants().get(r.tenant()).registration().ttl());
          log.warn("tenant {}: registered member {} at {} sent no report for {} (its ttl): taken out", r.tenant(),
              r.route(), r.member().address(), ttl);
          String why = "registration expired: no report for " + ttl;
          settle(supervisor.memberChanged(r.tenant(), r.route(), InstanceState.DOWN, why), 10);
        }
        if (!expired.isEmpty()) {
          applyRegistrations();
        }
      }
    });
  }

  /**
   * Runs {@code work} on the registration thread (it may wait for the supervisor), then hands its
   * outcome to {@code done} on the caller's Vert.x context. Refused at once when too many wait.
   */
  public <T> void onRegistrationThread(Callable<T> work, io.vertx.core.Handler<io.vertx.core.AsyncResult<T>> done) {
    io.vertx.core.Context caller = io.vertx.core.Vertx.currentContext();
    try {
      registrationThread.execute(() -> {
        io.vertx.core.AsyncResult<T> outcome;
        try {
          outcome = io.vertx.core.Future.succeededFuture(work.call());
        } catch (Throwable e) {
          outcome = io.vertx.core.Future.failedFuture(e);
        }
        io.vertx.core.AsyncResult<T> result = outcome;
        caller.runOnContext(v -> done.handle(result));
      });
    } catch (RejectedExecutionException e) {
      done.handle(io.vertx.core.Future.failedFuture(new RegistrationRefused(503, "busy",
          "too many registration changes are waiting; try again shortly")));
    }
  }

  private void onRegistrationThread(Runnable work) {
    try {
      registrationThread.execute(work);
    } catch (RejectedExecutionException e) {
      // the next sweep tries again
    }
  }

  private boolean expired(Registration r, long now) {
    TenantConfig t = served.loaded().tenants().get(r.tenant());
    return t != null && t.registration() != null && now - r.lastReportMillis() >= t.registration().ttl().toMillis();
  }

  /**
   * Keeps what a newly loaded config still allows, and says what it drops; the caller holds the
   * config lock and serves {@code loaded} next.
   */
  public void retain(WakeportConfig loaded) {
    for (Registrations.Dropped d : registrations.retain(loaded)) {
      Registration r = d.registration();
      log.warn("tenant {}: registered member {} at {} dropped: {}", r.tenant(), r.route(), r.member().address(),
          d.reason());
      supervisor.memberChanged(r.tenant(), r.route(), InstanceState.DOWN, "registration dropped: " + d.reason());
    }
  }

  /** {@code loaded} with each tenant's registered members after its configured instances. */
  public WakeportConfig overlay(WakeportConfig loaded) {
    return registrations.overlay(loaded);
  }

  /** Whether {@code route} of {@code tenant} was a registered member that left, and none took its name since. */
  public boolean departed(String tenant, String route) {
    return registrations.departed(tenant, route);
  }

  /** The files' config with the registered members now: one routing swap, then the supervisor follows. */
  private void applyRegistrations() {
    served.serve(served.loaded());
  }

  /** Hands each registered member's last load to its instance (after a snapshot made new instances). */
  public void pushLoads() {
    registrations.all().forEach(this::pushLoad);
  }

  private void pushLoad(Registration r) {
    io.wakeport.supervision.Instance instance = supervisor.instance(r.tenant(), r.route());
    if (instance != null) {
      supervisor.load(instance, r.load());
    }
  }

  private TenantConfig loadedTenant(String name) {
    WakeportConfig loaded = served.loaded();
    TenantConfig t = loaded.tenants().get(name);
    if (t == null) {
      throw new RegistrationRefused(404, "no-such-tenant", "no tenant " + name + " in " + loaded.file());
    }
    return t;
  }

  /** Waits for {@code done} (a worker thread's wait on the supervisor's context), at most {@code seconds}. */
  private static void settle(io.vertx.core.Future<?> done, int seconds) {
    try {
      done.await(seconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the supervisor did not answer within " + seconds + " s", e);
    }
  }

  /** Stops the registration thread; what waits on it is dropped (registrations end with the process). */
  public void close() {
    registrationThread.shutdownNow();
  }
}
