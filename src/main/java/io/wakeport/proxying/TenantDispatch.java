package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.Balancing;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.ProxySettings;
import io.wakeport.config.TemplateTenants;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.Balancer;
import io.wakeport.routing.PathRules;
import io.wakeport.routing.RoutingTable;
import io.wakeport.routing.StickyRoutes;
import io.wakeport.frontdoor.LimitLog;
import io.wakeport.metrics.Metrics;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's one interceptor: finds the tenant (404 when none) and the instance (the session's
 * route, or the balancer's choice for a new session), asks the supervisor for it ready (503 when
 * it cannot start, after failover if allowed), leases it for the whole exchange, sends the request
 * with {@link BackendCall} (again when nothing of it reached a backend) and turns failures into
 * pages. The proxy has paused the request before this runs, so the body waits in the socket (TCP
 * pushes back) while a backend starts.
 */
final class TenantDispatch implements ProxyInterceptor {

  static final String TARGET = "wakeport.target";
  private static final String EXCHANGE = "wakeport.exchange";
  /** Instances a remote member's redispatch has tried for this request (bit i for instance i). */
  private static final String REDISPATCHED = "wakeport.redispatched";
  /** A first try, a fresh connection, and one replay after the instance was started again. */
  private static final int MAX_ATTEMPTS = 3;
  /** How long a process whose fresh connection died is given to exit before the request gets 502. */
  private static final long EXIT_WAIT_MILLIS = 1_000;
  private static final Logger log = LoggerFactory.getLogger(TenantDispatch.class);
  /** Retry-After for a label a template's max-tenants has no room for: room comes with a reload. */
  private static final int TENANTS_FULL_RETRY_SECONDS = 60;
  /** Resolutions of a template's host after its claim was found given back, before the request gets 503. */
  private static final int MAX_RESOLVE_ATTEMPTS = 3;

  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  private final ProxySettings settings;
  private final OutgoingHead head;
  /** For a request another cluster node forwarded (signed): its forwarding headers are that node's, so extended. */
  private final OutgoingHead forwardedHead = new OutgoingHead(true);
  private final LimitLog limitLog;
  private final Metrics metrics;
  private final ResponseRelay relay;
  private final WaitingRoom waitingRoom;
  /** Where instances are placed: {@link io.wakeport.cluster.Cluster#SINGLE} (always here) on a single machine. */
  private final io.wakeport.cluster.Cluster cluster;
  /**
   * Handed from {@link FrontServer} to the proxy's first step: {@code HttpProxy.handle} calls the
   * interceptor synchronously on this event loop, and each event loop has its own dispatch.
   */
  private FrontExchange arriving;

  TenantDispatch(Supplier<RoutingTable> routing, Supervisor supervisor, ProxySettings settings, LimitLog limitLog,
      Metrics metrics, io.wakeport.cluster.Cluster cluster) {
    this.cluster = cluster;
    this.metrics = metrics;
    this.routing = routing;
    this.supervisor = supervisor;
    this.settings = settings;
    this.head = new OutgoingHead(settings.trustForwardedHeaders());
    this.relay = new ResponseRelay(settings.trustForwardedHeaders());
    this.limitLog = limitLog;
    this.waitingRoom = new WaitingRoom(supervisor);
  }

  /** Runs {@code proxy} on the request of {@code exchange}. */
  void handle(FrontExchange exchange, io.vertx.httpproxy.HttpProxy proxy) {
    arriving = exchange;
    try {
      proxy.handle(exchange.request);
    } finally {
      arriving = null;
    }
  }

  static FrontExchange exchangeOf(ProxyContext ctx) {
    return ctx.get(EXCHANGE, FrontExchange.class);
  }

  private boolean clientUsedTls(HttpServerRequest request) {
    return OutgoingHead.clientUsedTls(request, settings.trustForwardedHeaders());
  }

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    FrontExchange exchange = arriving;
    arriving = null;
    ctx.set(EXCHANGE, exchange);
    HostAndPort authority = exchange.authority;
    RoutingTable table = routing.get();
    String host = authority == null ? null : authority.host();
    TenantConfig tenant = table.route(host, exchange.path());
    if (tenant != null) {
      return tenant.rules().isEmpty() ? dispatch(ctx, table, tenant) : dispatchByRule(ctx, table, tenant);
    }
    TemplateTenants templates = table.templates();
    if (templates == null || host == null || !templates.covers(RoutingTable.normalize(host))) {
      return ErrorPages.notFound(ctx);
    }
    String normalized = RoutingTable.normalize(host);
    return Future.fromCompletionStage(templates.resolve(normalized), Vertx.currentContext())
        .compose(made -> dispatchMade(ctx, table, templates, normalized, made, 0));
  }

  /**
   * Serves a host through a template: the tenant it made, held for the whole exchange so that its
   * port cannot be given to another label meanwhile; resolved again when its port was given back
   * since the resolution was cached.
   */
  private Future<ProxyResponse> dispatchMade(ProxyContext ctx, RoutingTable table, TemplateTenants templates,
      String host, TemplateTenants.Resolution made, int attempt) {
    FrontExchange exchange = exchangeOf(ctx);
    if (made.found()) {
      TenantConfig tenant = made.tenant();
      exchange.meters(metrics.tenant(tenant));
      boolean counts = !(tenant.policy().hasIgnoreRule()
          && tenant.policy().ignores(exchange.path(), exchange.request.getHeader(HttpHeaders.USER_AGENT)));
      if (made.claim().hold(counts)) {
        exchange.onEnd(() -> made.claim().letGo(counts));
        return dispatch(ctx, table, tenant);
      }
      if (attempt >= MAX_RESOLVE_ATTEMPTS) {
        return ErrorPages.unavailable(ctx, tenant.name(), 1);
      }
      return Future.fromCompletionStage(templates.resolveAgain(host), Vertx.currentContext())
          .compose(again -> dispatchMade(ctx, table, templates, host, again, attempt + 1));
    }
    if (made.refusedBy() != null) {
      // A valid label the template has no room for: the site may exist, so not 404 (which
      // clients and caches take as "no such site"); 503 tells them to come back.
      limitLog.hit(made.noPort() ? "template-ports" : "max-tenants", "template " + made.refusedBy()
          + (made.noPort() ? ": every port of its range is held by a running or recently used tenant; "
              : ": max-tenants reached; ")
          + host + " from " + exchange.request.remoteAddress() + " answered 503");
      return ErrorPages.tenantsFull(ctx, host, TENANTS_FULL_RETRY_SECONDS);
    }
    return ErrorPages.notFound(ctx);
  }

  /**
   * A tenant with per-path rules: the longest rule whose prefix the path starts with decides who
   * serves it (another tenant, counted and logged as that tenant since its instances answer, or
   * some of this tenant's routes) and what path the backend gets; without a match, the tenant
   * serves it as any other request. A path a backend could read as another (dot segments,
   * needless escapes) is refused first, so no rule can be crossed by it.
   */
  private Future<ProxyResponse> dispatchByRule(ProxyContext ctx, RoutingTable table, TenantConfig tenant) {
    FrontExchange exchange = exchangeOf(ctx);
    String path = exchange.path();
    if (PathRules.ambiguous(path)) {
      exchange.meters(metrics.tenant(tenant));
      limitLog.hit("ambiguous-path", "tenant " + tenant.name() + ": a path with dot segments, a backslash or needless "
          + "escapes from " + exchange.request.remoteAddress() + " answered 400");
      return ErrorPages.ambiguousPath(ctx);
    }
    PathRules.Rule rule = table.rules(tenant).match(path);
    if (rule == null) {
      return dispatch(ctx, table, tenant);
    }
    exchange.mapping(rule.mapping());
    if (rule.balancer() == null) {
      // Another tenant's path: its instances, its starts, its limits, its own balancing; not its rules.
      return dispatch(ctx, table, rule.tenant());
    }
    exchange.meters(metrics.tenant(tenant));
    return dispatchAmong(ctx, tenant, rule.balancer());
  }

  private Future<ProxyResponse> dispatch(ProxyContext ctx, RoutingTable table, TenantConfig tenant) {
    FrontExchange exchange = exchangeOf(ctx);
    exchange.meters(metrics.tenant(tenant));
    if (tenant.stripPrefix() && exchange.mapping() == null) {
      // (A path rule's mapping, set before, is the whole mapping of its requests.)
      stripPrefix(exchange, table, tenant);
    }
    ErrorPages.tenantPages(ctx, tenant.pages().own());
    if (tenant.instances().isEmpty()) {
      return ErrorPages.unavailable(ctx, tenant.name(), 5); // registered members only, and none registered now
    }
    if (tenant.instances().size() == 1) {
      return dispatch(ctx, tenant, tenant.instances().get(0), null);
    }
    return dispatchAmong(ctx, tenant, table.balancer(tenant));
  }

  /** A multi-instance tenant's request: to its session's instance, if {@code balancer} may use it, else to its choice. */
  private Future<ProxyResponse> dispatchAmong(ProxyContext ctx, TenantConfig tenant, Balancer balancer) {
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

  /**
   * A tenant with strip-prefix reached by its path token gets the request without the token; one
   * reached by its Host gets the path as it is (its root is the host's root).
   */
  private static void stripPrefix(FrontExchange exchange, RoutingTable table, TenantConfig tenant) {
    if (table.routesByHost(exchange.authority == null ? null : exchange.authority.host(), tenant)) {
      return;
    }
    String token = table.pathToken(exchange.path());
    if (token != null) {
      exchange.mapping(new PathMapping(token, ""));
    }
  }

  private boolean disabledByOperator(TenantConfig tenant, String route) {
    io.wakeport.supervision.Instance instance = supervisor.instance(tenant.stateName(), route);
    return instance != null && instance.mode() == io.wakeport.routing.MemberMode.DISABLED;
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
    if (!cluster.enabled() || instance.isRemote()) {
      return dispatchHere(ctx, tenant, instance, session);
    }
    return ClusterDispatch.dispatch(this, ctx, tenant, instance, session, 0);
  }

  /**
   * A cluster node's request: served here when its instance is placed here (or the request was
   * forwarded by another node: never forwarded again), else forwarded to the owner's listener.
   */
  private static final class ClusterDispatch {
    /** Retry-After of a request whose instance no node may run: a matching node may join or undrain. */
    private static final int NO_NODE_RETRY_SECONDS = 10;

    static Future<ProxyResponse> dispatch(TenantDispatch d, ProxyContext ctx, TenantConfig tenant,
        InstanceConfig instance, Session session, int attempt) {
      FrontExchange exchange = exchangeOf(ctx);
      String key = io.wakeport.cluster.Cluster.key(tenant, instance);
      if (exchange.forwardedBy() != null) {
        d.cluster.servedHere(key);
        return d.dispatchHere(ctx, tenant, instance, session);
      }
      Future<io.wakeport.cluster.Cluster.Placement> placed = d.cluster.place(key, tenant);
      if (placed.succeeded() && placed.result().local()) {
        return d.dispatchHere(ctx, tenant, instance, session);
      }
      return placed.transform(ar -> {
        if (ar.failed() && ar.cause() instanceof io.wakeport.cluster.Cluster.Unplaceable) {
          // Logged by the cluster, once until it is placed; never started where its labels forbid.
          return ErrorPages.noNode(ctx, tenant.name(),
              io.wakeport.config.PlacementPolicy.describe(tenant.placement().labels()), NO_NODE_RETRY_SECONDS);
        }
        if (ar.failed()) {
          log.warn("tenant {}: cluster placement failed ({}); serving here", tenant.name(), ar.cause().toString());
          return d.dispatchHere(ctx, tenant, instance, session);
        }
        if (ar.result().local()) {
          return d.dispatchHere(ctx, tenant, instance, session);
        }
        return toNode(d, ctx, tenant, instance, session, key, ar.result(), attempt);
      });
    }

    /** Sends the request as the client sent it (the owner maps its path) to the owner's forward listener, signed. */
    private static Future<ProxyResponse> toNode(TenantDispatch d, ProxyContext ctx, TenantConfig tenant,
        InstanceConfig instance, Session session, String key, io.wakeport.cluster.Cluster.Placement owner, int attempt) {
      FrontExchange exchange = exchangeOf(ctx);
      HttpServerRequest request = exchange.request;
      exchange.mapping(null);
      exchange.tenant(tenant.name(), instance.route());
      MultiMap signed = MultiMap.caseInsensitiveMultiMap();
      d.cluster.sign(owner.node(), request.method().name(), exchange.target(),
          exchange.authority == null ? null : exchange.authority.toString(), signed);
      exchange.nodeHeaders(signed);
      d.cluster.forwardedTo(owner.node());
      int index = tenant.instances().indexOf(instance);
      Backend node = Backend.node(d.supervisor.instancesOf(tenant).get(index), io.vertx.core.net.SocketAddress
          .inetSocketAddress(owner.forwardPort(), owner.forwardHost()), d.cluster.forwardTls());
      if (ctx.isWebSocket()) {
        exchange.nodeHeaders(null);
        log.warn("tenant {}: a WebSocket to an instance on node {} is not forwarded across nodes yet; answered 503",
            tenant.name(), owner.node());
        return ErrorPages.unavailable(ctx, tenant.name(), 5);
      }
      RequestBody body = RequestBody.of(request, d.settings.client().maxRequestBody());
      if (body == null) {
        request.resume();
      }
      // The owner's response timeout governs; this hop waits as long, and a little more.
      BackendCall call = new BackendCall(ctx.client(), exchange, node, body, d.head, true,
          d.settings.connectTimeout().toMillis(), tenant.responseTimeout().toMillis() + 1000,
          d.settings.client().bodyTimeout().toMillis(), false);
      return call.send().transform(ar -> {
        exchange.nodeHeaders(null);
        if (ar.succeeded()) {
          return Future.succeededFuture(answer(ctx, ar.result()));
        }
        if (ar.cause() instanceof BackendCall.Unreached unreached && unreached.refused && !exchange.ended()) {
          // The owner is gone (its membership may not have ended yet): place the instance anew,
          // and serve this request there unless it has a body (not replayed across nodes yet).
          d.cluster.unreachable(key, owner.node());
          if (body == null && attempt == 0) {
            return dispatch(d, ctx, tenant, instance, session, attempt + 1);
          }
        }
        return d.forwardingFailed(ctx, exchange, tenant, node, ar.cause());
      });
    }
  }

  private Future<ProxyResponse> dispatchHere(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance,
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
    HttpServerResponse response = request.response();
    exchange.lease(backend, counted);
    exchange.tenant(tenant.name(), backend.instance().route());
    exchange.rewriting(tenant.rewriting());
    if (backend.coldStart()) {
      coldStart(exchange, began);
    }
    String insert = tenant.balancing().insertCookie();
    if (session != null && insert != null
        && (session.issueCookie || !backend.instance().route().equals(session.requestedRoute))) {
      response.headers().add(HttpHeaders.SET_COOKIE, insert + "=." + backend.instance().route()
          + "; Path=/; HttpOnly; SameSite=Lax" + (clientUsedTls(request) ? "; Secure" : ""));
    }
    if (ctx.isWebSocket()) {
      return upgrade(ctx, exchange, tenant, backend, counted);
    }
    RequestBody body = RequestBody.of(request, settings.client().maxRequestBody());
    if (body == null) {
      // Nothing to read: let the request's end be consumed, so the connection can go on.
      request.resume();
    }
    return call(ctx, exchange, tenant, instance, backend, counted, body, 0, false);
  }

  private static void coldStart(FrontExchange exchange, long began) {
    double millis = (System.nanoTime() - began) / 1e6;
    exchange.coldStartMillis(millis);
    exchange.request.response().putHeader("Server-Timing",
        "cold-start;dur=" + String.format(java.util.Locale.ROOT, "%.1f", millis));
  }

  /**
   * Sends the request, and sends it again when nothing of it reached a backend: first on a fresh
   * connection (a pooled one may have died with its backend), then, when the port refuses, after
   * the supervisor has found the instance's process gone and started it again, or seen its port
   * open again.
   */
  private Future<ProxyResponse> call(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      InstanceConfig instance, Backend backend, boolean counted, RequestBody body, int attempt, boolean fresh) {
    BackendCall call = new BackendCall(ctx.client(), exchange, backend, body,
        exchange.forwardedBy() == null ? head : forwardedHead, settings.preserveHost(),
        settings.connectTimeout().toMillis(), tenant.responseTimeout().toMillis(),
        settings.client().bodyTimeout().toMillis(), fresh);
    return call.send().transform(ar -> {
      supervisor.observed(backend, call.outcome(ar, attempt)); // a remote member's passive checks
      if (ar.succeeded()) {
        return Future.succeededFuture(answer(ctx, ar.result()));
      }
      Throwable failure = ar.cause();
      if (!(failure instanceof BackendCall.Unreached unreached) || attempt >= MAX_ATTEMPTS || exchange.ended()) {
        return forwardingFailed(ctx, exchange, tenant, backend, failure);
      }
      if (!unreached.refused) {
        if (fresh) {
          // A connection of its own was accepted and died too. A process killed with SIGKILL goes
          // on accepting into its listen backlog until its files are closed, then resets them: if
          // the process exits now, it is started again and the request replayed; if it lives, it
          // listens but fails.
          return supervisor.exitsWithin(backend, Math.min(EXIT_WAIT_MILLIS, settings.connectTimeout().toMillis()))
              .transform(gone -> gone.succeeded() && gone.result()
                  ? startAgainAndReplay(ctx, exchange, tenant, instance, backend, counted, body, attempt, unreached)
                  : forwardingFailed(ctx, exchange, tenant, backend, unreached.getCause()));
        }
        log.debug("tenant {}: {} {}; sending again on a fresh connection", tenant.name(), backend.instance(),
            unreached.getMessage());
        return call(ctx, exchange, tenant, instance, backend, counted, body, attempt + 1, true);
      }
      if (backend.instance().isRemote() && counted) {
        Future<ProxyResponse> elsewhere = RemoteRedispatch.elsewhere(this, ctx, tenant, instance, body, unreached);
        if (elsewhere != null) {
          return elsewhere;
        }
      }
      return startAgainAndReplay(ctx, exchange, tenant, instance, backend, counted, body, attempt, unreached);
    });
  }

  /**
   * A remote member refused the connection before its checks took it out, and nothing of the
   * request was sent: with failover, another member takes it (HAProxy's redispatch), with a new
   * route cookie in insert mode. Null when there is none to try (the request goes on as before).
   */
  private static final class RemoteRedispatch {
    static Future<ProxyResponse> elsewhere(TenantDispatch dispatch, ProxyContext ctx, TenantConfig tenant,
        InstanceConfig instance, RequestBody body, BackendCall.Unreached unreached) {
      // Kept off the warm path: nothing is recorded for a request until its member refuses.
      Balancer balancer = dispatch.routing.get().balancer(tenant);
      if (balancer == null || !tenant.balancing().failover()) {
        return null;
      }
      Long before = ctx.get(REDISPATCHED, Long.class);
      long tried = (before == null ? 0 : before) | (1L << tenant.instances().indexOf(instance));
      ctx.set(REDISPATCHED, tried);
      int next = balancer.choose(dispatch.supervisor.instancesOf(tenant), tried);
      if (next < 0) {
        return null;
      }
      InstanceConfig other = tenant.instances().get(next);
      log.info("tenant {}: route {} unreachable ({}); sending the request to route {}", tenant.name(),
          instance.route(), unreached.getMessage(), other.route());
      FrontExchange exchange = exchangeOf(ctx);
      exchange.lease(null, false);
      return dispatch.supervisor.acquire(tenant, other).transform(ar -> {
        if (ar.failed()) {
          return ErrorPages.unavailable(ctx, tenant.name(), 5);
        }
        Backend next2 = ar.result();
        exchange.lease(next2, true);
        exchange.tenant(tenant.name(), other.route());
        String insert = tenant.balancing().insertCookie();
        if (insert != null) {
          MultiMap headers = exchange.request.response().headers();
          java.util.List<String> others = headers.getAll(HttpHeaders.SET_COOKIE).stream()
              .filter(c -> !c.startsWith(insert + "=")).toList();
          headers.remove(HttpHeaders.SET_COOKIE).add("set-cookie", others);
          headers.add(HttpHeaders.SET_COOKIE, insert + "=." + other.route()
              + "; Path=/; HttpOnly; SameSite=Lax" + (dispatch.clientUsedTls(exchange.request) ? "; Secure" : ""));
        }
        return dispatch.call(ctx, exchange, tenant, other, next2, true, body, 0, false);
      });
    }
  }

  /**
   * Nothing of the request reached the instance's process, which is gone or no longer listens:
   * the supervisor starts it again (or waits for its port) and the request is sent once it is ready.
   */
  private Future<ProxyResponse> startAgainAndReplay(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      InstanceConfig instance, Backend backend, boolean counted, RequestBody body, int attempt,
      BackendCall.Unreached unreached) {
    supervisor.unreachable(backend);
    if (!counted) {
      // A request under an ignore rule never starts a tenant.
      return ErrorPages.notRunning(ctx, tenant.name(), tenant.policy().ignoreStatus());
    }
    log.info("tenant {}: {} unreachable ({}); holding the request until it listens", tenant.name(),
        backend.instance(), unreached.getMessage());
    long began = System.nanoTime();
    return supervisor.acquire(tenant, instance).transform(again -> {
      if (again.failed()) {
        exchange.lease(null, false);
        int retryAfter = again.cause() instanceof StartFailedException sfe ? sfe.retryAfterSeconds() : 5;
        return ErrorPages.unavailable(ctx, tenant.name(), retryAfter);
      }
      Backend next = again.result();
      exchange.lease(next, true);
      if (next.coldStart()) {
        coldStart(exchange, began);
      }
      return call(ctx, exchange, tenant, instance, next, true, body, attempt + 1, false);
    });
  }

  /** The backend's answer as the proxy chain's response; its head is read from the backend's answer directly. */
  private static ProxyResponse answer(ProxyContext ctx, HttpClientResponse backendResponse) {
    ctx.set(ResponseRelay.BACKEND_RESPONSE, backendResponse);
    ProxyResponse response = ctx.request().response();
    response.setStatusCode(backendResponse.statusCode());
    response.setStatusMessage(backendResponse.statusMessage());
    String length = backendResponse.getHeader(HttpHeaders.CONTENT_LENGTH);
    long contentLength = -1;
    if (length != null) {
      try {
        contentLength = Long.parseLong(length);
      } catch (NumberFormatException e) {
        contentLength = -1;
      }
    }
    response.setBody(Body.body(backendResponse, contentLength));
    return response;
  }

  /**
   * A WebSocket upgrade goes through vertx-http-proxy's own path (BackendOrigin opens it), with the
   * same forwarding headers; its lease lasts as long as the upgraded connection.
   */
  private Future<ProxyResponse> upgrade(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant, Backend backend,
      boolean counted) {
    HttpServerRequest request = exchange.request;
    ctx.set(TARGET, new Target(tenant, backend));
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
    return ctx.sendRequest().recover(failure -> forwardingFailed(ctx, exchange, tenant, backend, failure));
  }

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    // No backend answer: a page (see ErrorPages.respond).
    ErrorPages.Page page = ErrorPages.pageOf(ctx);
    if (page != null) {
      FrontExchange exchange = exchangeOf(ctx);
      if (exchange.closesAfterResponse() || hasUnreadBody(exchange.request)) {
        // Answered before its body was read: the connection cannot be trusted to be at a request
        // boundary, so it closes after the page (the rest of the body is read and dropped first).
        exchange.closeAfterResponse();
        if (exchange.request.version() == HttpVersion.HTTP_1_1) {
          exchange.request.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
      }
      return ErrorPages.write(ctx, exchange.request, page, exchange.requestId, routing.get().pages());
    }
    return relay.send(ctx, exchangeOf(ctx));
  }

  private static boolean hasUnreadBody(HttpServerRequest request) {
    return !request.isEnded() && RequestBody.of(request, 0) != null;
  }

  private Future<ProxyResponse> forwardingFailed(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      Backend backend, Throwable failure) {
    if (failure instanceof BackendCall.ClientTooSlow slow) {
      limitLog.hit("client-body-timeout", "tenant " + tenant.name() + ": " + slow.getMessage() + " from "
          + exchange.request.remoteAddress() + "; answered 408");
      exchange.closeAfterResponse();
      return ErrorPages.requestTimeout(ctx);
    }
    if (failure instanceof BackendCall.BodyTooLarge large) {
      limitLog.hit("max-request-body", "tenant " + tenant.name() + ": " + large.getMessage() + " from "
          + exchange.request.remoteAddress() + "; answered 413");
      exchange.closeAfterResponse();
      return ErrorPages.payloadTooLarge(ctx);
    }
    if (failure instanceof TimeoutException) {
      log.warn("tenant {}: {} from {} (response-timeout {} ms)", tenant.name(), failure.getMessage(),
          backend.instance(), tenant.responseTimeout().toMillis());
      return ErrorPages.gatewayTimeout(ctx, tenant.name());
    }
    // The backend client speaks HTTP/1.1: a stream reset there is the proxy's own, for a client that left.
    if (exchange.ended() || exchange.request.response().closed()
        || failure instanceof io.vertx.core.http.StreamResetException) {
      // The client went away mid-exchange and the backend request was reset: not a backend fault.
      log.debug("tenant {}: client left before {} answered", tenant.name(), backend.instance());
    } else {
      log.warn("tenant {}: forwarding to {} failed: {}", tenant.name(), backend.instance(), failure.toString());
    }
    return ErrorPages.badGateway(ctx, tenant.name());
  }
}
