package io.wakeport.proxying;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.util.Map;

/**
 * The request head a backend gets: the client's header fields less the hop-by-hop ones (RFC 9110
 * 7.6.1, including any the client names in {@code Connection}) and HTTP/2 pseudo-headers, plus
 * who the client is: {@code X-Forwarded-For/-Proto/-Host/-Port} and RFC 7239 {@code Forwarded}, and
 * the request's {@code X-Request-Id}.
 *
 * <p>Unless wakeport sits behind a trusted proxy, every forwarding header the client sent is
 * dropped, in any spelling ({@code X_Forwarded_For} reaches CGI and WSGI apps as
 * {@code HTTP_X_FORWARDED_FOR} just the same), and {@code X-Real-IP} with it: a client must not
 * choose the address its backend sees. Behind a trusted proxy they are extended instead.
 */
final class OutgoingHead {

  private static final String X_FORWARDED_FOR = "x-forwarded-for";
  private static final String X_FORWARDED_PROTO = "x-forwarded-proto";
  private static final String X_FORWARDED_HOST = "x-forwarded-host";
  private static final String X_FORWARDED_PORT = "x-forwarded-port";
  private static final String FORWARDED = "forwarded";
  private static final String X_FORWARDED_PREFIX = "x-forwarded-prefix";

  private final boolean trustIncoming;

  OutgoingHead(boolean trustIncoming) {
    this.trustIncoming = trustIncoming;
  }

  /** Copies {@code from}'s fields into {@code out} (a backend request, or the WebSocket path's proxy request headers). */
  void copy(HttpServerRequest from, FrontExchange exchange, MultiMap out) {
    MultiMap in = from.headers();
    // Every Connection field counts: a client may send several.
    String connection = in.contains("connection") ? String.join(",", in.getAll("connection")) : null;
    for (Map.Entry<String, String> header : in) {
      String name = header.getKey();
      if (passes(name, connection)) {
        out.add(name, header.getValue());
      }
    }
    addForwarding(from, exchange.authority, out);
    PathMapping mapping = exchange.mapping();
    if (mapping != null && mapping.backendPrefix().isEmpty()) {
      addPrefix(from, mapping.publicPrefix(), out);
    }
    // Replaces the client's own (kept only when trusted, and then it is this same id).
    out.set(RequestIds.HEADER, exchange.requestId);
  }

  /** Whether a client header field goes on to the backend. */
  private boolean passes(String name, String connection) {
    if (name.isEmpty() || name.charAt(0) == ':' || isHopByHop(name)) {
      return false;
    }
    if (connection != null && namedIn(connection, name)) {
      return false;
    }
    return trustIncoming || !isForwarding(name);
  }

  /** RFC 9110 7.6.1's hop-by-hop fields, Host (set from the authority) and Expect (answered here). */
  static boolean isHopByHop(String name) {
    // By length first: most names are none of these, and are told so without comparing text.
    return switch (name.length()) {
      case 2 -> name.equalsIgnoreCase("te");
      case 4 -> name.equalsIgnoreCase("host");
      case 6 -> name.equalsIgnoreCase("expect");
      case 7 -> name.equalsIgnoreCase("upgrade") || name.equalsIgnoreCase("trailer");
      case 10 -> name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
      case 16 -> name.equalsIgnoreCase("proxy-connection");
      case 17 -> name.equalsIgnoreCase("transfer-encoding");
      case 19 -> name.equalsIgnoreCase("proxy-authorization");
      default -> false;
    };
  }

  /** Forwarded, X-Forwarded-*, X-Real-IP, with '-' or '_' anywhere, in any case. */
  static boolean isForwarding(String name) {
    char c = name.charAt(0);
    if (c == 'f' || c == 'F') {
      return name.equalsIgnoreCase(FORWARDED);
    }
    if ((c != 'x' && c != 'X') || name.length() < 9 || !isDash(name.charAt(1))) {
      return false;
    }
    return name.regionMatches(true, 2, "forwarded", 0, 9)
        || name.length() == 9 && name.regionMatches(true, 2, "real", 0, 4) && isDash(name.charAt(6))
        && name.regionMatches(true, 7, "ip", 0, 2);
  }

  private static boolean isDash(char c) {
    return c == '-' || c == '_';
  }

  /** Whether a Connection header's comma-separated options name {@code name}. */
  private static boolean namedIn(String connection, String name) {
    int from = 0;
    int length = connection.length();
    while (from < length) {
      int comma = connection.indexOf(',', from);
      int end = comma < 0 ? length : comma;
      int s = from;
      int e = end;
      while (s < e && connection.charAt(s) == ' ') {
        s++;
      }
      while (e > s && connection.charAt(e - 1) == ' ') {
        e--;
      }
      if (e - s == name.length() && connection.regionMatches(true, s, name, 0, name.length())) {
        return true;
      }
      from = end + 1;
    }
    return false;
  }

  private void addForwarding(HttpServerRequest request, HostAndPort authority, MultiMap out) {
    SocketAddress remote = request.remoteAddress();
    String client = remote == null ? "unknown" : remote.hostAddress();
    String proto = request.isSSL() ? "https" : "http";
    String host = authority == null || authority.host().isEmpty() ? null : authority.toString();
    SocketAddress local = request.localAddress();
    String element = "for=" + forwardedNode(client) + (host != null ? ";host=" + quoteIfNeeded(host) : "")
        + ";proto=" + proto;
    MultiMap in = request.headers();
    String priorFor = trustIncoming ? in.get(X_FORWARDED_FOR) : null;
    String priorForwarded = trustIncoming ? in.get(FORWARDED) : null;
    out.set(X_FORWARDED_FOR, priorFor == null ? client : priorFor + ", " + client);
    out.set(FORWARDED, priorForwarded == null ? element : priorForwarded + ", " + element);
    if (!trustIncoming || !out.contains(X_FORWARDED_PROTO)) {
      out.set(X_FORWARDED_PROTO, proto);
    }
    if (host != null && (!trustIncoming || !out.contains(X_FORWARDED_HOST))) {
      out.set(X_FORWARDED_HOST, host);
    }
    if (local != null && (!trustIncoming || !out.contains(X_FORWARDED_PORT))) {
      out.set(X_FORWARDED_PORT, Integer.toString(local.port()));
    }
  }

  /**
   * The prefix the backend's paths lie under for the client (Spring's, Traefik's and others'
   * {@code X-Forwarded-Prefix}): ours, after a trusted proxy's own (its prefix and then ours form
   * the path the client used); a client's own is dropped with the other forwarding headers.
   */
  private void addPrefix(HttpServerRequest request, String prefix, MultiMap out) {
    String prior = trustIncoming ? request.headers().get(X_FORWARDED_PREFIX) : null;
    if (prior != null) {
      prior = prior.trim();
      while (prior.endsWith("/")) {
        prior = prior.substring(0, prior.length() - 1);
      }
    }
    String own = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
    out.set(X_FORWARDED_PREFIX, prior == null || prior.isEmpty() ? own : prior + own);
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

  /** Whether the client spoke TLS: to wakeport, or to the trusted proxy in front of it (its X-Forwarded-Proto). */
  static boolean clientUsedTls(HttpServerRequest request, boolean trustIncoming) {
    return request.isSSL() || trustIncoming && "https".equalsIgnoreCase(request.getHeader(X_FORWARDED_PROTO));
  }

  /** The backend request's Host: the client's authority when preserve-host is on (else the backend's own address). */
  static void setAuthority(HttpClientRequest out, FrontExchange exchange, boolean preserveHost) {
    if (preserveHost && exchange.authority != null) {
      out.authority(exchange.authority);
    }
  }
}
