package io.wakeport.registration;

import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.Supervisor;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * config and served through {@link ServedConfig}, on a thread of its own. In a cluster the
 * changes are shared ({@link RegistrationSharing}): those made on other nodes come here too, and
 * are served the same way.
 */
public final class RegistrationDesk {

  private static final Logger log = LoggerFactory.getLogger(RegistrationDesk.class);

  /** How often registered members' leases are looked at: a member is out at most this long past its ttl. */
  private static final long EXPIRY_SWEEP_MILLIS = 100;
  /** Registration changes that may wait for the thread; past them the admin API answers 503. */
  private static final int REGISTRATION_QUEUE = 256;

  private final Supervisor supervisor;
  private final ServedConfig served;
  private final RegistrationSharing sharing;
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
  /** Changes from other nodes, in the order they came, until the registration thread takes them in. */
  private final ConcurrentLinkedQueue<Shared> shared = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean sharedQueued = new AtomicBoolean();
  /** Members of other nodes this node's config refuses, said once each (until a reload). */
  private final Set<String> refusedShared = ConcurrentHashMap.newKeySet();

  private record Shared(RegistrationSharing.Member member, boolean removed) {}

  public RegistrationDesk(Supervisor supervisor, ServedConfig served, RegistrationSharing sharing) {
    this.supervisor = supervisor;
    this.served = served;
    this.sharing = sharing;
  }

  /** Starts the lease sweep, and takes in the members registered on other nodes (now, and as they change). */
  public void start(Vertx vertx) {
    vertx.setPeriodic(EXPIRY_SWEEP_MILLIS, t -> expireRegistrations());
    sharing.open(new RegistrationSharing.Listener() {
      @Override
      public void changed(RegistrationSharing.Member member) {
        shared.add(new Shared(member, false));
        takeInShared();
      }

      @Override
      public void removed(RegistrationSharing.Member member) {
        shared.add(new Shared(member, true));
        takeInShared();
      }
    });
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
      int maxMembers = Registrations.policyOf(t).maxMembers();
      Registrations.Change change = sharing.register(tenant, route, maxMembers,
          () -> registrations.register(t, route, address, weight, load, System.currentTimeMillis()));
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
    sharing.reported(r);
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
      share(() -> sharing.removed(gone), gone);
      return gone;
    }
  }

  /** On the sweep's timer: members whose lease ran out are taken out, off the event loop. */
  private void expireRegistrations() {
    if (!shared.isEmpty()) {
      takeInShared(); // refused by a full queue before
    }
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
        for (Registration r : expired) {
          share(() -> sharing.expired(r), r);
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

  /** Queues the taking in of other nodes' changes on the registration thread, once however many come. */
  private void takeInShared() {
    if (sharedQueued.compareAndSet(false, true)) {
      try {
        registrationThread.execute(this::takeInSharedNow);
      } catch (RejectedExecutionException e) {
        sharedQueued.set(false); // the next sweep tries again
      }
    }
  }

  /**
   * Other nodes' registrations, load reports and departures, in their order: served here like this
   * node's own. This node's own changes come back too, and change nothing.
   */
  private void takeInSharedNow() {
    sharedQueued.set(false);
    synchronized (served) {
      WakeportConfig loaded = served.loaded();
      boolean changed = false;
      List<Registration> came = new ArrayList<>();
      for (Shared next; (next = shared.poll()) != null; ) {
        RegistrationSharing.Member m = next.member();
        if (next.removed()) {
          Registration gone = registrations.forget(m);
          if (gone != null) {
            log.info("tenant {}: member {} at {} left on another node (deregistered, or no report for its ttl)",
                m.tenant(), m.route(), m.address());
            settle(supervisor.memberChanged(m.tenant(), m.route(), InstanceState.DOWN, "left on another node"), 10);
            changed = true;
          }
          continue;
        }
        TenantConfig t = loaded.tenants().get(m.tenant());
        try {
          if (t == null) {
            throw new RegistrationRefused(404, "no-such-tenant", "no tenant " + m.tenant() + " in " + loaded.file());
          }
          if (t.registration() != null && registrations.find(m.tenant(), m.route()) == null
              && System.currentTimeMillis() - m.lastReportMillis() >= t.registration().ttl().toMillis()) {
            continue; // a late word of a member whose lease ran out meanwhile: not taken in again
          }
          Registrations.Change change = registrations.adopt(t, m);
          if (change.membersChanged()) {
            changed = true;
            log.info("tenant {}: member {} {} at {} on another node (weight {}, load {})", m.tenant(), m.route(),
                change.created() ? "registered" : "registered again", m.address(), m.weight(), m.load());
          }
          if (change.created()) {
            came.add(change.registration());
          }
          refusedShared.remove(m.tenant() + "/" + m.route());
        } catch (RegistrationRefused e) {
          if (refusedShared.add(m.tenant() + "/" + m.route())) {
            log.warn("tenant {}: member {} at {}, registered on another node, is not served here: {}", m.tenant(),
                m.route(), m.address(), e.getMessage());
          }
        }
      }
      if (changed) {
        applyRegistrations();
      } else {
        pushLoads();
      }
      for (Registration r : came) {
        String why = "registered at " + r.member().address() + " on another node";
        settle(supervisor.memberChanged(r.tenant(), r.route(), InstanceState.UP, why), 10);
      }
    }
  }

  /** Tells the other nodes; when that fails, they take the member out at the end of its lease. */
  private void share(Runnable tell, Registration r) {
    try {
      tell.run();
    } catch (RuntimeException e) {
      log.warn("tenant {}: the other nodes were not told that member {} left ({}); they take it out after its ttl",
          r.tenant(), r.route(), e.toString());
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
    refusedShared.clear();
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
