package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.OriginRequestProvider;
import io.vertx.httpproxy.ProxyContext;

/**
 * Opens a WebSocket upgrade's request to where {@link WebSocketUpgrade} sends it: the backend, or
 * the forward listener of the node that owns the instance. The response timeout is an idle timeout
 * (as nginx's proxy_read_timeout): it fires when the backend stays silent that long.
 */
final class BackendOrigin implements OriginRequestProvider {

  private final long connectTimeoutMillis;
  private final boolean preserveHost;

  BackendOrigin(long connectTimeoutMillis, boolean preserveHost) {
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.preserveHost = preserveHost;
  }

  @Override
  public Future<HttpClientRequest> create(ProxyContext ctx) {
    TenantDispatch.Target target = ctx.get(TenantDispatch.TARGET, TenantDispatch.Target.class);
    RequestOptions options = new RequestOptions()
        .setServer(target.backend().address())
        .setConnectTimeout(connectTimeoutMillis)
        .setIdleTimeout(target.tenant().responseTimeout().toMillis());
    if (target.backend().tls() != null) {
      options.setSsl(true).setSslOptions(target.backend().tls());
    }
    // The exchange's authority: on a node another forwarded to, the client's, not the hop's Host.
    HostAndPort clientAuthority = preserveHost ? TenantDispatch.exchangeOf(ctx).authority : null;
    return ctx.client().request(options).map(request -> {
      // Failures reach the proxy through the response; without a handler Vert.x logs each at ERROR.
      request.exceptionHandler(failure -> { });
      if (clientAuthority != null) {
        request.authority(clientAuthority);
      }
      return request;
    });
  }
}
