package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.ProxySettings;
import io.wakeport.config.TemplateTenants;
import io.wakeport.config.TenantConfig;
import io.wakeport.routing.PathRules;
import io.wakeport.routing.RoutingTable;
import io.wakeport.frontdoor.LimitLog;
import io.wakeport.metrics.Metrics;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Supervisor;
import java.util.function.Supplier;

/**
 * The proxy's one interceptor: finds the tenant (404 when none), its path rule and its path
 * mapping, and hands the request to {@link InstanceChoice}, which picks the instance, has it ready
 * and sends the request ({@link BackendAttempts}, {@link WebSocketUpgrade}, or
 * {@link NodeForwarding} to the node that owns it). Answers without a backend go out as pages.
 * The proxy has paused the request before this runs, so the body waits in the socket (TCP pushes
 * back) while a backend starts.
 */
final class TenantDispatch implements ProxyInterceptor {

  static final String TARGET = "wakeport.target";
  private static final String EXCHANGE = "wakeport.exchange";
  /** Retry-After for a label a template's max-tenants has no room for: room comes with a reload. */
  private static final int TENANTS_FULL_RETRY_SECONDS = 60;
  /** Resolutions of a template's host after its claim was found given back, before the request gets 503. */
  private static final int MAX_RESOLVE_ATTEMPTS = 3;

  private final Supplier<RoutingTable> routing;
  private final LimitLog limitLog;
  private final Metrics metrics;
  private final ResponseRelay relay;
  private final InstanceChoice instances;
  /**
   * Handed from {@link FrontServer} to the proxy's first step: {@code HttpProxy.handle} calls the
   * interceptor synchronously on this event loop, and each event loop has its own dispatch.
   */
  private FrontExchange arriving;

  TenantDispatch(Supplier<RoutingTable> routing, Supervisor supervisor, ProxySettings settings, LimitLog limitLog,
      Metrics metrics, io.wakeport.cluster.Cluster cluster) {
    this.metrics = metrics;
    this.routing = routing;
    this.relay = new ResponseRelay(settings.trustForwardedHeaders());
    this.limitLog = limitLog;
    OutgoingHead head = new OutgoingHead(settings.trustForwardedHeaders());
    // For a request another cluster node forwarded (signed): its forwarding headers are that node's, so extended.
    OutgoingHead forwardedHead = new OutgoingHead(true);
    BackendAttempts attempts = new BackendAttempts(routing, supervisor, settings, head, forwardedHead, limitLog);
    WebSocketUpgrade upgrades = new WebSocketUpgrade(supervisor, head, forwardedHead, attempts);
    this.instances = new InstanceChoice(routing, supervisor, settings, cluster, head, attempts, upgrades);
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
    return instances.dispatchAmong(ctx, tenant, rule.balancer());
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
      return instances.dispatch(ctx, tenant, tenant.instances().get(0), null);
    }
    return instances.dispatchAmong(ctx, tenant, table.balancer(tenant));
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

  /** Where {@link BackendOrigin} sends the request: one context attachment per exchange. */
  record Target(TenantConfig tenant, Backend backend) {}

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
}
