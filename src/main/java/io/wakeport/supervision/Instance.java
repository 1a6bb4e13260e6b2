package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.InstanceLoad;
import io.wakeport.routing.MemberMode;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend instance (a tenant × route) and its lifecycle state. The state is the only truth
 * about whether the instance runs; every change goes through {@link #transition}, on the
 * supervisor's context. Event loops read it only through the volatile fields.
 */
public final class Instance implements InstanceLoad {

  private static final Logger log = LoggerFactory.getLogger(Instance.class);

  private final String tenantName;
  private final String route;
  /** Where its current process listens; a changed port takes effect at the next start. */
  private volatile SocketAddress address;
  /** File name stem for its log and pid file ({@link TenantConfig#fileStem}). */
  final String name;
  /** Its key in the supervisor's map: the tenant's state name, and its route after a '/'. */
  final String key;

  private volatile InstanceState state = InstanceState.STOPPED;
  /** Set for a member on another machine, which is never started: UP or DOWN by its health checks. */
  private volatile io.wakeport.config.RemoteMember remote;
  /** TLS to that member, or null (also for every local instance). */
  private volatile io.vertx.core.net.ClientSSLOptions tls;
  /** That member's errors in live traffic, counted by requests on any event loop; null without passive checks. */
  volatile io.wakeport.health.LiveErrors liveErrors;
  /** Non-null exactly while READY and not being checked for idleness: the warm path hands it out. */
  private volatile Future<Backend> ready;
  /** Requests holding a lease; an instance with leases is never stopped for idleness. */
  private final AtomicInteger inFlight = new AtomicInteger();
  /** When a counted request last ended (or the instance became ready). */
  private volatile long lastActivityNanos = System.nanoTime();
  /** Its last minute of requests, for the console; null until its first request. */
  private volatile RecentTraffic traffic;
  /** Exponentially weighted response time, for latency balancing; updates may race, harmlessly. */
  private volatile double latencyMillis;
  /**
   * The operator's say over new sessions (admin API), read by the balancer on event loops; null
   * and 0 follow the config. Kept until set again or until a reload changes this instance's config.
   */
  private volatile MemberMode mode;
  private volatile int weight;
  /** A registered member's last reported load (1..100), read by the balancer; 0: none reported. */
  private volatile int load;

  /** State changes kept per instance for the admin API. */
  private static final int RECENT_EVENTS = 32;
  /** Told of every state change, on the supervisor's context; must not block. */
  private final Consumer<LifecycleEvent> events;

  // Confined to the supervisor context.
  TenantConfig tenant;
  InstanceConfig config;
  Promise<Backend> starting;
  int waiters;
  Promise<Void> stopping;
  ManagedProcess process;
  boolean admitted;
  /** When its current start began (the STARTING transition); volatile for the waiting page's read. */
  volatile long startBeganNanos;
  /** Where the current process's output begins in its log: a failure reads only its own lines. */
  long logOffset;
  long startTimer = -1;
  long readySinceNanos;
  boolean keepWarm;
  final ArrayDeque<Long> recentFailures = new ArrayDeque<>();
  int backoffLevel;
  /** Times the kernel killed its processes for its memory limit, over its life. */
  int oomKills;
  long backoffUntilNanos;
  long backoffTimer = -1;
  /** No longer in the config: stopped once no request holds it, then forgotten. */
  boolean retired;
  /** STARTING because our live process's port closed: a crash meanwhile starts it again. */
  boolean awaitingPortAgain;
  /** Its launch command changed and the tenant says on-change: restart. */
  boolean replaceWhenIdle;
  /** When its last start completed (epoch ms) and how long it took. */
  long lastStartMillis;
  volatile long lastStartDuration = -1;
  final ArrayDeque<LifecycleEvent> recentEvents = new ArrayDeque<>();

  Instance(TenantConfig tenant, InstanceConfig config, Consumer<LifecycleEvent> events) {
    this.events = events;
    this.tenantName = tenant.name();
    this.route = config.route();
    this.address = SocketAddress.inetSocketAddress(config.port(), "127.0.0.1");
    this.name = tenant.fileStem(route);
    this.key = Supervisor.key(tenant.stateName(), route);
    this.tenant = tenant;
    this.config = config;
    if (config.isRemote()) {
      serveFrom(config.remote());
      // Up until its checks say otherwise (HAProxy's init-state up); the first check runs at once.
      state = InstanceState.UP;
      ready = Future.succeededFuture(new Backend(this, address, false));
    }
  }

  /** A member on another machine; its address and TLS follow the config (on the supervisor's context). */
  void serveFrom(io.wakeport.config.RemoteMember member) {
    remote = member;
    tls = io.wakeport.health.BackendTls.options(member);
    address = SocketAddress.inetSocketAddress(member.port(), member.host());
    io.wakeport.config.HealthCheck.Observe observe = member.check().observe();
    io.wakeport.health.LiveErrors counted = liveErrors;
    if (observe == null) {
      liveErrors = null;
    } else if (counted == null || !counted.observe().equals(observe)) {
      liveErrors = new io.wakeport.health.LiveErrors(observe);
    }
  }

  /** Back to an instance started here, on its configured port (a reload took its address away). */
  void serveHere() {
    remote = null;
    tls = null;
    liveErrors = null;
    address = SocketAddress.inetSocketAddress(config.port(), "127.0.0.1");
  }

  /** Served by another machine: never started, stopped or idled out; UP or DOWN. */
  public boolean isRemote() {
    return remote != null;
  }

  /** The member on another machine this instance forwards to, or null. */
  public io.wakeport.config.RemoteMember remote() {
    return remote;
  }

  /** TLS options for connections to it, or null for plain HTTP. */
  public io.vertx.core.net.ClientSSLOptions tls() {
    return tls;
  }

  /** The tenant's state name, and "/route" for one of several routes: the key it is known by (and placed by, in a cluster). */
  public String key() {
    return key;
  }

  public String tenantName() {
    return tenantName;
  }

  public String route() {
    return route;
  }

  public SocketAddress address() {
    return address;
  }

  /** Points the instance at its configured port; only while no process of ours runs. */
  void useConfiguredPort() {
    if (address.port() != config.port()) {
      address = SocketAddress.inetSocketAddress(config.port(), "127.0.0.1");
    }
  }

  public InstanceState state() {
    return state;
  }

  /** Pid of the process wakeport runs for it, or -1 (none, or the port is served by a process not ours). */
  public long pid() {
    ManagedProcess p = process;
    return p == null ? -1 : p.pid();
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  /** Times the kernel killed its processes for its memory limit, over wakeport's run. */
  public int oomKills() {
    return oomKills;
  }

  /** How long its current start has been going, in ms: meaningful only while STARTING. */
  public long startingForMillis() {
    return (System.nanoTime() - startBeganNanos) / 1_000_000;
  }

  /** How long its last completed start took, in ms, or -1 when it has not started yet. */
  public long lastStartMillisTaken() {
    return lastStartDuration;
  }

  public long lastActivityNanos() {
    return lastActivityNanos;
  }

  @Override
  public boolean running() {
    InstanceState s = state;
    return s == InstanceState.READY || s == InstanceState.STARTING || s == InstanceState.UP;
  }

  @Override
  public boolean unavailable() {
    InstanceState s = state;
    return s == InstanceState.BACKOFF || s == InstanceState.DOWN;
  }

  @Override
  public double latencyMillis() {
    return latencyMillis;
  }

  @Override
  public MemberMode mode() {
    return mode;
  }

  @Override
  public int weight() {
    return weight;
  }

  @Override
  public int load() {
    return load;
  }

  void load(int next) {
    load = next;
  }

  void mode(MemberMode next) {
    mode = next;
  }

  void weight(int next) {
    weight = next;
  }

  /** Back to what the config says: its config changed under the operator's override. */
  void clearOverrides() {
    mode = null;
    weight = 0;
  }

  /** Folds one response time into the average (weight 0.3 for the newest, as a short memory). */
  public void recordLatency(double millis) {
    double previous = latencyMillis;
    latencyMillis = previous == 0 ? millis : previous * 0.7 + millis * 0.3;
  }

  /** Counts a request that ended with {@code status} after {@code nanos} in its last minute. */
  public void recordRequest(int status, long nanos) {
    RecentTraffic t = traffic;
    if (t == null) {
      // Made on first use: most instances of a large config never see a request. Two first
      // requests may each make one; one of them is kept, and a request or two may be lost.
      t = new RecentTraffic();
      traffic = t;
    }
    t.record(status, nanos);
  }

  /** Requests, errors and latency over the last minute. */
  public RecentTraffic.Minute lastMinute() {
    RecentTraffic t = traffic;
    return t == null ? RecentTraffic.Minute.NONE : t.lastMinute();
  }

  Future<Backend> readyFuture() {
    return ready;
  }

  void leased() {
    inFlight.incrementAndGet();
  }

  void released(boolean countsAsActivity) {
    if (countsAsActivity) {
      lastActivityNanos = System.nanoTime();
    }
    inFlight.decrementAndGet();
  }

  void touch() {
    lastActivityNanos = System.nanoTime();
  }

  /**
   * Takes the instance off the warm path before deciding to stop it. The caller then re-reads
   * {@link #inFlight()}: a request leases before it reads {@code ready}, so either it sees null
   * (and queues on the supervisor) or the caller sees its lease (and keeps the instance).
   */
  void suspendReady() {
    ready = null;
  }

  void resumeReady() {
    if (state == InstanceState.READY || state == InstanceState.UP) {
      ready = Future.succeededFuture(new Backend(this, address, false));
    }
  }

  /** Moves to {@code next}, logging the change with the tenant, pid, port and reason. */
  void transition(InstanceState next, String reason) {
    InstanceState previous = state;
    state = next;
    ready = next == InstanceState.READY || next == InstanceState.UP
        ? Future.succeededFuture(new Backend(this, address, false)) : null;
    io.wakeport.config.RemoteMember member = remote;
    if (member != null) {
      // No pid, and the address is another machine's: "tenant remote: route r1 DOWN (3 failed checks: ...)".
      String line = "tenant {}: route {} {} ({}) at {}";
      Object[] args = {tenantName, route, next, reason, member.address()};
      if (next == InstanceState.DOWN) {
        log.warn(line, args);
      } else {
        log.info(line, args);
      }
    } else {
      log.info("tenant {}{} pid {} port {}: {} -> {} ({})", tenantName, route.isEmpty() ? "" : " route " + route,
          pid() < 0 ? "-" : pid(), address.port(), previous, next, reason);
    }
    LifecycleEvent event = new LifecycleEvent(tenantName, route, previous, next, reason, pid(), address.port(),
        System.currentTimeMillis());
    if (recentEvents.size() == RECENT_EVENTS) {
      recentEvents.removeFirst();
    }
    recentEvents.addLast(event);
    events.accept(event);
  }

  /** Everything known of it now; on the supervisor's context. */
  InstanceView view() {
    long now = System.nanoTime();
    long wall = System.currentTimeMillis();
    return new InstanceView(tenantName, tenant.stateName(), route, state, pid(), address.port(), inFlight(), mode,
        weight, state == InstanceState.READY && readySinceNanos != 0 ? wall - (now - readySinceNanos) / 1_000_000 : 0,
        wall - (now - lastActivityNanos) / 1_000_000, lastStartMillis, lastStartDuration,
        state == InstanceState.BACKOFF ? Math.max(0, (backoffUntilNanos - now) / 1_000_000) : 0, oomKills, keepWarm,
        retired, List.copyOf(recentEvents), lastMinute());
  }

  @Override
  public String toString() {
    io.wakeport.config.RemoteMember member = remote;
    return tenantName + (route.isEmpty() ? "" : "/" + route) + "@" + (member != null ? member.address() : address.port());
  }
}
