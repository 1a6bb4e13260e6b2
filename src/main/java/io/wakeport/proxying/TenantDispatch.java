package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.Balancing;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TemplateTenants;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.Balancer;
import io.wakeport.routing.RoutingTable;
import io.wakeport.routing.StickyRoutes;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.net.ConnectException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first interceptor: finds the tenant (404 when none) and the instance (the session's route,
 * or the balancer's choice for a new session), asks the supervisor for it ready (503 when it
 * cannot start, after failover if allowed), holds a lease on it for the whole exchange, and turns
 * forwarding failures into 502/504 pages. The proxy has paused the request before this runs, so
 * the body waits in the socket (TCP pushes back) while a backend starts.
 */
final class TenantDispatch implements ProxyInterceptor {

  static final String TARGET = "wakeport.target";
  private static final Logger log = LoggerFactory.getLogger(TenantDispatch.class);

  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  /** Behind a trusted proxy, X-Forwarded-Proto tells whether the client came over TLS. */
  private final boolean trustForwardedHeaders;
  private final ResponseRelay relay = new ResponseRelay();

  TenantDispatch(Supplier<RoutingTable> routing, Supervisor supervisor, boolean trustForwardedHeaders) {
    this.routing = routing;
    this.supervisor = supervisor;
    this.trustForwardedHeaders = trustForwardedHeaders;
  }

  private boolean clientUsedTls(HttpServerRequest request) {
    return request.isSSL()
        || trustForwardedHeaders && "https".equalsIgnoreCase(request.getHeader("x-forwarded-proto"));
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    HostAndPort authority = request.authority();
    RoutingTable table = routing.get();
    String host = authority == null ? null : authority.host();
    TenantConfig tenant = table.route(host, request.path());
    if (tenant != null) {
      return dispatch(ctx, table, tenant);
    }
    TemplateTenants templates = table.templates();
    if (templates == null || host == null || !templates.covers(RoutingTable.normalize(host))) {
      return ErrorPages.notFound(ctx);
    }
    return Future.fromCompletionStage(templates.resolve(RoutingTable.normalize(host)), Vertx.currentContext())
        .compose(made -> made.isPresent() ? dispatch(ctx, table, made.get()) : ErrorPages.notFound(ctx));
  }

  private Future<ProxyResponse> dispatch(ProxyContext ctx, RoutingTable table, TenantConfig tenant) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    if (tenant.instances().size() == 1) {
      return dispatch(ctx, tenant, tenant.instances().get(0), null);
    }
    Balancing balancing = tenant.balancing();
    String route = StickyRoutes.read(balancing, request.path(), request.query(), request.getHeader(HttpHeaders.COOKIE));
    InstanceConfig sticky = route == null ? null : tenant.instance(route);
    if (sticky != null) {
      // A known session goes to its instance, started if need be, even while it drains.
      return dispatch(ctx, tenant, sticky, new Session(table.balancer(tenant), route, false, 0));
    }
    Session session = new Session(table.balancer(tenant), null, true, 0);
    int chosen = session.balancer.choose(supervisor.instancesOf(tenant), 0);
    if (chosen < 0) {
      return ErrorPages.unavailable(ctx, tenant.name(), 5);
    }
    return dispatch(ctx, tenant, tenant.instances().get(chosen), session);
  }

  /** Where {@link BackendOrigin} sends the request: one context attachment per exchange. */
  record Target(TenantConfig tenant, Backend backend) {}

  /**
   * How the instance of a multi-instance tenant was chosen: the route the request named (null for
   * a new session), whether the client must be given a new route cookie, and instances already
   * tried (failover never tries one twice).
   */
  private record Session(Balancer balancer, String requestedRoute, boolean issueCookie, long tried) {}

  private Future<ProxyResponse> dispatch(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance, Session session) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    if (tenant.policy().hasIgnoreRule()
        && tenant.policy().ignores(request.path(), request.getHeader(HttpHeaders.USER_AGENT))) {
      // Uptime checkers and the like: served if the tenant runs, but they never start it or keep it awake.
      Backend running = supervisor.acquireIfReady(tenant, instance);
      if (running == null) {
        return ErrorPages.notRunning(ctx, tenant.name(), tenant.policy().ignoreStatus());
      }
      return forward(ctx, tenant, running, false, 0, session);
    }
    long began = System.nanoTime();
    Future<Backend> acquired = supervisor.acquire(tenant, instance);
    if (acquired.succeeded()) {
      // Ready: straight on, without composing a future on the warm path.
      return forward(ctx, tenant, acquired.result(), true, began, session);
    }
    return acquired.transform(ar -> {
      if (ar.succeeded()) {
        return forward(ctx, tenant, ar.result(), true, began, session);
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

  private Future<ProxyResponse> forward(ProxyContext ctx, TenantConfig tenant, Backend backend, boolean counted,
      long began, Session session) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    HttpServerResponse response = request.response();
    holdLease(ctx, backend, counted);
    ctx.set(TARGET, new Target(tenant, backend));
    if (backend.coldStart()) {
      // Added to the client response now; the proxy adds the backend's headers beside it.
      response.putHeader("Server-Timing",
          "cold-start;dur=" + String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - began) / 1e6));
    }
    String insert = tenant.balancing().insertCookie();
    if (session != null && insert != null
        && (session.issueCookie || !backend.instance().route().equals(session.requestedRoute))) {
      response.headers().add(HttpHeaders.SET_COOKIE, insert + "=." + backend.instance().route()
          + "; Path=/; HttpOnly; SameSite=Lax" + (clientUsedTls(request) ? "; Secure" : ""));
    }
    if (!ctx.isWebSocket() && hasNoBody(request)) {
      // Sent with end() rather than by piping an empty stream; the request is resumed so its end is consumed.
      ctx.request().setBody(null);
      request.resume();
    }
    return ctx.sendRequest().recover(failure -> forwardingFailed(ctx, tenant, backend, failure));
  }

  /** An HTTP/1.x request without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3). */
  private static boolean hasNoBody(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      return false;
    }
    MultiMap headers = request.headers();
    String length = headers.get(HttpHeaders.CONTENT_LENGTH);
    return (length == null || length.equals("0")) && !headers.contains(HttpHeaders.TRANSFER_ENCODING);
  }

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    if (ctx.response().proxiedResponse() == null) {
      // No backend answer: a page (see ErrorPages.respond).
      ErrorPages.Page page = ErrorPages.pageOf(ctx);
      if (page != null) {
        return ErrorPages.write(ctx.request().proxiedRequest(), page);
      }
    }
    return relay.send(ctx);
  }

  private Future<ProxyResponse> forwardingFailed(ProxyContext ctx, TenantConfig tenant, Backend backend, Throwable failure) {
    if (failure instanceof TimeoutException) {
      log.warn("tenant {}: no answer from {} within response-timeout {} ms", tenant.name(), backend.instance(),
          tenant.responseTimeout().toMillis());
      return ErrorPages.gatewayTimeout(ctx, tenant.name());
    }
    if (failure instanceof ConnectException) {
      supervisor.refused(backend);
    }
    if (ctx.request().proxiedRequest().response().closed()) {
      // The client went away mid-exchange and the proxy reset the backend request: not a backend fault.
      log.debug("tenant {}: client left before {} answered", tenant.name(), backend.instance());
    } else {
      log.warn("tenant {}: forwarding to {} failed: {}", tenant.name(), backend.instance(), failure.toString());
    }
    return ErrorPages.badGateway(ctx, tenant.name());
  }

  /**
   * The lease ends when the response has ended or the client went away, whichever comes first; a
   * WebSocket holds it until the connection closes, so an open stream keeps its backend awake.
   * The time to the end of a response feeds latency balancing.
   */
  private void holdLease(ProxyContext ctx, Backend backend, boolean counted) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    long began = System.nanoTime();
    Runnable release = new Runnable() {
      private boolean released;

      @Override
      public void run() {
        if (!released) {
          released = true;
          supervisor.release(backend, counted);
        }
      }
    };
    if (ctx.isWebSocket()) {
      // Once upgraded, the proxy turns the connection into a raw socket and the HTTP connection's
      // close handler is never called: watch the channel itself (same event loop as the request).
      if (request.connection() instanceof io.vertx.core.net.impl.ConnectionBase connection) {
        connection.channel().closeFuture().addListener(f -> release.run());
      } else {
        request.connection().closeHandler(v -> release.run());
      }
    } else {
      HttpServerResponse response = request.response();
      response.endHandler(v -> {
        backend.instance().recordLatency((System.nanoTime() - began) / 1e6);
        release.run();
      });
      response.closeHandler(v -> release.run());
    }
  }
}
