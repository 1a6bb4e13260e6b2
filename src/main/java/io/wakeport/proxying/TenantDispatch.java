package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first interceptor: finds the tenant (404 when none), asks the supervisor for a ready backend
 * (503 when it cannot start one), holds a lease on it for the whole exchange, and turns forwarding
 * failures into 502/504 pages. The proxy has paused the request before this runs, so the body
 * waits in the socket (TCP pushes back) while the backend starts.
 */
final class TenantDispatch implements ProxyInterceptor {

  static final String BACKEND = "wakeport.backend";
  static final String TENANT = "wakeport.tenant";
  private static final Logger log = LoggerFactory.getLogger(TenantDispatch.class);

  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;

  TenantDispatch(Supplier<RoutingTable> routing, Supervisor supervisor) {
    this.routing = routing;
    this.supervisor = supervisor;
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    HostAndPort authority = request.authority();
    TenantConfig tenant = routing.get().route(authority == null ? null : authority.host(), request.path());
    if (tenant == null) {
      return ErrorPages.notFound(ctx);
    }
    InstanceConfig instance = tenant.instances().get(0);
    if (tenant.policy().hasIgnoreRule()
        && tenant.policy().ignores(request.path(), request.getHeader(HttpHeaders.USER_AGENT))) {
      // Uptime checkers and the like: served if the tenant runs, but they never start it or keep it awake.
      Backend running = supervisor.acquireIfReady(tenant, instance);
      if (running == null) {
        return ErrorPages.notRunning(ctx, tenant.name(), tenant.policy().ignoreStatus());
      }
      return forward(ctx, tenant, running, false, 0);
    }
    long began = System.nanoTime();
    return supervisor.acquire(tenant, instance).transform(ar -> {
      if (ar.failed()) {
        int retryAfter = ar.cause() instanceof StartFailedException sfe ? sfe.retryAfterSeconds() : 5;
        return ErrorPages.unavailable(ctx, tenant.name(), retryAfter);
      }
      return forward(ctx, tenant, ar.result(), true, began);
    });
  }

  private Future<ProxyResponse> forward(ProxyContext ctx, TenantConfig tenant, Backend backend, boolean counted,
      long began) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    holdLease(ctx, backend, counted);
    ctx.set(BACKEND, backend);
    ctx.set(TENANT, tenant);
    if (backend.coldStart()) {
      // Added to the client response now; the proxy adds the backend's headers beside it.
      request.response().putHeader("Server-Timing",
          "cold-start;dur=" + String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - began) / 1e6));
    }
    return ctx.sendRequest().recover(failure -> forwardingFailed(ctx, tenant, backend, failure));
  }

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    ErrorPages.Page page = ErrorPages.pageOf(ctx);
    if (page != null) {
      return ErrorPages.write(ctx.request().proxiedRequest(), page);
    }
    return ctx.sendResponse();
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
    log.warn("tenant {}: forwarding to {} failed: {}", tenant.name(), backend.instance(), failure.toString());
    return ErrorPages.badGateway(ctx, tenant.name());
  }

  /**
   * The lease ends when the response has ended or the client went away, whichever comes first; a
   * WebSocket holds it until the connection closes, so an open stream keeps its backend awake.
   */
  private void holdLease(ProxyContext ctx, Backend backend, boolean counted) {
    HttpServerRequest request = ctx.request().proxiedRequest();
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
      request.connection().closeHandler(v -> release.run());
    } else {
      HttpServerResponse response = request.response();
      response.endHandler(v -> release.run());
      response.closeHandler(v -> release.run());
    }
  }
}
