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
 * with the same forwarding headers as any request; its lease lasts as long as the upgraded
 * connection.
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

  /**
   * A WebSocket upgrade goes through vertx-http-proxy's own path (BackendOrigin opens it), with the
   * same forwarding headers; its lease lasts as long as the upgraded connection.
   */
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
}
