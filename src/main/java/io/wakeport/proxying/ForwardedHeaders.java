package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;

/**
 * Tells the backend who the client is: X-Forwarded-For/-Proto/-Host and RFC 7239 {@code Forwarded}.
 * Unless wakeport sits behind a trusted proxy, incoming values are replaced, not extended: a client
 * must not be able to choose the address its backend sees.
 */
final class ForwardedHeaders implements ProxyInterceptor {

  private static final String X_FORWARDED_FOR = "x-forwarded-for";
  private static final String X_FORWARDED_PROTO = "x-forwarded-proto";
  private static final String X_FORWARDED_HOST = "x-forwarded-host";
  private static final String FORWARDED = "forwarded";

  private final boolean trustIncoming;

  ForwardedHeaders(boolean trustIncoming) {
    this.trustIncoming = trustIncoming;
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    HttpServerRequest request = ctx.request().proxiedRequest();
    MultiMap headers = ctx.request().headers();
    SocketAddress remote = request.remoteAddress();
    String client = remote == null ? "unknown" : remote.hostAddress();
    String proto = request.isSSL() ? "https" : "http";
    String host = request.getHeader("host");

    String element = "for=" + forwardedNode(client) + (host != null ? ";host=" + quoteIfNeeded(host) : "")
        + ";proto=" + proto;
    String priorFor = trustIncoming ? headers.get(X_FORWARDED_FOR) : null;
    String priorForwarded = trustIncoming ? headers.get(FORWARDED) : null;
    headers.set(X_FORWARDED_FOR, priorFor == null ? client : priorFor + ", " + client);
    headers.set(FORWARDED, priorForwarded == null ? element : priorForwarded + ", " + element);
    if (!trustIncoming || !headers.contains(X_FORWARDED_PROTO)) {
      headers.set(X_FORWARDED_PROTO, proto);
    }
    if (host != null && (!trustIncoming || !headers.contains(X_FORWARDED_HOST))) {
      headers.set(X_FORWARDED_HOST, host);
    } else if (host == null && !trustIncoming) {
      headers.remove(X_FORWARDED_HOST);
    }
    return ctx.sendRequest();
  }

  /** RFC 7239: IPv6 addresses are bracketed and the node quoted. */
  private static String forwardedNode(String address) {
    return address.indexOf(':') >= 0 ? "\"[" + address + "]\"" : address;
  }

  private static String quoteIfNeeded(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_')) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    return value;
  }
}
