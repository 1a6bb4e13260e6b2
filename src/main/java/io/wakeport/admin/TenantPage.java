package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.actionPath;
import static io.wakeport.admin.ConsoleHtml.dash;
import static io.wakeport.admin.ConsoleHtml.esc;
import static io.wakeport.admin.ConsoleHtml.fragment;
import static io.wakeport.admin.ConsoleHtml.instanceCells;
import static io.wakeport.admin.ConsoleHtml.notice;
import static io.wakeport.admin.ConsoleHtml.redirect;
import static io.wakeport.admin.ConsoleHtml.shortTime;
import static io.wakeport.admin.ConsoleHtml.url;
import static io.wakeport.admin.ConsoleHtml.withNotice;
import static io.wakeport.admin.LoginPage.safeNext;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.containment.ResourceUsage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The console's page of one tenant: instances, events, log tail and config, and the actions on them. */
final class TenantPage {

  private final Wakeport wakeport;
  private final TenantApi tenants;
  private final TenantActions actions;
  private final ConsoleHtml frame;

  TenantPage(Wakeport wakeport, TenantApi tenants, TenantActions actions, ConsoleHtml frame) {
    this.wakeport = wakeport;
    this.tenants = tenants;
    this.actions = actions;
    this.frame = frame;
  }

  void tenantPage(RoutingContext ctx, boolean fragment) {
    String name = ctx.pathParam("tenant");
    TenantConfig tenant = wakeport.config().tenants().get(name);
    if (tenant == null) {
      frame.html(ctx, 404, "No such tenant", "tenants", "<main><h1>No tenant " + esc(name) + "</h1><p>There is no tenant "
          + esc(name) + " in " + esc(wakeport.config().file()) + ". <a href=\"/console/\">All tenants</a></p></main>");
      return;
    }
    // On a cluster node, which instances other nodes serve (a single machine answers at once, with none).
    Future<JsonObject> described = wakeport.cluster().describe().otherwise(new JsonObject());
    Future.all(tenants.detail(tenant), described).onComplete(ar -> {
      JsonObject json = ar.result().resultAt(0);
      JsonObject cluster = ar.result().resultAt(1);
      String self = "/console/tenants/" + tenant.name();
      String part = instancesSection(ctx, tenant, json, cluster, self);
      String state = state(json, cluster);
      if (fragment) {
        fragment(ctx, part);
        return;
      }
      StringBuilder b = new StringBuilder("<main>");
      b.append("<div class=\"title\"><h1>").append(esc(tenant.name())).append(" <span class=\"badge st-")
          .append(esc(state)).append("\" id=\"tenant-state\">").append(esc(state))
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
          frame.actionButton(ctx, b, self, action, self);
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
      frame.html(ctx, 200, tenant.name(), "tenants", b.toString());
    });
  }

  /** The tenant's state as its rows show it: an instance another node serves counts as {@code ELSEWHERE}. */
  private static String state(JsonObject json, JsonObject cluster) {
    String state = null;
    for (Object o : json.getJsonArray("instances")) {
      JsonObject inst = (JsonObject) o;
      String one = ConsoleHtml.servedBy(cluster, inst) != null ? ConsoleHtml.ELSEWHERE : inst.getString("state");
      state = state == null || state.equals(one) ? one : "MIXED";
    }
    return state == null ? json.getString("state") : state;
  }

  private String instancesSection(RoutingContext ctx, TenantConfig tenant, JsonObject json, JsonObject cluster,
      String self) {
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
          : route));
      if (inst.getBoolean("registered", false)) {
        // Apart from the configured routes: it registered itself and leaves when it stops reporting.
        b.append(" <span class=\"registered\">registered</span><br><small>load ").append(inst.getInteger("load"))
            .append(" · last report ").append(esc(inst.getString("lastReport"))).append("</small>");
      }
      b.append("</td>");
      instanceCells(b, inst, u, true, ConsoleHtml.servedBy(cluster, inst));
      b.append("</tr>");
      if (ic != null) {
        // The actions on a row of their own under the instance, as balancer-manager has them.
        String path = actionPath(tenant, ic);
        b.append("<tr class=\"actions-row\" data-actions=\"").append(esc(tenant.name() + "/" + ic.route()))
            .append("\"><td colspan=\"18\" class=\"actions\"><span class=\"group\">process</span>");
        for (String action : List.of("start", "stop", "restart")) {
          frame.actionButton(ctx, b, path, action, self);
        }
        if (balanced) {
          b.append("<span class=\"group\">new sessions</span>");
          for (String action : List.of("drain", "disable", "standby", "enable")) {
            frame.actionButton(ctx, b, path, action, self);
          }
          b.append("<span class=\"group\">weight</span><form method=\"post\" class=\"weight\" action=\"")
              .append(esc(path + "/weight")).append("\">");
          frame.hidden(ctx, b, self);
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
    if (ic == null && tenant.instances().isEmpty()) {
      b.append("<p class=\"hint\">No member is registered now: registered members keep their logs on their own "
          + "machines.</p></section>");
      return;
    }
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

  void act(RoutingContext ctx) {
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
}
