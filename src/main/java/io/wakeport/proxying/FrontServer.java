package io.wakeport.proxying;

import io.netty.channel.Channel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;
import io.wakeport.accesslog.AccessEntry;
import io.wakeport.accesslog.AccessLog;
import io.wakeport.cluster.Cluster;
import io.wakeport.config.ClientLimits;
import io.wakeport.config.ProxySettings;
import io.wakeport.frontdoor.AbsoluteTarget;
import io.wakeport.frontdoor.ConnectionGuard;
import io.wakeport.frontdoor.FrontDoor;
import io.wakeport.frontdoor.RequestScreen;
import io.wakeport.metrics.Metrics;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.Supervisor;
import io.wakeport.tls.HttpsFront;
import io.wakeport.tls.HttpsRedirect;
import io.wakeport.tls.TlsPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The public side: one instance per event loop, each with its own backend client and pool so a
 * request and its backend connection stay on one thread. Every connection and request passes the
 * {@link FrontDoor} before the proxy sees it, on the plain listener and on each https listener alike.
 */
public final class FrontServer extends VerticleBase {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FrontServer.class);

  private final String host;
  private final int port;
  private final ProxySettings settings;
  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  private final FrontDoor frontDoor;
  private final AccessLog accessLog;
  private final Metrics metrics;
  /** Null without an {@code https} section. */
  private final HttpsFront https;
  private HttpServer server;
  private final Cluster cluster;
  private final io.wakeport.config.ClusterSettings clusterSettings;
  /** Other cluster nodes' forwarded requests; null on a single machine. */
  private HttpServer forwardServer;
  private final List<HttpServer> httpsServers = new ArrayList<>();
  private HttpServerOptions serverOptions;
  private HttpProxy proxy;
  private TenantDispatch dispatch;

  public FrontServer(String host, int port, ProxySettings settings, Supplier<RoutingTable> routing, Supervisor supervisor,
      FrontDoor frontDoor, AccessLog accessLog, Metrics metrics) {
    this(host, port, settings, routing, supervisor, frontDoor, accessLog, metrics, null);
  }

  /** With {@code https} (or null), https listeners beside the plain one, serving the same tenants. */
  public FrontServer(String host, int port, ProxySettings settings, Supplier<RoutingTable> routing, Supervisor supervisor,
      FrontDoor frontDoor, AccessLog accessLog, Metrics metrics, HttpsFront https) {
    this(host, port, settings, routing, supervisor, frontDoor, accessLog, metrics, https, Cluster.SINGLE, null);
  }

  /**
   * With {@code cluster} enabled, requests for instances placed on other nodes are forwarded to
   * them, and a listener on {@code clusterSettings}' forward-listen takes the other nodes' signed
   * requests and serves them here.
   */
  public FrontServer(String host, int port, ProxySettings settings, Supplier<RoutingTable> routing, Supervisor supervisor,
      FrontDoor frontDoor, AccessLog accessLog, Metrics metrics, HttpsFront https, Cluster cluster,
      io.wakeport.config.ClusterSettings clusterSettings) {
    this.cluster = cluster;
    this.clusterSettings = clusterSettings;
    this.https = https;
    this.metrics = metrics;
    this.host = host;
    this.port = port;
    this.settings = settings;
    this.routing = routing;
    this.supervisor = supervisor;
    this.frontDoor = frontDoor;
    this.accessLog = accessLog;
  }

  @Override
  public Future<?> start() {
    ClientLimits limits = settings.client();
    HttpClient client = vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setKeepAlive(true)
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            // A backend may send many cookies: Vert.x's 8 KiB default turned those answers into 502s.
            .setMaxHeaderSize(limits.maxResponseHeaders()))
        // vertx-http-proxy's default pool is 5 connections per origin: far too few for a busy tenant.
        .with(new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerBackend()))
        // A backend connection that fails between requests (a backend killed, a reset) concerns no
        // exchange; Vert.x would log it at ERROR. One that fails mid-exchange reaches BackendCall.
        .withConnectHandler(connection -> {
          connection.exceptionHandler(failure ->
              log.debug("backend connection to {}: {}", connection.remoteAddress(), failure.toString()));
          if (connection instanceof io.vertx.core.net.impl.ConnectionBase base) {
            // A backend that answers early and closes without reading the rest of the body resets
            // the connection: the next write fails. Netty would close the channel at once and lose
            // the answer still unread in the socket; without auto-close it only shuts output down.
            base.channel().config().setAutoClose(false);
          }
        })
        .build();
    dispatch = new TenantDispatch(routing, supervisor, settings, frontDoor.limitLog(), metrics, cluster);
    proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client)
        .origin(new BackendOrigin(settings.connectTimeout().toMillis(), settings.preserveHost()))
        .addInterceptor(dispatch, true);
    serverOptions = new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            // Off unless asked for: cleartext HTTP/2 is rarely wanted at a front door and widens what a client can send.
            .setHttp2ClearTextEnabled(settings.h2c())
            .setMaxInitialLineLength(limits.maxRequestLine())
            .setMaxHeaderSize(limits.maxRequestHeaders())
            // Expect: 100-continue is answered when the body is wanted (RequestBody): a request
            // refused before that (404, 413, 503) gets its answer without inviting the upload.
            .setHandle100ContinueAutomatically(false);
    if (settings.h2c()) {
      // With h2c on, Vert.x hands a connection over only once its first request head is read (it
      // may ask to upgrade): until then only an idle timeout can guard it (see ConnectionGuard).
      serverOptions.setIdleTimeout((int) Math.max(1, limits.headerTimeout().toMillis()))
          .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    server = vertx.createHttpServer(serverOptions)
        .connectionHandler(this::connected)
        .invalidRequestHandler(this::invalid)
        .requestHandler(https == null ? this::request : this::plainRequest);
    List<Future<HttpServer>> listening = new ArrayList<>();
    listening.add(server.listen());
    if (cluster.enabled() && clusterSettings != null) {
      forwardServer = vertx.createHttpServer(io.wakeport.cluster.ForwardTls.serve(new HttpServerOptions(serverOptions)
              .setHost(clusterSettings.forwardHost()).setPort(clusterSettings.forwardPort())
              .setHttp2ClearTextEnabled(false), clusterSettings.tls()))
          .invalidRequestHandler(this::invalid)
          .requestHandler(this::forwarded);
      listening.add(forwardServer.listen());
    }
    if (https == null) {
      return Future.all(listening);
    }
    for (io.vertx.core.net.SocketAddress address : https.listen()) {
      // The plain listener's limits, with TLS; h2 comes by ALPN, never in clear text here.
      HttpServerOptions options = TlsPolicy.apply(new HttpServerOptions(serverOptions)
              .setHost(address.host()).setPort(address.port()).setHttp2ClearTextEnabled(false)
              .setIdleTimeout(HttpServerOptions.DEFAULT_IDLE_TIMEOUT),
          https.registry(), https.onDemand(), limits.headerTimeout());
      HttpServer tls = vertx.createHttpServer(options)
          .connectionHandler(this::connected)
          .invalidRequestHandler(this::invalid)
          .requestHandler(this::httpsRequest);
      httpsServers.add(tls);
      listening.add(tls.listen());
    }
    return Future.all(listening);
  }

  private void httpsRequest(HttpServerRequest request) {
    String hsts = https.hsts();
    if (hsts != null) {
      // On every https answer, wakeport's own pages too; never on plain HTTP (RFC 6797 7.2).
      request.response().headers().set("Strict-Transport-Security", hsts);
    }
    request(request);
  }

  /** With https on and redirect not off, the plain listener sends everything to https but ACME's challenges. */
  private void plainRequest(HttpServerRequest request) {
    // ACME's HTTP-01 challenges are answered here whether or not the rest is redirected.
    if (!https.redirect() && !HttpsRedirect.isChallenge(request.uri())) {
      request(request);
      return;
    }
    RequestScreen.Rejection rejection = frontDoor.screen(request);
    if (rejection != null) {
      refuse(request, rejection.status(), rejection.reason(), true);
      return;
    }
    String uri = request.uri();
    AbsoluteTarget absolute = uri.charAt(0) == '/' || uri.equals("*") ? null : AbsoluteTarget.parse(uri);
    HostAndPort authority = absolute != null ? absolute.authority() : request.authority();
    String target = absolute != null ? absolute.originForm() : uri;
    if (HttpsRedirect.isChallenge(target)) {
      String answer = https.challenges().respond(authority == null ? null : authority.host(), HttpsRedirect.token(target));
      if (answer != null) {
        reply(request, 200, null, answer, true, true);
      } else {
        answer(request, 404, null, "404 Not Found: no such challenge");
      }
      return;
    }
    if (authority == null || authority.host().isEmpty()) {
      refuse(request, 400, "no Host to redirect to https", true);
      return;
    }
    String location = HttpsRedirect.location(authority.host(), https.redirectPort(), target);
    answer(request, 308, location, "308 Permanent Redirect: " + location);
  }

  private void connected(HttpConnection connection) {
    Channel channel = connection instanceof io.vertx.core.net.impl.ConnectionBase base ? base.channel() : null;
    frontDoor.connected(connection, channel, serverOptions);
  }

  private void request(HttpServerRequest request) {
    RequestScreen.Rejection rejection = frontDoor.screen(request);
    if (rejection != null) {
      refuse(request, rejection.status(), rejection.reason(), true);
      return;
    }
    ConnectionGuard guard = guardOf(request);
    if (guard != null) {
      guard.requestStarted();
    }
    String uri = request.uri();
    HostAndPort authority;
    String target;
    AbsoluteTarget absolute = uri.charAt(0) == '/' || uri.equals("*") ? null : AbsoluteTarget.parse(uri);
    if (absolute != null) {
      authority = absolute.authority();
      target = absolute.originForm();
    } else {
      authority = request.authority();
      target = uri;
    }
    FrontExchange exchange = new FrontExchange(request, authority, target,
        RequestIds.of(request, settings.trustForwardedHeaders()), guard, supervisor, accessLog, metrics.noTenant());
    if (guard != null && guard.takeAmbiguousFraming()) {
      exchange.closeAfterResponse();
    }
    dispatch.handle(exchange, proxy);
  }

  /**
   * A request another cluster node forwarded: served here whatever the placement says (never
   * forwarded again), once its signature proves it comes from a node holding the cluster secret.
   */
  private void forwarded(HttpServerRequest request) {
    String uri = request.uri();
    Cluster.Verified verified = cluster.verify(request.method().name(), uri, request.headers());
    String from = verified.node();
    if (from == null) {
      // Replays apart: a flood of unsigned requests must not hide them in the same second's count.
      frontDoor.limitLog().hit(verified.replay() ? "cluster-forward-replay" : "cluster-forward",
          "forward listener: " + verified.refusal() + " from " + request.remoteAddress() + " answered 403");
      refuse(request, 403, "not a request from a node of this cluster", true);
      return;
    }
    HostAndPort authority = HostAndPort.parseAuthority(request.headers().get(Cluster.HOST_HEADER), -1);
    boolean clientTls = "https".equals(request.headers().get(Cluster.SCHEME_HEADER));
    for (String header : List.of(Cluster.NODE_HEADER, Cluster.TIME_HEADER, Cluster.NONCE_HEADER,
        Cluster.SIGNATURE_HEADER, Cluster.HOST_HEADER, Cluster.SCHEME_HEADER)) {
      request.headers().remove(header);
    }
    cluster.forwardedIn();
    FrontExchange exchange = new FrontExchange(request, authority, uri,
        RequestIds.of(request, true), null, supervisor, accessLog, metrics.noTenant());
    exchange.forwardedBy(from, clientTls);
    dispatch.handle(exchange, proxy);
  }

  /** Requests Netty's decoder could not read: too long a request line (414) or head (431), or malformed (400). */
  private void invalid(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    if (cause instanceof io.netty.handler.codec.PrematureChannelClosureException) {
      return; // the connection closed mid-head (the guard's 408, or the client): nobody to answer
    }
    int status = cause instanceof TooLongHttpLineException ? 414
        : cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException ? 431 : 400;
    String reason = cause == null ? "malformed request" : cause.getMessage();
    frontDoor.limitLog().hit(status == 400 ? "bad-request" : status == 414 ? "max-request-line" : "max-request-headers",
        status + " to " + request.remoteAddress() + ": " + reason);
    refuse(request, status, status == 414 ? "request line too long" : status == 431 ? "request headers too large"
        : "malformed request", false);
  }

  /** A short answer and the end of the connection: what follows a bad head cannot be trusted. */
  private void refuse(HttpServerRequest request, int status, String reason, boolean framingIntact) {
    String phrase = io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase();
    reply(request, status, null, status + " " + phrase + ": " + reason, framingIntact, false);
  }

  /**
   * wakeport's own answer to a well-formed request it does not proxy (a redirect to https, a
   * challenge): its body is never read, so the connection closes after it, as after a refusal.
   */
  private void answer(HttpServerRequest request, int status, String location, String text) {
    reply(request, status, location, text, true, false);
  }

  /** @param exact send {@code text} as it is (a challenge's key authorization), without the request id line */
  private void reply(HttpServerRequest request, int status, String location, String text, boolean framingIntact,
      boolean exact) {
    long arrived = System.currentTimeMillis();
    long began = System.nanoTime();
    // A refused request's own id is never kept: its head is what failed the checks.
    String requestId = RequestIds.next();
    var response = request.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").putHeader(RequestIds.HEADER, requestId);
    if (location != null) {
      response.putHeader(HttpHeaders.LOCATION, location);
    }
    if (request.version() != HttpVersion.HTTP_2) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    response.end(exact ? text : text + "\nRequest id: " + requestId + "\n").onComplete(ar -> {
      long nanos = System.nanoTime() - began;
      metrics.noTenant().record(status, nanos);
      if (accessLog.enabled()) {
        accessLog.record(FrontExchange.accessEntry(request, arrived, request.authority(), status, null, null,
            nanos / 1000, AccessEntry.NO_COLD_START, requestId));
      }
      if (request.version() == HttpVersion.HTTP_2) {
        return; // the stream is over; the connection goes on
      }
      if (framingIntact) {
        // What the client still sends is read and dropped before the close, so a reset cannot cost it the answer.
        FrontExchange.closeAfterDraining(request);
      } else {
        request.connection().close(); // the decoder lost the framing: nothing more can be read
      }
    });
  }

  private static ConnectionGuard guardOf(HttpServerRequest request) {
    return request.connection() instanceof io.vertx.core.net.impl.ConnectionBase base
        ? ConnectionGuard.of(base.channel()) : null;
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The ports the https listeners bound, in the order of {@code https.listen}. */
  public List<Integer> actualHttpsPorts() {
    return httpsServers.stream().map(HttpServer::actualPort).toList();
  }
}
