package io.wakeport.admin;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.ResourceUsage;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceView;
import io.wakeport.supervision.Supervisor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The web console under {@code /console}: pages rendered here, with a few lines of JavaScript
 * from the jar for live updates (the API's own event streams, {@code /api/events} and a log's
 * {@code follow}), nothing from elsewhere. It shows what the JSON API shows, built by the same
 * code ({@link TenantApi}'s instance JSON, {@link ConfigApi}), and acts through the same
 * {@link TenantActions}. Every page passes {@link AdminAuth}: a browser logs in once and holds
 * a session cookie; every form that changes something carries the CSRF token.
 */
final class Console {

  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 500;
  static final List<String> STATES = List.of("STOPPED", "STARTING", "READY", "STOPPING", "CRASHED", "BACKOFF");
  private static final List<String> SORTS = List.of("name", "state", "pid", "port", "uptime", "inflight", "coldstart",
      "activity");
  /** No inline script or style, nothing from another origin, no framing. */
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private final Wakeport wakeport;
  private final Supervisor supervisor;
  private final AdminAuth auth;
  private final TenantApi tenants;
  private final ConfigApi configs;
  private final TenantActions actions;
  private final String css = resource("console/console.css");
  private final String js = resource("console/console.js");

  Console(Wakeport wakeport, AdminAuth auth, TenantApi tenants, ConfigApi configs) {
    this.wakeport = wakeport;
    this.supervisor = wakeport.supervisor();
    this.auth = auth;
    this.tenants = tenants;
    this.configs = configs;
    this.actions = new TenantActions(supervisor);
  }

  void mount(Router router) {
    // Exactly these two paths (a route "/" or "/console" would match more).
    router.getWithRegex("/|/console").handler(ctx -> redirect(ctx, "/console/"));
    router.get("/console/assets/console.css").handler(ctx -> asset(ctx, "text/css; charset=utf-8", css));
    router.get("/console/assets/console.js").handler(ctx -> asset(ctx, "text/javascript; charset=utf-8", js));
    router.get(AdminAuth.LOGIN).handler(ctx -> loginPage(ctx, 200, null));
    router.post(AdminAuth.LOGIN).handler(this::login);
    router.post("/console/logout").handler(ctx -> {
      auth.closeSession(ctx);
      redirect(ctx, AdminAuth.LOGIN);
    });
    router.get("/console/").handler(ctx -> list(ctx, false));
    router.get("/console/rows").handler(ctx -> list(ctx, true));
    router.get("/console/config").handler(this::configPage);
    router.post("/console/reload").handler(this::reload);
    router.get("/console/tenants/:tenant").handler(ctx -> tenantPage(ctx, false));
    router.get("/console/tenants/:tenant/part").handler(ctx -> tenantPage(ctx, true));
    router.post("/console/tenants/:tenant/:action").handler(this::act);
    router.post("/console/tenants/:tenant/routes/:route/:action").handler(this::act);
  }

  // ---- login ---------------------------------------------------------------------------------

  private void loginPage(RoutingContext ctx, int status, String problem) {
    String next = safeNext(ctx.request().getParam("next"));
    StringBuilder b = new StringBuilder();
    b.append("<main class=\"login\"><h1><span class=\"mark\">◐</span> wakeport</h1>");
    b.append("<form method=\"post\" action=\"").append(AdminAuth.LOGIN).append("\" class=\"card\">");
    if (problem != null) {
      b.append("<p class=\"notice error\">").append(esc(problem)).append("</p>");
    }
    b.append("<input type=\"hidden\" name=\"next\" value=\"").append(esc(next)).append("\">");
    if (auth.usersMode()) {
      b.append("<label>User <input name=\"user\" autocomplete=\"username\" required autofocus></label>");
      b.append("<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
          + "required></label>");
    } else {
      b.append("<label>Admin token <input type=\"password\" name=\"token\" autocomplete=\"off\" required "
          + "autofocus></label><p class=\"hint\">The token is in <code>")
          .append(esc(wakeport.config().admin().tokenFile())).append("</code>.</p>");
    }
    b.append("<button type=\"submit\">Log in</button></form></main>");
    html(ctx, status, "Log in", null, b.toString());
  }

  private void login(RoutingContext ctx) {
    String secret = auth.usersMode() ? ctx.request().getFormAttribute("password") : ctx.request().getFormAttribute("token");
    String user = ctx.request().getFormAttribute("user");
    auth.login(ctx.vertx(), AdminAuth.clientOf(ctx), user, secret).onComplete(ar -> {
      if (ar.failed() && ar.cause() instanceof LoginThrottle.Locked locked) {
        ctx.response().putHeader("Retry-After", Long.toString(LoginThrottle.LOCKED_FOR.toSeconds()));
        loginPage(ctx, 429, "Too many failed logins for this user from your address: try again in a minute.");
        return;
      }
      if (ar.failed() || ar.result() == null) {
        loginPage(ctx, 401, auth.usersMode() ? "Wrong user name or password." : "Wrong token.");
        return;
      }
      auth.openSession(ctx, ar.result());
      redirect(ctx, safeNext(ctx.request().getFormAttribute("next")));
    });
  }

  /** Only a path of the console itself: never another site, never {@code //host}. */
  private static String safeNext(String next) {
    if (next == null || !next.startsWith("/console/") || next.startsWith("//") || next.contains("\\")
        || next.startsWith(AdminAuth.LOGIN)) {
      return "/console/";
    }
    return next;
  }

  // ---- the tenant list -------------------------------------------------------------------------

  /** One row of the list: an instance, with the tenant (and route config) it belongs to. */
  private record Row(TenantConfig tenant, InstanceConfig config, InstanceView view) {
    String name() {
      return view.tenant();
    }
  }

  /** What the list shows: filter, sort and page, all from the query string. */
  record ListQuery(String q, String state, String sort, boolean desc, int page, int size) {
    static ListQuery of(RoutingContext ctx) {
      String q = ctx.request().getParam("q", "").trim().toLowerCase(Locale.ROOT);
      String state = ctx.request().getParam("state", "").toUpperCase(Locale.ROOT);
      if (!STATES.contains(state)) {
        state = "";
      }
      String sort = ctx.request().getParam("sort", "name");
      if (!SORTS.contains(sort)) {
        sort = "name";
      }
      boolean desc = "desc".equals(ctx.request().getParam("dir"));
      int page = Math.max(1, intParam(ctx, "page", 1));
      int size = Math.max(1, Math.min(MAX_PAGE_SIZE, intParam(ctx, "size", DEFAULT_PAGE_SIZE)));
      return new ListQuery(q, state, sort, desc, page, size);
    }

    String query(String sort, boolean desc, int page) {
      StringBuilder b = new StringBuilder("?");
      if (!q.isEmpty()) {
        b.append("q=").append(url(q)).append('&');
      }
      if (!state.isEmpty()) {
        b.append("state=").append(state).append('&');
      }
      b.append("sort=").append(sort).append("&dir=").append(desc ? "desc" : "asc");
      if (page > 1) {
        b.append("&page=").append(page);
      }
      if (size != DEFAULT_PAGE_SIZE) {
        b.append("&size=").append(size);
      }
      return b.toString();
    }
  }

  private static int intParam(RoutingContext ctx, String name, int fallback) {
    try {
      return Integer.parseInt(ctx.request().getParam(name, String.valueOf(fallback)).trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  /** Every instance of the config that passes the filter, sorted: the list's rows before paging. */
  static List<Row> rows(WakeportConfig config, List<InstanceView> views, ListQuery query) {
    Map<String, InstanceView> byKey = TenantApi.byKey(views);
    List<Row> rows = new ArrayList<>();
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        for (InstanceView view : views) {
          if (view.stateName().startsWith(tenant.name() + "+")) {
            rows.add(new Row(tenant, null, view));
          }
        }
        continue;
      }
      for (InstanceConfig ic : tenant.instances()) {
        InstanceView view = byKey.get(tenant.stateName() + "/" + ic.route());
        rows.add(new Row(tenant, ic, view != null ? view : TenantApi.stopped(tenant, ic)));
      }
    }
    rows.removeIf(r -> !matches(r, query));
    Comparator<Row> byName = Comparator.comparing(Row::name).thenComparing(r -> r.view().route());
    Comparator<Row> order = switch (query.sort()) {
      case "state" -> Comparator.comparing((Row r) -> r.view().state().ordinal());
      case "pid" -> Comparator.comparingLong((Row r) -> r.view().pid());
      case "port" -> Comparator.comparingInt((Row r) -> r.view().port());
      // Longest up first when descending; not running counts as no uptime.
      case "uptime" -> Comparator.comparingLong(
          (Row r) -> r.view().readySinceMillis() == 0 ? Long.MAX_VALUE : r.view().readySinceMillis()).reversed();
      case "inflight" -> Comparator.comparingInt((Row r) -> r.view().inFlight());
      case "coldstart" -> Comparator.comparingLong((Row r) -> r.view().lastStartDuration());
      case "activity" -> Comparator.comparingLong((Row r) -> r.view().lastActivityMillis());
      default -> byName;
    };
    if (query.desc()) {
      order = order.reversed();
    }
    rows.sort(order.thenComparing(byName));
    return rows;
  }

  private static boolean matches(Row row, ListQuery query) {
    if (!query.state().isEmpty() && !row.view().state().name().equals(query.state())) {
      return false;
    }
    if (query.q().isEmpty()) {
      return true;
    }
    if (row.name().contains(query.q()) || row.view().route().toLowerCase(Locale.ROOT).contains(query.q())) {
      return true;
    }
    for (String host : row.tenant().hosts()) {
      if (host.contains(query.q())) {
        return true;
      }
    }
    return false;
  }

  private void list(RoutingContext ctx, boolean fragment) {
    WakeportConfig config = wakeport.config();
    ListQuery query = ListQuery.of(ctx);
    supervisor.views().onComplete(ar -> {
      List<Row> rows = rows(config, ar.result(), query);
      int pages = Math.max(1, (rows.size() + query.size() - 1) / query.size());
      int page = Math.min(query.page(), pages);
      int from = (page - 1) * query.size();
      List<Row> slice = rows.subList(Math.min(from, rows.size()), Math.min(from + query.size(), rows.size()));
      usages(slice).onComplete(u -> {
        String body = listSection(ctx, config, query, rows.size(), page, pages, from, slice, u.result());
        if (fragment) {
          fragment(ctx, body);
          return;
        }
        StringBuilder b = new StringBuilder();
        b.append("<main><div class=\"title\"><h1>Tenants</h1>").append(notice(ctx)).append("</div>");
        b.append("<form class=\"filters\" method=\"get\" action=\"/console/\">");
        b.append("<input type=\"search\" name=\"q\" placeholder=\"name, host or route\" value=\"")
            .append(esc(query.q())).append("\">");
        b.append("<select name=\"state\"><option value=\"\">any state</option>");
        for (String s : STATES) {
          b.append("<option").append(s.equals(query.state()) ? " selected" : "").append('>').append(s)
              .append("</option>");
        }
        b.append("</select><select name=\"size\">");
        for (int size : List.of(25, 50, 100, 200, 500)) {
          b.append("<option").append(size == query.size() ? " selected" : "").append('>').append(size)
              .append("</option>");
        }
        b.append("</select><input type=\"hidden\" name=\"sort\" value=\"").append(query.sort())
            .append("\"><input type=\"hidden\" name=\"dir\" value=\"").append(query.desc() ? "desc" : "asc")
            .append("\"><button type=\"submit\">Filter</button></form>");
        String rowsUrl = "/console/rows" + query.query(query.sort(), query.desc(), page);
        b.append("<div id=\"live\" data-refresh=\"").append(esc(rowsUrl))
            .append("\" data-events=\"/api/events\">").append(body).append("</div></main>");
        html(ctx, 200, "Tenants", "tenants", b.toString());
      });
    });
  }

  /** Resource use of the running instances among {@code rows}, in their order (null where none). */
  private Future<List<ResourceUsage>> usages(List<Row> rows) {
    List<Future<ResourceUsage>> usages = new ArrayList<>(rows.size());
    for (Row row : rows) {
      Instance instance = row.config() == null ? null : supervisor.instance(row.tenant().stateName(), row.config().route());
      usages.add(instance == null || row.view().pid() < 0 ? Future.succeededFuture(ResourceUsage.UNKNOWN)
          : supervisor.usage(instance).otherwise(ResourceUsage.UNKNOWN));
    }
    return Future.join(usages).transform(done -> {
      List<ResourceUsage> result = new ArrayList<>(usages.size());
      usages.forEach(f -> result.add(f.succeeded() ? f.result() : ResourceUsage.UNKNOWN));
      return Future.succeededFuture(result);
    });
  }

  private String listSection(RoutingContext ctx, WakeportConfig config, ListQuery query, int total, int page,
      int pages, int from, List<Row> slice, List<ResourceUsage> usages) {
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"count\">").append(total == 0 ? "No instances"
            : "Instances " + (from + 1) + "–" + (from + slice.size()) + " of " + total)
        .append(total == 0 ? "" : " · page " + page + " of " + pages)
        .append(" · ").append(config.tenants().size()).append(" tenants in the config</p>");
    b.append("<div class=\"scroll\"><table class=\"instances\" id=\"tenants\"><thead><tr>");
    header(b, query, "Tenant", "name");
    b.append("<th>Route</th>");
    header(b, query, "State", "state");
    header(b, query, "PID", "pid");
    header(b, query, "Port", "port");
    header(b, query, "Uptime", "uptime");
    header(b, query, "In flight", "inflight");
    b.append("<th title=\"requests per minute\">Req/min</th><th title=\"errors (5xx) per minute\">Err/min</th>")
        .append("<th>p50</th><th>p99</th>");
    header(b, query, "Last cold start", "coldstart");
    b.append("<th>Backoff</th><th>Mode</th><th>Weight</th><th>Memory</th><th>CPU</th><th>Actions</th>");
    b.append("</tr></thead><tbody>");
    String back = "/console/" + query.query(query.sort(), query.desc(), page);
    for (int i = 0; i < slice.size(); i++) {
      Row row = slice.get(i);
      JsonObject json = TenantApi.instanceJson(row.view(), row.config());
      b.append("<tr data-instance=\"").append(esc(row.name() + "/" + row.view().route())).append("\">");
      b.append("<td class=\"name\"><a href=\"/console/tenants/").append(esc(row.tenant().name())).append("\">")
          .append(esc(row.name())).append("</a></td>");
      b.append("<td>").append(esc(dash(json.getString("route")))).append("</td>");
      instanceCells(b, json, usages.get(i), false);
      b.append("<td class=\"actions\">");
      if (row.config() != null) {
        String path = actionPath(row.tenant(), row.config());
        for (String action : List.of("start", "stop", "restart")) {
          actionButton(ctx, b, path, action, back);
        }
      }
      b.append("</td></tr>");
    }
    b.append("</tbody></table></div>");
    if (pages > 1) {
      b.append("<nav class=\"pager\">");
      if (page > 1) {
        b.append("<a href=\"").append(esc("/console/" + query.query(query.sort(), query.desc(), 1)))
            .append("\">« first</a><a rel=\"prev\" href=\"")
            .append(esc("/console/" + query.query(query.sort(), query.desc(), page - 1))).append("\">‹ previous</a>");
      }
      b.append("<span>page ").append(page).append(" of ").append(pages).append("</span>");
      if (page < pages) {
        b.append("<a rel=\"next\" href=\"").append(esc("/console/" + query.query(query.sort(), query.desc(), page + 1)))
            .append("\">next ›</a><a href=\"").append(esc("/console/" + query.query(query.sort(), query.desc(), pages)))
            .append("\">last »</a>");
      }
      b.append("</nav>");
    }
    return b.toString();
  }

  private static void header(StringBuilder b, ListQuery query, String label, String sort) {
    boolean current = query.sort().equals(sort);
    boolean desc = current && !query.desc();
    b.append("<th><a class=\"sort").append(current ? (query.desc() ? " desc" : " asc") : "").append("\" href=\"")
        .append(esc("/console/" + query.query(sort, desc, 1))).append("\">").append(esc(label)).append("</a></th>");
  }

  /** The cells every instance row has, list and tenant page alike, from the API's instance JSON. */
  private static void instanceCells(StringBuilder b, JsonObject json, ResourceUsage usage, boolean detail) {
    String state = json.getString("state");
    b.append("<td class=\"state\"><span class=\"badge st-").append(esc(state)).append("\">").append(esc(state))
        .append("</span></td>");
    b.append("<td class=\"pid num\">").append(esc(dash(json.getValue("pid")))).append("</td>");
    b.append("<td class=\"num\">").append(json.getInteger("port")).append("</td>");
    Long uptime = json.getLong("uptimeMillis");
    b.append("<td class=\"num uptime\">").append(uptime == null ? "–" : esc(duration(uptime))).append("</td>");
    b.append("<td class=\"num\">").append(json.getInteger("inFlight")).append("</td>");
    // The last minute, counted per instance as requests end (supervision.RecentTraffic).
    b.append("<td class=\"num\">").append(json.getLong("requestsPerMinute", 0L)).append("</td>");
    long errors = json.getLong("errorsPerMinute", 0L);
    b.append("<td class=\"num").append(errors > 0 ? " err" : "").append("\">").append(errors).append("</td>");
    b.append("<td class=\"num\">").append(esc(latency(json.getDouble("p50Millis")))).append("</td>");
    b.append("<td class=\"num\">").append(esc(latency(json.getDouble("p99Millis")))).append("</td>");
    JsonObject cold = json.getJsonObject("lastColdStart");
    b.append("<td>");
    if (cold == null) {
      b.append("–");
    } else {
      b.append("<span class=\"num\">").append(cold.getLong("millis")).append(" ms</span> <time class=\"at\">")
          .append(esc(shortTime(cold.getString("at")))).append("</time>");
    }
    b.append("</td>");
    long backoff = json.getLong("backoffRemainingMillis", 0L);
    b.append("<td class=\"num\">").append(backoff > 0 ? esc(duration(backoff)) : "–").append("</td>");
    String mode = json.getString("mode");
    b.append("<td class=\"mode\">").append(mode == null ? "–" : "<span class=\"mode-" + esc(mode) + "\">" + esc(mode)
        + (json.getString("modeOverride") != null ? " *" : "") + "</span>").append("</td>");
    b.append("<td class=\"num\">").append(esc(dash(json.getValue("weight"))))
        .append(json.getValue("weightOverride") != null ? " *" : "").append("</td>");
    b.append("<td class=\"num\">").append(usage.memoryBytes() < 0 ? "–" : esc(bytes(usage.memoryBytes())))
        .append("</td>");
    b.append("<td class=\"num\">").append(usage.cpuNanos() < 0 ? "–"
        : String.format(Locale.ROOT, "%.2f s", usage.cpuNanos() / 1e9)).append("</td>");
    if (detail) {
      b.append("<td class=\"num\">").append(usage.memoryBytes() < 0 ? "–" : String.valueOf(usage.processes()))
          .append("</td><td class=\"num\">").append(json.getInteger("oomKills")).append("</td>");
    }
  }

  private static String actionPath(TenantConfig tenant, InstanceConfig ic) {
    return "/console/tenants/" + tenant.name() + (ic == null || ic.route().isEmpty() ? "" : "/routes/" + ic.route());
  }

  private void actionButton(RoutingContext ctx, StringBuilder b, String path, String action, String back) {
    b.append("<form method=\"post\" action=\"").append(esc(path + "/" + action)).append("\">");
    hidden(ctx, b, back);
    b.append("<button type=\"submit\" class=\"act act-").append(action).append("\" data-action=\"").append(action)
        .append("\">").append(action).append("</button></form>");
  }

  private void hidden(RoutingContext ctx, StringBuilder b, String back) {
    b.append("<input type=\"hidden\" name=\"").append(AdminAuth.CSRF_FIELD).append("\" value=\"")
        .append(esc(auth.csrfToken(ctx.get(AdminAuth.PRINCIPAL)))).append("\">");
    if (back != null) {
      b.append("<input type=\"hidden\" name=\"back\" value=\"").append(esc(back)).append("\">");
    }
  }

  // ---- one tenant --------------------------------------------------------------------------------

  private void tenantPage(RoutingContext ctx, boolean fragment) {
    String name = ctx.pathParam("tenant");
    TenantConfig tenant = wakeport.config().tenants().get(name);
    if (tenant == null) {
      html(ctx, 404, "No such tenant", "tenants", "<main><h1>No tenant " + esc(name) + "</h1><p>There is no tenant "
          + esc(name) + " in " + esc(wakeport.config().file()) + ". <a href=\"/console/\">All tenants</a></p></main>");
      return;
    }
    tenants.detail(tenant).onComplete(ar -> {
      JsonObject json = ar.result();
      String self = "/console/tenants/" + tenant.name();
      String part = instancesSection(ctx, tenant, json, self);
      if (fragment) {
        fragment(ctx, part);
        return;
      }
      StringBuilder b = new StringBuilder("<main>");
      b.append("<div class=\"title\"><h1>").append(esc(tenant.name())).append(" <span class=\"badge st-")
          .append(esc(json.getString("state"))).append("\" id=\"tenant-state\">").append(esc(json.getString("state")))
          .append("</span></h1>").append(notice(ctx)).append("</div>");
      b.append("<p class=\"meta\">");
      if (!tenant.hosts().isEmpty()) {
        b.append("hosts <code>").append(esc(String.join(" ", tenant.hosts()))).append("</code> ");
      }
      if (!tenant.paths().isEmpty()) {
        b.append("paths <code>").append(esc(String.join(" ", tenant.paths()))).append("</code> ");
      }
      String definedAt = tenant.origins().get("tenants." + tenant.name());
      if (definedAt != null) {
        b.append("defined at <code>").append(esc(definedAt)).append("</code>");
      }
      b.append("</p>");
      if (!tenant.isTemplate()) {
        b.append("<div class=\"toolbar\"><span>Whole tenant:</span>");
        for (String action : List.of("start", "stop", "restart")) {
          actionButton(ctx, b, self, action, self);
        }
        if (tenant.instances().size() > 1) {
          b.append("<span class=\"hint\">restart goes one route at a time, each ready before the next stops</span>");
        }
        b.append("</div>");
      }
      b.append("<section><h2>Instances</h2><div id=\"live\" data-refresh=\"").append(esc(self + "/part"))
          .append("\" data-events=\"/api/events?tenant=").append(esc(url(tenant.name()))).append("\">")
          .append(part).append("</div></section>");

      b.append("<div class=\"columns\"><section><h2>Lifecycle events</h2>");
      events(b, json);
      b.append("</section>");
      logSection(ctx, b, tenant);
      b.append("</div>");
      configSection(b, tenant, json.getJsonObject("config"));
      b.append("</main>");
      html(ctx, 200, tenant.name(), "tenants", b.toString());
    });
  }

  private String instancesSection(RoutingContext ctx, TenantConfig tenant, JsonObject json, String self) {
    StringBuilder b = new StringBuilder("<div class=\"scroll\"><table class=\"instances\" id=\"instances\"><thead><tr>");
    b.append("<th>Route</th><th>State</th><th>PID</th><th>Port</th><th>Uptime</th><th>In flight</th>")
        .append("<th>Req/min</th><th>Err/min</th><th>p50</th><th>p99</th><th>Last cold start</th><th>Backoff</th>")
        .append("<th>Mode</th><th>Weight</th><th>Memory</th><th>CPU</th><th>Procs</th><th>OOM kills</th>")
        .append("</tr></thead><tbody>");
    JsonArray instances = json.getJsonArray("instances");
    boolean balanced = tenant.instances().size() > 1;
    for (int i = 0; i < instances.size(); i++) {
      JsonObject inst = instances.getJsonObject(i);
      InstanceConfig ic = tenant.isTemplate() ? null : tenant.instances().get(i);
      JsonObject usage = inst.getJsonObject("usage");
      ResourceUsage u = usage == null ? ResourceUsage.UNKNOWN : new ResourceUsage(usage.getLong("memoryBytes"),
          (long) (usage.getDouble("cpuSeconds") * 1e9), usage.getInteger("processes"), usage.getLong("oomKills"));
      String route = inst.getString("route");
      b.append("<tr data-instance=\"").append(esc((tenant.isTemplate() ? inst.getString("tenant") : tenant.name())
          + "/" + (route == null ? "" : route))).append("\">");
      b.append("<td class=\"name\">").append(esc(route == null ? (tenant.isTemplate() ? inst.getString("tenant") : "–")
          : route)).append("</td>");
      instanceCells(b, inst, u, true);
      b.append("</tr>");
      if (ic != null) {
        // The actions on a row of their own under the instance, as balancer-manager has them.
        String path = actionPath(tenant, ic);
        b.append("<tr class=\"actions-row\" data-actions=\"").append(esc(tenant.name() + "/" + ic.route()))
            .append("\"><td colspan=\"18\" class=\"actions\"><span class=\"group\">process</span>");
        for (String action : List.of("start", "stop", "restart")) {
          actionButton(ctx, b, path, action, self);
        }
        if (balanced) {
          b.append("<span class=\"group\">new sessions</span>");
          for (String action : List.of("drain", "disable", "standby", "enable")) {
            actionButton(ctx, b, path, action, self);
          }
          b.append("<span class=\"group\">weight</span><form method=\"post\" class=\"weight\" action=\"")
              .append(esc(path + "/weight")).append("\">");
          hidden(ctx, b, self);
          b.append("<input type=\"number\" name=\"weight\" min=\"0\" max=\"100\" value=\"")
              .append(esc(dash(inst.getValue("weight")))).append("\" aria-label=\"weight\">")
              .append("<button type=\"submit\" class=\"act\" data-action=\"weight\">set</button></form>");
        }
        b.append("</td></tr>");
      }
    }
    b.append("</tbody></table></div>");
    if (balanced) {
      b.append("<p class=\"hint\">* the operator's override (drain, disable, standby, weight): kept until changed, "
          + "a reload that changes the route, or a restart of wakeport. Weight 0 goes back to the config's.</p>");
    }
    return b.toString();
  }

  private static void events(StringBuilder b, JsonObject json) {
    List<JsonObject> all = new ArrayList<>();
    for (Object o : json.getJsonArray("instances")) {
      for (Object e : ((JsonObject) o).getJsonArray("recentEvents")) {
        all.add((JsonObject) e);
      }
    }
    all.sort(Comparator.comparing((JsonObject e) -> e.getString("time")).reversed());
    b.append("<div class=\"scroll tall\"><table id=\"events\" class=\"events\"><thead><tr><th>Time</th><th>Route</th>")
        .append("<th>Change</th><th>PID</th><th>Reason</th></tr></thead><tbody>");
    for (JsonObject e : all) {
      b.append("<tr><td><time>").append(esc(shortTime(e.getString("time")))).append("</time></td><td>")
          .append(esc(dash(e.getString("route")))).append("</td><td>").append(esc(e.getString("from")))
          .append(" → <span class=\"badge st-").append(esc(e.getString("to"))).append("\">")
          .append(esc(e.getString("to"))).append("</span></td><td class=\"num\">").append(esc(dash(e.getValue("pid"))))
          .append("</td><td>").append(esc(e.getString("reason"))).append("</td></tr>");
    }
    b.append("</tbody></table></div>");
  }

  private void logSection(RoutingContext ctx, StringBuilder b, TenantConfig tenant) {
    b.append("<section><h2>Log tail</h2>");
    if (tenant.isTemplate()) {
      b.append("<p class=\"hint\">A template's tenants each have their own log.</p></section>");
      return;
    }
    String route = ctx.request().getParam("route");
    InstanceConfig ic = route == null ? null : tenant.instance(route);
    if (ic == null) {
      ic = tenant.instances().get(0);
    }
    if (tenant.instances().size() > 1) {
      b.append("<nav class=\"tabs\">");
      for (InstanceConfig other : tenant.instances()) {
        b.append("<a href=\"/console/tenants/").append(esc(tenant.name())).append("?route=").append(esc(url(other.route())))
            .append("\"").append(other == ic ? " class=\"current\"" : "").append(">").append(esc(other.route()))
            .append("</a>");
      }
      b.append("</nav>");
    }
    String api = "/api/tenants/" + tenant.name() + "/logs?route=" + url(ic.route());
    b.append("<pre id=\"log\" class=\"log\" data-follow=\"").append(esc(api + "&lines=200&follow=true"))
        .append("\"></pre><p class=\"hint\"><code>")
        .append(esc(wakeport.config().logDir().resolve(tenant.fileStem(ic.route()) + ".log")))
        .append("</code> · <a href=\"").append(esc(api + "&lines=1000")).append("\">last 1000 lines as text</a>")
        .append(" · <span id=\"log-status\">connecting…</span></p></section>");
  }

  /** The config keys as the API shows them, with the YAML key each comes from. */
  private static final Map<String, String> YAML_KEYS = new LinkedHashMap<>();

  static {
    YAML_KEYS.put("command", "command");
    YAML_KEYS.put("workdir", "workdir");
    YAML_KEYS.put("envNames", "env");
    YAML_KEYS.put("ready", "ready");
    YAML_KEYS.put("startTimeout", "start-timeout");
    YAML_KEYS.put("responseTimeout", "response-timeout");
    YAML_KEYS.put("idleTimeout", "idle-timeout");
    YAML_KEYS.put("stopSignal", "stop-signal");
    YAML_KEYS.put("stopGrace", "stop-grace");
    YAML_KEYS.put("minRunning", "min-running");
    YAML_KEYS.put("maxQueue", "max-queue");
    YAML_KEYS.put("queueTimeout", "queue-timeout");
    YAML_KEYS.put("onChange", "on-change");
    YAML_KEYS.put("balance", "balance");
  }

  private static void configSection(StringBuilder b, TenantConfig tenant, JsonObject config) {
    Map<String, String> origins = tenant.origins();
    b.append("<section><h2>Config as loaded</h2><p class=\"hint\">Environment values are not shown, only their "
        + "names.</p><div class=\"scroll\"><table class=\"config\" id=\"config\"><thead><tr><th>Key</th><th>Value</th>"
        + "<th>Read from</th></tr></thead><tbody>");
    java.util.Set<String> shown = new java.util.HashSet<>();
    for (Map.Entry<String, String> e : YAML_KEYS.entrySet()) {
      Object value = config.getValue(e.getKey());
      String text = value instanceof JsonArray a ? (e.getKey().equals("command") ? commandLine(a) : joined(a))
          : String.valueOf(value);
      configRow(b, tenant, e.getValue(), text, origins, shown);
    }
    StringBuilder inst = new StringBuilder();
    for (Object o : config.getJsonArray("instances")) {
      JsonObject i = (JsonObject) o;
      inst.append(i.getString("route") == null ? "" : i.getString("route") + ": ").append("port ")
          .append(i.getInteger("port")).append(", weight ").append(i.getInteger("weight"))
          .append(i.getBoolean("disabled") ? ", disabled" : "").append(i.getBoolean("standby") ? ", standby" : "")
          .append('\n');
    }
    configRow(b, tenant, origins.containsKey("tenants." + tenant.name() + ".routes") ? "routes" : "port",
        inst.toString().strip(), origins, shown);
    for (Map.Entry<String, String> e : origins.entrySet()) {
      String key = e.getKey();
      String yaml = key.substring(key.lastIndexOf('.') + 1);
      if (!key.equals("tenants." + tenant.name()) && !shown.contains(yaml)) {
        configRow(b, tenant, yaml, "(as in the file)", origins, shown);
      }
    }
    b.append("</tbody></table></div></section>");
  }

  private static void configRow(StringBuilder b, TenantConfig tenant, String yaml, String value,
      Map<String, String> origins, java.util.Set<String> shown) {
    shown.add(yaml);
    String own = origins.get("tenants." + tenant.name() + "." + yaml);
    String inherited = origins.get("defaults." + yaml);
    String from = own != null ? own : inherited != null ? inherited + " (defaults)" : "built-in default";
    b.append("<tr><th>").append(esc(yaml)).append("</th><td><code>").append(esc(value)).append("</code></td><td class=\"")
        .append(own != null || inherited != null ? "where" : "where builtin").append("\">").append(esc(from))
        .append("</td></tr>");
  }

  private static String commandLine(JsonArray args) {
    StringBuilder b = new StringBuilder();
    for (Object a : args) {
      String s = String.valueOf(a);
      b.append(b.length() == 0 ? "" : " ").append(s.matches("[A-Za-z0-9_./:=@%+,${}-]+") ? s
          : "'" + s.replace("'", "'\\''") + "'");
    }
    return b.toString();
  }

  private static String joined(JsonArray a) {
    return a.isEmpty() ? "–" : String.join(", ", a.stream().map(String::valueOf).toList());
  }

  // ---- actions -----------------------------------------------------------------------------------

  private void act(RoutingContext ctx) {
    String name = ctx.pathParam("tenant");
    TenantConfig tenant = wakeport.config().tenants().get(name);
    String back = safeNext(ctx.request().getFormAttribute("back"));
    String action = ctx.pathParam("action");
    String route = ctx.pathParam("route");
    if (tenant == null) {
      redirect(ctx, withNotice(back, "error", "no tenant " + name));
      return;
    }
    String what = name + (route == null ? "" : "/" + route);
    actions.perform(tenant, route, action, ctx.request().getFormAttribute("weight"), ctx.get(AdminAuth.PRINCIPAL))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            redirect(ctx, withNotice(back, "ok", what + ": " + action + " done"));
          } else {
            redirect(ctx, withNotice(back, "error", what + ": " + action + " refused: " + ar.cause().getMessage()));
          }
        });
  }

  private static String withNotice(String back, String kind, String text) {
    return back + (back.contains("?") ? "&" : "?") + kind + "=" + url(text);
  }

  private static String notice(RoutingContext ctx) {
    String ok = ctx.request().getParam("ok");
    String error = ctx.request().getParam("error");
    if (error != null) {
      return "<p class=\"notice error\" role=\"alert\">" + esc(error) + "</p>";
    }
    return ok == null ? "" : "<p class=\"notice ok\" role=\"status\">" + esc(ok) + "</p>";
  }

  // ---- config ------------------------------------------------------------------------------------

  private void configPage(RoutingContext ctx) {
    JsonObject summary = configs.summary();
    boolean check = ctx.request().getParam("check") != null;
    Future<JsonObject> checked = check ? configs.check(ctx.vertx()) : Future.succeededFuture(null);
    checked.onComplete(ar -> {
      StringBuilder b = new StringBuilder("<main><div class=\"title\"><h1>Config</h1>").append(notice(ctx))
          .append("</div>");
      b.append("<section class=\"card\"><table class=\"kv\"><tbody>");
      kv(b, "Main file", "<code>" + esc(summary.getString("file")) + "</code>");
      StringBuilder sources = new StringBuilder("<ul class=\"files\">");
      for (Object s : summary.getJsonArray("sources")) {
        sources.append("<li><code>").append(esc(s)).append("</code></li>");
      }
      kv(b, "Files loaded", sources.append("</ul>").toString());
      kv(b, "State directory", "<code>" + esc(summary.getString("stateDir")) + "</code>");
      kv(b, "Front listener", "<code>" + esc(summary.getString("listen")) + "</code>");
      kv(b, "Tenants", String.valueOf(summary.getInteger("tenants")));
      kv(b, "Edits", summary.getBoolean("watching") ? "picked up when the files have been still for a moment"
          : "applied on reload (HUP, the button below, or <code>wakeport reload</code>)");
      b.append("</tbody></table></section>");

      b.append("<section><h2>Last reload</h2>");
      JsonObject last = summary.getJsonObject("lastReload");
      if (last == null) {
        b.append("<p>None since wakeport started.</p>");
      } else {
        boolean applied = last.getBoolean("applied");
        b.append("<p id=\"last-reload\">").append(esc(shortTime(last.getString("at")))).append(": <span class=\"badge ")
            .append(applied ? "st-READY\">applied" : "st-CRASHED\">refused, the running config stays")
            .append("</span></p>");
        problems(b, applied ? last.getJsonArray("warnings") : last.getJsonArray("problems"),
            applied ? "warnings" : "problems");
      }
      b.append("<div class=\"toolbar\"><form method=\"get\" action=\"/console/config\"><input type=\"hidden\" "
          + "name=\"check\" value=\"1\"><button type=\"submit\" id=\"check\">Check the files</button></form>");
      b.append("<form method=\"post\" action=\"/console/reload\">");
      hidden(ctx, b, null);
      b.append("<button type=\"submit\" id=\"reload\" class=\"primary\">Reload</button></form>")
          .append("<span class=\"hint\">Check reads the files as they are now, as <code>wakeport check</code> "
              + "does, and changes nothing; reload applies them whole, or not at all.</span></div></section>");
      if (ar.succeeded() && ar.result() != null) {
        JsonObject result = ar.result();
        b.append("<section id=\"check-result\"><h2>Check</h2><p>").append(result.getBoolean("ok")
            ? "<span class=\"badge st-READY\">ok</span> " + result.getInteger("tenants") + " tenants; a reload would apply"
            : "<span class=\"badge st-CRASHED\">problems</span> a reload would be refused").append("</p>");
        problems(b, result.getJsonArray("problems"), "problems");
        problems(b, result.getJsonArray("warnings"), "warnings");
        b.append("</section>");
      } else if (ar.failed()) {
        b.append("<p class=\"notice error\">The check failed: ").append(esc(ar.cause())).append("</p>");
      }
      b.append("<section><h2>Warnings of the running config</h2>");
      JsonArray warnings = summary.getJsonArray("warnings");
      if (warnings.isEmpty()) {
        b.append("<p>None.</p>");
      } else {
        problems(b, warnings, "warnings");
      }
      b.append("</section></main>");
      html(ctx, 200, "Config", "config", b.toString());
    });
  }

  private static void kv(StringBuilder b, String key, String valueHtml) {
    b.append("<tr><th>").append(esc(key)).append("</th><td>").append(valueHtml).append("</td></tr>");
  }

  private static void problems(StringBuilder b, JsonArray problems, String what) {
    if (problems == null || problems.isEmpty()) {
      return;
    }
    b.append("<table class=\"problems ").append(what).append("\"><thead><tr><th>File</th><th>Line</th><th>Key</th>")
        .append("<th>").append(what.equals("warnings") ? "Warning" : "Problem").append("</th></tr></thead><tbody>");
    for (Object o : problems) {
      JsonObject p = (JsonObject) o;
      b.append("<tr><td><code>").append(esc(dash(p.getString("file")))).append("</code></td><td class=\"num\">")
          .append(esc(dash(p.getValue("line")))).append("</td><td><code>").append(esc(dash(p.getString("key"))))
          .append("</code></td><td>").append(esc(p.getString("message"))).append("</td></tr>");
    }
    b.append("</tbody></table>");
  }

  private void reload(RoutingContext ctx) {
    configs.reload(ctx.vertx()).onComplete(ar -> {
      if (ar.failed()) {
        redirect(ctx, withNotice("/console/config", "error", "reload failed: " + ar.cause()));
      } else if (ar.result().applied()) {
        redirect(ctx, withNotice("/console/config", "ok", "reloaded: the files now in force"));
      } else {
        redirect(ctx, withNotice("/console/config", "error", "reload refused: " + ar.result().problems().size()
            + " problem(s); the running config stays"));
      }
    });
  }

  // ---- HTML ----------------------------------------------------------------------------------

  private void html(RoutingContext ctx, int status, String title, String nav, String main) {
    StringBuilder b = new StringBuilder(main.length() + 1024);
    b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>").append(esc(title)).append(" · wakeport</title>")
        .append("<link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body>");
    String principal = ctx.get(AdminAuth.PRINCIPAL);
    if (nav != null && principal != null) {
      b.append("<header class=\"top\"><a class=\"brand\" href=\"/console/\"><span class=\"mark\">◐</span> wakeport</a>")
          .append("<nav><a href=\"/console/\"").append(nav.equals("tenants") ? " class=\"current\"" : "")
          .append(">Tenants</a><a href=\"/console/config\"").append(nav.equals("config") ? " class=\"current\"" : "")
          .append(">Config</a></nav><span class=\"live\" id=\"live-status\" title=\"live updates\"></span>")
          .append("<form method=\"post\" action=\"/console/logout\" class=\"logout\">");
      hidden(ctx, b, null);
      b.append("<span class=\"who\">").append(esc(principal.equals("token") ? "token" : principal))
          .append("</span><button type=\"submit\" id=\"logout\">Log out</button></form></header>");
    }
    b.append(main).append(nav == null ? "" : "<script src=\"/console/assets/console.js\"></script>")
        .append("</body></html>\n");
    headers(ctx).setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
        .end(b.toString());
  }

  private static void fragment(RoutingContext ctx, String body) {
    headers(ctx).putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8").end(body);
  }

  private static io.vertx.core.http.HttpServerResponse headers(RoutingContext ctx) {
    return ctx.response().putHeader("Content-Security-Policy", CSP).putHeader("X-Frame-Options", "DENY")
        .putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "same-origin")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
  }

  private static void asset(RoutingContext ctx, String type, String body) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, type).putHeader("X-Content-Type-Options", "nosniff")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(body);
  }

  private static void redirect(RoutingContext ctx, String location) {
    ctx.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, location).end();
  }

  private static String resource(String name) {
    try (InputStream in = Console.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** HTML-escaped text: safe in element content and in quoted attribute values. */
  static String esc(Object value) {
    String s = String.valueOf(value);
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep = switch (c) {
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '&' -> "&amp;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (rep != null && b == null) {
        b = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (b != null) {
        if (rep != null) {
          b.append(rep);
        } else {
          b.append(c);
        }
      }
    }
    return b == null ? s : b.toString();
  }

  private static String url(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dash(Object value) {
    return value == null ? "–" : String.valueOf(value);
  }

  /** {@code 2025-06-02T14:07:33.020Z} as {@code 2025-06-02 14:07:33Z}. */
  private static String shortTime(String iso) {
    if (iso == null) {
      return "–";
    }
    String s = iso.replace('T', ' ');
    int dot = s.indexOf('.');
    return dot > 0 ? s.substring(0, dot) + "Z" : s;
  }

  static String duration(long millis) {
    if (millis < 1000) {
      return millis + " ms";
    }
    long s = millis / 1000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m " + (s % 60) + "s";
    }
    if (s < 86400) {
      return (s / 3600) + "h " + (s % 3600 / 60) + "m";
    }
    return (s / 86400) + "d " + (s % 86400 / 3600) + "h";
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
  }

  /** A percentile's bin bound: "≤ 5 ms", "> 60 s" past the last bin, "–" without requests. */
  private static String latency(Double millis) {
    if (millis == null) {
      return "–";
    }
    if (millis < 0) {
      return "> 60 s";
    }
    return millis >= 1000 ? "≤ " + Math.round(millis / 1000) + " s" : "≤ " + Math.round(millis) + " ms";
  }
}
