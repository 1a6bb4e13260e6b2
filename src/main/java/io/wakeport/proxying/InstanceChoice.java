package io.wakeport.proxying;

import static io.wakeport.proxying.TenantDispatch.exchangeOf;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.Balancing;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.ProxySettings;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.Balancer;
import io.wakeport.routing.RoutingTable;
import io.wakeport.routing.StickyRoutes;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which instance of a tenant serves a request, and having it ready: the session's route, or the
 * balancer's choice for a new session (among a path rule's routes when a rule chose them), the
 * supervisor's start (503 when it cannot start, after failover if allowed), the lease for the
 * whole exchange and the route cookie; then the request goes out with {@link BackendAttempts},
 * {@link WebSocketUpgrade}, or {@link NodeForwarding} when the instance is placed on another node.
 */
final class InstanceChoice {

  private static final Logger log = LoggerFactory.getLogger(InstanceChoice.class);

  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  private final ProxySettings settings;
  private final WaitingRoom waitingRoom;
  /** Where instances are placed: {@link io.wakeport.cluster.Cluster#SINGLE} (always here) on a single machine. */
  private final io.wakeport.cluster.Cluster cluster;
  private final BackendAttempts attempts;
  private final WebSocketUpgrade upgrades;
  private final NodeForwarding nodes;

  InstanceChoice(Supplier<RoutingTable> routing, Supervisor supervisor, ProxySettings settings,
      io.wakeport.cluster.Cluster cluster, OutgoingHead head, BackendAttempts attempts, WebSocketUpgrade upgrades) {
    this.routing = routing;
    this.supervisor = supervisor;
    this.settings = settings;
    this.cluster = cluster;
    this.attempts = attempts;
    this.upgrades = upgrades;
    this.waitingRoom = new WaitingRoom(supervisor);
    this.nodes = new NodeForwarding(this, cluster, supervisor, settings, head, attempts, upgrades);
  }

  /**
   * How the instance of a multi-instance tenant was chosen: the route the request named (null for
   * a new session), whether the client must be given a new route cookie, and instances already
   * tried (failover never tries one twice).
   */
  record Session(Balancer balancer, String requestedRoute, boolean issueCookie, long tried) {}

  /** A multi-instance tenant's request: to its session's instance, if {@code balancer} may use it, else to its choice. */
  Future<ProxyResponse> dispatchAmong(ProxyContext ctx, TenantConfig tenant, Balancer balancer) {
    FrontExchange exchange = exchangeOf(ctx);
    Balancing balancing = tenant.balancing();
    String route = StickyRoutes.read(balancing, exchange.path(), exchange.query(),
        exchange.request.getHeader(HttpHeaders.COOKIE));
    InstanceConfig sticky = route == null ? null : tenant.instance(route);
    if (sticky != null && (!balancer.includes(sticky) || disabledByOperator(tenant, route))) {
      // Disabled: its sessions are balanced anew, like mod_proxy_balancer's 'D'; outside a rule's
      // routes: the session is balanced among them (and stuck to its new instance).
      sticky = null;
    }
    if (route != null && sticky == null && !balancing.failover() && tenant.registration() != null
        && routing.get().departed(tenant, route)) {
      // Its registered member left: as for a member that is down, failover: false means 503, not another.
      return ErrorPages.unavailable(ctx, tenant.name(), 5);
    }
    if (sticky != null) {
      // A known session goes to its instance, started if need be, even while it drains.
      return dispatch(ctx, tenant, sticky, new Session(balancer, route, false, 0));
    }
    Session session = new Session(balancer, null, true, 0);
    int chosen = session.balancer.choose(supervisor.instancesOf(tenant), 0);
    if (chosen < 0) {
      return ErrorPages.unavailable(ctx, tenant.name(), 5);
    }
    return dispatch(ctx, tenant, tenant.instances().get(chosen), session);
  }

  private boolean disabledByOperator(TenantConfig tenant, String route) {
    io.wakeport.supervision.Instance instance = supervisor.instance(tenant.stateName(), route);
    return instance != null && instance.mode() == io.wakeport.routing.MemberMode.DISABLED;
  }

  /** To {@code instance}: here, or through the node it is placed on. */
  Future<ProxyResponse> dispatch(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance, Session session) {
    if (!cluster.enabled() || instance.isRemote()) {
      return dispatchHere(ctx, tenant, instance, session);
    }
    return nodes.dispatch(ctx, tenant, instance, session, 0);
  }

  /** Served by this node: the instance acquired (started if need be), with failover to another when allowed. */
  Future<ProxyResponse> dispatchHere(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance,
      Session session) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    if (tenant.policy().hasIgnoreRule()
        && tenant.policy().ignores(exchangeOf(ctx).path(), request.getHeader(HttpHeaders.USER_AGENT))) {
      // Uptime checkers and the like: served if the tenant runs, but they never start it or keep it awake.
      Backend running = supervisor.acquireIfReady(tenant, instance);
      if (running == null) {
        return ErrorPages.notRunning(ctx, tenant.name(), tenant.policy().ignoreStatus());
      }
      return forward(ctx, tenant, instance, running, false, 0, session);
    }
    long began = System.nanoTime();
    Future<Backend> acquired = WaitingRoom.admits(ctx, request, tenant)
        ? waitingRoom.acquire(request, tenant, instance) : supervisor.acquire(tenant, instance);
    if (acquired.succeeded()) {
      // Ready: straight on, without composing a future on the warm path.
      return forward(ctx, tenant, instance, acquired.result(), true, began, session);
    }
    return acquired.transform(ar -> {
      if (ar.succeeded()) {
        return forward(ctx, tenant, instance, ar.result(), true, began, session);
      }
      if (ar.cause() instanceof WaitingRoom.PageShown shown) {
        return ErrorPages.waiting(ctx, tenant.name(), shown.progress);
      }
      int retryAfter = ar.cause() instanceof StartFailedException sfe ? sfe.retryAfterSeconds() : 5;
      if (session != null && tenant.balancing().failover()) {
        int index = tenant.instances().indexOf(instance);
        long tried = session.tried | (1L << index);
        int next = session.balancer.choose(supervisor.instancesOf(tenant), tried);
        if (next >= 0) {
          log.info("tenant {}: route {} unavailable ({}); failing over to route {}", tenant.name(), instance.route(),
              ar.cause().getMessage(), tenant.instances().get(next).route());
          return dispatch(ctx, tenant, tenant.instances().get(next),
              new Session(session.balancer, session.requestedRoute, true, tried));
        }
      }
      return ErrorPages.unavailable(ctx, tenant.name(), retryAfter);
    });
  }

  private Future<ProxyResponse> forward(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance, Backend backend,
      boolean counted, long began, Session session) {
    FrontExchange exchange = exchangeOf(ctx);
    HttpServerRequest request = exchange.request;
    exchange.lease(backend, counted);
    exchange.tenant(tenant.name(), backend.instance().route());
    exchange.rewriting(tenant.rewriting());
    if (backend.coldStart()) {
      BackendAttempts.coldStart(exchange, began);
    }
    String insert = tenant.balancing().insertCookie();
    if (session != null && insert != null
        && (session.issueCookie || !backend.instance().route().equals(session.requestedRoute))) {
      RouteCookie.set(exchange, insert, backend.instance().route(), settings.trustForwardedHeaders());
    }
    if (ctx.isWebSocket()) {
      return upgrades.upgrade(ctx, exchange, tenant, backend, counted);
    }
    RequestBody body = exchange.body(settings.client().maxRequestBody());
    if (body == null) {
      // Nothing to read: let the request's end be consumed, so the connection can go on.
      request.resume();
    }
    return attempts.call(ctx, exchange, tenant, instance, backend, counted, body, 0, false);
  }
}
