package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.TenantConfig;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Supervisor;

/**
 * A WebSocket upgrade goes through vertx-http-proxy's own path ({@link BackendOrigin} opens it),
 * with the same forwarding headers as any request: to the backend, whose lease lasts as long as
 * the upgraded connection, or to the cluster node that owns the instance, which holds the lease
 * there for as long as this node's connection to it, closed with the client's.
 */
final class WebSocketUpgrade {

  private final Supervisor supervisor;
  private final OutgoingHead head;
  /** For a request another cluster node forwarded (signed): its forwarding headers are that node's, so extended. */
  private final OutgoingHead forwardedHead;
  private final BackendAttempts attempts;

  WebSocketUpgrade(Supervisor supervisor, OutgoingHead head, OutgoingHead forwardedHead, BackendAttempts attempts) {
    this.supervisor = supervisor;
    this.head = head;
    this.forwardedHead = forwardedHead;
    this.attempts = attempts;
  }

  /** To {@code backend}, leased for as long as the client's connection stays open. */
  Future<ProxyResponse> upgrade(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant, Backend backend,
      boolean counted) {
    HttpServerRequest request = exchange.request;
    ctx.set(TenantDispatch.TARGET, new TenantDispatch.Target(tenant, backend));
    MultiMap headers = ctx.request().headers();
    MultiMap outgoing = MultiMap.caseInsensitiveMultiMap();
    (exchange.forwardedBy() == null ? head : forwardedHead).copy(request, exchange, outgoing);
    outgoing.set(HttpHeaders.CONNECTION, "Upgrade");
    outgoing.set(HttpHeaders.UPGRADE, request.getHeader(HttpHeaders.UPGRADE));
    headers.clear().addAll(outgoing);
    if (exchange.mapping() != null) {
      ctx.request().setURI(exchange.backendTarget());
    }
    Backend leased = exchange.takeLease();
    exchange.upgrading();
    // Once upgraded, the proxy turns the connection into a raw socket and the HTTP connection's
    // close handler is never called: watch the channel itself (same event loop as the request).
    Runnable release = new Runnable() {
      private boolean released;

      @Override
      public void run() {
        if (!released) {
          released = true;
          supervisor.release(leased, counted);
        }
      }
    };
    if (request.connection() instanceof io.vertx.core.net.impl.ConnectionBase connection) {
      connection.channel().closeFuture().addListener(f -> release.run());
    } else {
      request.connection().closeHandler(v -> release.run());
    }
    return ctx.sendRequest().recover(failure -> attempts.forwardingFailed(ctx, exchange, tenant, backend, failure));
  }

  /**
   * To the forward listener of the node that owns the instance, signed as any forwarded request
   * ({@code signed}); the target goes as the client sent it (the owner maps it). Nothing is leased
   * here: the owner leases its backend for as long as this hop's connection, which vertx-http-proxy
   * closes with the client's. A failure is the caller's to answer.
   */
  Future<ProxyResponse> toNode(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant, Backend node,
      MultiMap signed) {
    HttpServerRequest request = exchange.request;
    ctx.set(TenantDispatch.TARGET, new TenantDispatch.Target(tenant, node));
    MultiMap outgoing = MultiMap.caseInsensitiveMultiMap();
    head.copy(request, exchange, outgoing);
    outgoing.set(HttpHeaders.CONNECTION, "Upgrade");
    outgoing.set(HttpHeaders.UPGRADE, request.getHeader(HttpHeaders.UPGRADE));
    for (java.util.Map.Entry<String, String> header : signed) {
      outgoing.set(header.getKey(), header.getValue());
    }
    ctx.request().headers().clear().addAll(outgoing);
    ctx.request().setURI(exchange.backendTarget());
    exchange.upgrading();
    return ctx.sendRequest();
  }
}
