package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.actionPath;
import static io.wakeport.admin.ConsoleHtml.dash;
import static io.wakeport.admin.ConsoleHtml.esc;
import static io.wakeport.admin.ConsoleHtml.fragment;
import static io.wakeport.admin.ConsoleHtml.instanceCells;
import static io.wakeport.admin.ConsoleHtml.notice;
import static io.wakeport.admin.ConsoleHtml.url;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.ResourceUsage;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceView;
import io.wakeport.supervision.Supervisor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The console's tenant list: every instance, filtered, sorted and paged. */
final class TenantListPage {

  static final int DEFAULT_PAGE_SIZE = 50;
  static final int MAX_PAGE_SIZE = 500;
  static final List<String> STATES = java.util.Arrays.stream(io.wakeport.supervision.InstanceState.values())
      .map(Enum::name).toList();
  private static final List<String> SORTS = List.of("name", "state", "pid", "port", "uptime", "inflight", "coldstart",
      "activity");

  private final Wakeport wakeport;
  private final Supervisor supervisor;
  private final ConsoleHtml frame;

  TenantListPage(Wakeport wakeport, ConsoleHtml frame) {
    this.wakeport = wakeport;
    this.supervisor = wakeport.supervisor();
    this.frame = frame;
  }

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

  void list(RoutingContext ctx, boolean fragment) {
    WakeportConfig config = wakeport.config();
    ListQuery query = ListQuery.of(ctx);
    supervisor.views().onComplete(ar -> {
      List<Row> rows = rows(config, ar.result(), query);
      int pages = Math.max(1, (rows.size() + query.size() - 1) / query.size());
      int page = Math.min(query.page(), pages);
      int from = (page - 1) * query.size();
      List<Row> slice = rows.subList(Math.min(from, rows.size()), Math.min(from + query.size(), rows.size()));
      // On a cluster node, which instances other nodes serve (a single machine answers at once, with none).
      Future.all(usages(slice), wakeport.cluster().describe().otherwise(new JsonObject())).onComplete(u -> {
        String body = listSection(ctx, config, query, rows.size(), page, pages, from, slice, u.result().resultAt(0),
            u.result().resultAt(1));
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
        frame.html(ctx, 200, "Tenants", "tenants", b.toString());
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
      int pages, int from, List<Row> slice, List<ResourceUsage> usages, JsonObject cluster) {
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
      JsonObject json = TenantApi.instanceJson(row.view(), row.config(), row.config() == null ? null
          : wakeport.registrations().find(row.tenant().name(), row.config().route()));
      b.append("<tr data-instance=\"").append(esc(row.name() + "/" + row.view().route())).append("\">");
      b.append("<td class=\"name\"><a href=\"/console/tenants/").append(esc(row.tenant().name())).append("\">")
          .append(esc(row.name())).append("</a></td>");
      b.append("<td>").append(esc(dash(json.getString("route"))));
      if (json.getBoolean("registered", false)) {
        b.append(" <span class=\"registered\" title=\"registered itself; load ").append(json.getInteger("load"))
            .append(", last report ").append(esc(json.getString("lastReport"))).append("\">registered</span>");
      }
      b.append("</td>");
      instanceCells(b, json, usages.get(i), false, ConsoleHtml.servedBy(cluster, json));
      b.append("<td class=\"actions\">");
      if (row.config() != null) {
        String path = actionPath(row.tenant(), row.config());
        for (String action : List.of("start", "stop", "restart")) {
          frame.actionButton(ctx, b, path, action, back);
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
}
