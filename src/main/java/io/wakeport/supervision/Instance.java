package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend instance (a tenant × route) and its lifecycle state machine. The state is the only
 * truth about whether the instance runs; every change goes through {@link #transition}, on the
 * supervisor's context. Event loops read it through the volatile fields only.
 */
public final class Instance {

  private static final Logger log = LoggerFactory.getLogger(Instance.class);

  private final String tenantName;
  private final String route;
  private final SocketAddress address;

  private volatile InstanceState state = InstanceState.STOPPED;
  /** Non-null exactly while READY: the warm path hands this out without touching the supervisor. */
  private volatile Future<Backend> ready;
  /** Requests holding a lease; an instance with leases is never stopped for idleness. */
  final AtomicInteger inFlight = new AtomicInteger();
  private volatile long lastReleaseNanos = System.nanoTime();

  // Confined to the supervisor context.
  TenantConfig tenant;
  InstanceConfig config;
  Promise<Backend> starting;
  Promise<Void> stopping;
  ManagedProcess process;
  long startBeganNanos;
  long startTimer = -1;

  Instance(TenantConfig tenant, InstanceConfig config) {
    this.tenantName = tenant.name();
    this.route = config.route();
    this.address = SocketAddress.inetSocketAddress(config.port(), "127.0.0.1");
    this.tenant = tenant;
    this.config = config;
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

  public InstanceState state() {
    return state;
  }

  /** Pid of the process wakeport started for it, or -1 (stopped, or served by a process not ours). */
  public long pid() {
    ManagedProcess p = process;
    return p == null ? -1 : p.pid();
  }

  public int inFlight() {
    return inFlight.get();
  }

  public long lastReleaseNanos() {
    return lastReleaseNanos;
  }

  Future<Backend> readyFuture() {
    return ready;
  }

  void released() {
    lastReleaseNanos = System.nanoTime();
    inFlight.decrementAndGet();
  }

  /** Moves to {@code next}, logging the change with the tenant, pid, port and reason. */
  void transition(InstanceState next, String reason) {
    InstanceState previous = state;
    if (next == InstanceState.READY) {
      ready = Future.succeededFuture(new Backend(this, address, false));
    } else {
      ready = null;
    }
    state = next;
    log.info("tenant {}{} pid {} port {}: {} -> {} ({})", tenantName, route.isEmpty() ? "" : " route " + route,
        pid() < 0 ? "-" : pid(), address.port(), previous, next, reason);
  }

  @Override
  public String toString() {
    return tenantName + (route.isEmpty() ? "" : "/" + route) + "@" + address.port();
  }
}
