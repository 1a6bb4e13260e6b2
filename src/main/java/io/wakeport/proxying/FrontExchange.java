package io.wakeport.proxying;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import io.wakeport.accesslog.AccessEntry;
import io.wakeport.accesslog.AccessLog;
import io.wakeport.config.ResponseRewriting;
import io.wakeport.frontdoor.ConnectionGuard;
import io.wakeport.metrics.RequestMeters;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Supervisor;

/**
 * One client request at the front, from its head to the end of its answer: the one place that
 * hears the response end or the client leave, and then releases the backend lease, tells the
 * connection guard the keep-alive wait begins, and closes the connection when the exchange said
 * it must (ambiguous framing, an early answer, a body-less HTTP/1.0 stream).
 */
final class FrontExchange {

  /** How long an unread request body is drained after an early answer before the connection is closed. */
  private static final long LINGER_MILLIS = 5_000;

  final HttpServerRequest request;
  final long beganNanos = System.nanoTime();
  private final long arrivedMillis = System.currentTimeMillis();
  /** The site the request names: an absolute target's authority, else Host or {@code :authority}. */
  final HostAndPort authority;
  /** What the backend gets as its request target: origin form. */
  final String target;
  /** Its X-Request-Id (see RequestIds): sent to the backend, back to the client and to the access log. */
  final String requestId;
  /** The public prefix the backend knows under another (strip-prefix, a path rule), or null: the target as it is. */
  private PathMapping mapping;
  /** The cluster node that forwarded this request (served here, never forwarded again), or null. */
  private String forwardedBy;
  /** A forwarded request's client used TLS to the sending node (as that node signed it). */
  private boolean forwardedClientTls;
  /** What a forward to another cluster node adds to the request head (its signature), or null. */
  private io.vertx.core.MultiMap nodeHeaders;
  /** The tenant's rules for pointing its answers back at the client (set with the tenant). */
  private ResponseRewriting rewriting = ResponseRewriting.DEFAULT;
  private final ConnectionGuard guard;
  private final Supervisor supervisor;
  private final AccessLog accessLog;
  /** Where the answer is counted: the tenant's once it is known, else no tenant's. */
  private RequestMeters meters;
  private final boolean metered;
  private String tenant;
  private String route;
  private double coldStartMillis = -1;
  private Backend leased;
  /** The request's body, one for every attempt of the exchange, once asked for (see {@link #body}). */
  private RequestBody body;
  private boolean bodyOpened;
  private boolean leaseCounted;
  private boolean closeAfter;
  private boolean ended;
  /** What to undo when the client goes away before its answer has ended: the backend request under way. */
  private Runnable onClientGone;
  /** Run when the exchange ends, after the lease is released: letting go of a template tenant's claim. */
  private Runnable onEnd;

  FrontExchange(HttpServerRequest request, HostAndPort authority, String target, String requestId,
      ConnectionGuard guard, Supervisor supervisor, AccessLog accessLog, RequestMeters meters) {
    this.request = request;
    this.requestId = requestId;
    this.meters = meters;
    this.metered = meters != RequestMeters.NONE;
    this.authority = authority;
    this.target = target;
    this.guard = guard;
    this.supervisor = supervisor;
    this.accessLog = accessLog;
    HttpServerResponse response = request.response();
    // Vert.x also calls the end handler when the connection closes (HTTP/1) or the stream is
    // reset (HTTP/2) before the answer was written: only an ended response completed.
    response.endHandler(v -> end(response.ended() && !response.closed()));
    response.closeHandler(v -> end(false));
    // An HTTP/2 client that resets its stream (and an HTTP/1 connection that fails) is gone too.
    response.exceptionHandler(failure -> end(false));
  }

  /** The request's path, from the origin-form target (an absolute target's own path included). */
  String path() {
    if (target == request.uri()) {
      return request.path();
    }
    int query = target.indexOf('?');
    return query < 0 ? target : target.substring(0, query);
  }

  String query() {
    if (target == request.uri()) {
      return request.query();
    }
    int query = target.indexOf('?');
    return query < 0 ? null : target.substring(query + 1);
  }

  /** The target the backend gets: {@link #target}, mapped when a {@link PathMapping} is set. */
  String backendTarget() {
    return mapping == null ? target : mapping.toBackend(target);
  }

  String forwardedBy() {
    return forwardedBy;
  }

  /** Forwarded by {@code node}, for a client that used TLS to it or not (the signed scheme). */
  void forwardedBy(String node, boolean clientTls) {
    this.forwardedBy = node;
    this.forwardedClientTls = clientTls;
  }

  /**
   * Whether the client spoke TLS: to the node that forwarded this request, as it signed it (this
   * request's own connection is the hop between nodes), else to wakeport or to the trusted proxy in
   * front of it ({@code trustForwarded}: its X-Forwarded-Proto). What route cookies get
   * {@code Secure} and rewritten URLs their scheme by.
   */
  boolean clientUsedTls(boolean trustForwarded) {
    return forwardedBy != null ? forwardedClientTls : OutgoingHead.clientUsedTls(request, trustForwarded);
  }

  io.vertx.core.MultiMap nodeHeaders() {
    return nodeHeaders;
  }

  void nodeHeaders(io.vertx.core.MultiMap headers) {
    this.nodeHeaders = headers;
  }

  /** The request's target as the client sent it (origin form). */
  String target() {
    return target;
  }

  void mapping(PathMapping mapping) {
    this.mapping = mapping;
  }

  /**
   * The request's body for every attempt of this exchange, so a replay (to a new placement too)
   * sends what the first attempt kept; null when the request has none.
   */
  RequestBody body(long max) {
    if (!bodyOpened) {
      bodyOpened = true;
      body = RequestBody.of(request, max);
    }
    return body;
  }

  PathMapping mapping() {
    return mapping;
  }

  void rewriting(ResponseRewriting rewriting) {
    this.rewriting = rewriting;
  }

  ResponseRewriting rewriting() {
    return rewriting;
  }

  void tenant(String tenant, String route) {
    this.tenant = tenant;
    this.route = route;
  }

  /** The answer counts as {@code tenant}'s (set as soon as the tenant is known, so its 503s count too). */
  void meters(RequestMeters tenant) {
    meters = tenant;
  }

  void coldStartMillis(double millis) {
    coldStartMillis = millis;
  }

  /** The backend whose lease this exchange holds, or null. */
  Backend backend() {
    return leased;
  }

  /** Holds {@code backend}'s lease until the exchange ends, releasing any earlier one (a replay). */
  void lease(Backend backend, boolean counted) {
    releaseLease(false);
    leased = backend;
    leaseCounted = counted;
  }

  /**
   * For a WebSocket: the lease moves to the upgraded connection's lifetime (the response "ends"
   * with the 101), so an open socket keeps its backend awake.
   */
  Backend takeLease() {
    Backend backend = leased;
    leased = null;
    return backend;
  }

  /** The request asks for a WebSocket: from here the connection is the socket's, not HTTP's. */
  void upgrading() {
    if (guard != null) {
      guard.upgraded();
    }
  }

  /** The connection is closed once this exchange's answer has gone out. */
  void closeAfterResponse() {
    closeAfter = true;
  }

  /** Runs {@code action} if the client leaves before the answer has ended (replacing an earlier one). */
  void onClientGone(Runnable action) {
    onClientGone = action;
  }

  /** Runs {@code action} once the exchange has ended, however it ended, or now if it has (one action per exchange). */
  void onEnd(Runnable action) {
    if (ended) {
      action.run();
    } else {
      onEnd = action;
    }
  }

  boolean closesAfterResponse() {
    return closeAfter;
  }

  boolean ended() {
    return ended;
  }

  private void releaseLease(boolean completed) {
    releaseLease(completed, -1);
  }

  /** {@code status}: the answer's, counted in the instance's last minute; -1 when the lease is only handed on. */
  private void releaseLease(boolean completed, int status) {
    Backend backend = leased;
    if (backend != null) {
      leased = null;
      long nanos = System.nanoTime() - beganNanos;
      if (completed) {
        backend.instance().recordLatency(nanos / 1e6);
      }
      if (status >= 0) {
        backend.instance().recordRequest(status, nanos);
      }
      supervisor.release(backend, leaseCounted);
    }
  }

  private void end(boolean completed) {
    if (ended) {
      return;
    }
    ended = true;
    // A client that left before its answer ended is logged and counted as nginx does it: 499.
    int status = completed ? request.response().getStatusCode() : 499;
    releaseLease(completed, status);
    Runnable whenEnded = onEnd;
    if (whenEnded != null) {
      onEnd = null;
      whenEnded.run();
    }
    boolean logged = accessLog.enabled();
    if (logged || metered) {
      long nanos = System.nanoTime() - beganNanos;
      if (metered) {
        meters.record(status, nanos);
      }
      if (logged) {
        accessLog.record(accessEntry(request, arrivedMillis, authority, status, tenant, route, nanos / 1000,
            coldStartMillis < 0 ? AccessEntry.NO_COLD_START : Math.round(coldStartMillis), requestId));
      }
    }
    if (!completed) {
      Runnable gone = onClientGone;
      onClientGone = null;
      if (gone != null) {
        gone.run();
      }
      return;
    }
    if (closeAfter) {
      closeAfterDraining(request);
    } else if (guard != null) {
      guard.exchangeEnded();
    }
  }

  /** An access log line for {@code request}, answered by wakeport or by a backend. */
  static AccessEntry accessEntry(HttpServerRequest request, long arrivedMillis, HostAndPort authority, int status,
      String tenant, String route, long durationMicros, long coldStartMillis, String requestId) {
    SocketAddress remote = request.remoteAddress();
    return new AccessEntry(arrivedMillis, remote == null ? null : remote.hostAddress(), request.method().name(),
        request.uri(), protocol(request.version()), status, request.response().bytesWritten(),
        request.getHeader(HttpHeaders.REFERER), request.getHeader(HttpHeaders.USER_AGENT),
        authority == null ? null : authority.toString(), tenant, route, durationMicros, coldStartMillis, requestId);
  }

  private static String protocol(HttpVersion version) {
    return switch (version) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_1_1 -> "HTTP/1.1";
      case HTTP_2 -> "HTTP/2.0";
    };
  }

  /**
   * The answer is out but the client may still be sending a body nobody reads: read and drop it
   * (closing at once would reset the connection and can destroy the answer in the client's
   * buffers), then close, as nginx's lingering close does; at most {@link #LINGER_MILLIS}.
   */
  static void closeAfterDraining(HttpServerRequest request) {
    HttpConnection connection = request.connection();
    io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
    if (request.isEnded()) {
      // Let the answer's last write flush before the close.
      context.runOnContext(v -> connection.close());
      return;
    }
    long timer = context.owner().setTimer(LINGER_MILLIS, t -> connection.close());
    request.handler(chunk -> { });
    request.endHandler(v -> {
      context.owner().cancelTimer(timer);
      context.runOnContext(x -> connection.close());
    });
    request.resume();
  }
}
