package io.wakeport.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.ResourceUsage;
import io.wakeport.routing.MemberMode;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.InstanceView;
import io.wakeport.supervision.Supervisor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /api/tenants}: every tenant's instances as the supervisor knows them, one tenant with
 * its config, resource use and log, and the actions: start, stop, restart, drain, disable,
 * standby, enable and weight, on a whole tenant or one route. Reaches the supervisor only through
 * its public facade.
 */
final class TenantApi {

  private final Wakeport wakeport;
  private final Supervisor supervisor;
  private final TenantActions actions;

  TenantApi(Wakeport wakeport) {
    this.wakeport = wakeport;
    this.supervisor = wakeport.supervisor();
    this.actions = new TenantActions(supervisor, wakeport.cluster());
  }

  void mount(Router router) {
    router.get("/api/tenants").handler(this::list);
    router.get("/api/tenants/:tenant").handler(this::one);
    router.get("/api/tenants/:tenant/logs").handler(this::logs);
    router.post("/api/tenants/:tenant/:action").handler(this::act);
    router.post("/api/tenants/:tenant/routes/:route/:action").handler(this::act);
  }

  private void list(RoutingContext ctx) {
    WakeportConfig config = wakeport.config();
    supervisor.views().onComplete(ar -> {
      Map<String, InstanceView> views = byKey(ar.result());
      JsonArray tenants = new JsonArray();
      for (TenantConfig tenant : config.tenants().values()) {
        tenants.add(tenantJson(tenant, views, ar.result(), wakeport.registrations()));
      }
      Replies.json(ctx, 200, new JsonObject().put("tenants", tenants));
    });
  }

  private void one(RoutingContext ctx) {
    TenantConfig tenant = tenant(ctx);
    if (tenant == null) {
      return;
    }
    detail(tenant).onComplete(ar -> Replies.json(ctx, 200, ar.result()));
  }

  /** One tenant as {@code GET /api/tenants/{tenant}} shows it: with its config, and each instance's usage and log. */
  Future<JsonObject> detail(TenantConfig tenant) {
    return supervisor.views().compose(all -> {
      JsonObject json = tenantJson(tenant, byKey(all), all, wakeport.registrations());
      json.put("config", ConfigJson.tenant(tenant));
      List<Future<ResourceUsage>> usages = new ArrayList<>();
      for (InstanceConfig ic : tenant.isTemplate() ? List.<InstanceConfig>of() : tenant.instances()) {
        Instance instance = supervisor.instance(tenant.stateName(), ic.route());
        usages.add(instance == null ? Future.succeededFuture(ResourceUsage.UNKNOWN) : supervisor.usage(instance));
      }
      return Future.join(usages).transform(done -> {
        JsonArray instances = json.getJsonArray("instances");
        for (int i = 0; i < usages.size(); i++) {
          ResourceUsage usage = usages.get(i).succeeded() ? usages.get(i).result() : ResourceUsage.UNKNOWN;
          instances.getJsonObject(i).put("usage", usageJson(usage));
          instances.getJsonObject(i).put("log", wakeport.config().logDir()
              .resolve(tenant.fileStem(tenant.instances().get(i).route()) + ".log").toString());
        }
        return Future.succeededFuture(json);
      });
    });
  }

  static JsonObject usageJson(ResourceUsage usage) {
    return usage.memoryBytes() < 0 ? null : new JsonObject()
        .put("memoryBytes", usage.memoryBytes()).put("cpuSeconds", usage.cpuNanos() / 1e9)
        .put("processes", usage.processes()).put("oomKills", usage.oomKills());
  }

  private void logs(RoutingContext ctx) {
    TenantConfig tenant = tenant(ctx);
    if (tenant == null) {
      return;
    }
    String route = ctx.request().getParam("route");
    InstanceConfig ic = route != null ? tenant.instance(route)
        : tenant.instances().isEmpty() ? null : tenant.instances().get(0);
    if (ic == null || tenant.isTemplate()) {
      Replies.error(ctx, 404, "no-such-route", "tenant " + tenant.name() + " has no route " + route);
      return;
    }
    int lines;
    try {
      lines = Math.max(0, Math.min(LogTail.MAX_LINES,
          Integer.parseInt(ctx.request().getParam("lines", String.valueOf(LogTail.DEFAULT_LINES)))));
    } catch (NumberFormatException e) {
      Replies.error(ctx, 400, "bad-request", "lines must be a whole number");
      return;
    }
    boolean follow = "true".equals(ctx.request().getParam("follow")) || "1".equals(ctx.request().getParam("follow"));
    LogTail.send(ctx, wakeport.config().logDir().resolve(tenant.fileStem(ic.route()) + ".log"), lines, follow);
  }

  private void act(RoutingContext ctx) {
    TenantConfig tenant = tenant(ctx);
    if (tenant == null) {
      return;
    }
    String action = ctx.pathParam("action");
    actions.perform(tenant, ctx.pathParam("route"), action, weight(ctx), ctx.get(AdminAuth.PRINCIPAL))
        .onComplete(ar -> {
          if (ar.failed()) {
            refused(ctx, ar.cause());
            return;
          }
          supervisor.views().onComplete(v -> Replies.json(ctx, 200,
              tenantJson(tenant, byKey(v.result()), v.result(), wakeport.registrations()).put("action", action)));
        });
  }

  /** An action's refusal as the API answers it. */
  static void refused(RoutingContext ctx, Throwable cause) {
    if (cause instanceof TenantActions.Refused r) {
      if (r.retryAfterSeconds >= 0) {
        ctx.response().putHeader("Retry-After", String.valueOf(r.retryAfterSeconds));
      }
      Replies.error(ctx, r.status, r.code, r.getMessage());
    } else {
      Replies.error(ctx, 500, "failed", String.valueOf(cause));
    }
  }

  /** The weight as sent: {@code {"weight": N}}, or a {@code weight} parameter (a form field too). */
  private static Object weight(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body != null) {
        return body.getValue("weight");
      }
    } catch (RuntimeException e) {
      return ctx.body().asString(); // not JSON: refused as it is
    }
    return ctx.request().getParam("weight");
  }

  private TenantConfig tenant(RoutingContext ctx) {
    String name = ctx.pathParam("tenant");
    TenantConfig tenant = wakeport.config().tenants().get(name);
    if (tenant == null) {
      Replies.error(ctx, 404, "no-such-tenant", "no tenant " + name + " in " + wakeport.config().file());
    }
    return tenant;
  }

  static Map<String, InstanceView> byKey(List<InstanceView> views) {
    Map<String, InstanceView> map = new HashMap<>();
    for (InstanceView view : views) {
      map.put(view.stateName() + "/" + view.route(), view);
    }
    return map;
  }

  /** A tenant and its instances; a template lists the tenants made from it so far. */
  static JsonObject tenantJson(TenantConfig tenant, Map<String, InstanceView> views, List<InstanceView> all,
      io.wakeport.registration.Registrations registrations) {
    JsonObject json = new JsonObject().put("name", tenant.name()).put("hosts", new JsonArray(tenant.hosts()))
        .put("paths", new JsonArray(tenant.paths()));
    JsonArray instances = new JsonArray();
    if (tenant.isTemplate()) {
      json.put("template", true);
      for (InstanceView view : all) {
        if (view.stateName().startsWith(tenant.name() + "+")) {
          instances.add(instanceJson(view, null));
        }
      }
    } else {
      for (InstanceConfig ic : tenant.instances()) {
        InstanceView view = views.get(tenant.stateName() + "/" + ic.route());
        instances.add(instanceJson(view != null ? view : stopped(tenant, ic), ic,
            registrations.find(tenant.name(), ic.route())));
      }
    }
    String state = instances.stream().map(o -> ((JsonObject) o).getString("state"))
        .reduce((a, b) -> a.equals(b) ? a : "MIXED").orElse(InstanceState.STOPPED.name());
    return json.put("state", state).put("instances", instances);
  }

  static InstanceView stopped(TenantConfig tenant, InstanceConfig ic) {
    return new InstanceView(tenant.name(), tenant.stateName(), ic.route(), InstanceState.STOPPED, -1, ic.port(), 0,
        null, 0, 0, 0, 0, -1, 0, 0, false, false, List.of(), io.wakeport.supervision.RecentTraffic.Minute.NONE);
  }

  static JsonObject instanceJson(InstanceView v, InstanceConfig ic) {
    return instanceJson(v, ic, null);
  }

  /** As the API shows an instance; {@code registration} set for a member that registered itself. */
  static JsonObject instanceJson(InstanceView v, InstanceConfig ic, io.wakeport.registration.Registration registration) {
    long now = System.currentTimeMillis();
    JsonObject json = new JsonObject()
        .put("tenant", v.stateName()).put("route", v.route().isEmpty() ? null : v.route())
        .put("state", v.state().name()).put("pid", v.pid() < 0 ? null : v.pid()).put("port", v.port())
        .put("inFlight", v.inFlight())
        .put("requestsPerMinute", v.lastMinute().requests()).put("errorsPerMinute", v.lastMinute().errors())
        .put("p50Millis", percentile(v.lastMinute().p50Millis()))
        .put("p99Millis", percentile(v.lastMinute().p99Millis()))
        .put("uptimeMillis", v.readySinceMillis() == 0 ? null : now - v.readySinceMillis())
        .put("lastActivity", time(v.lastActivityMillis()))
        .put("lastColdStart", v.lastStartMillis() == 0 ? null
            : new JsonObject().put("at", time(v.lastStartMillis())).put("millis", v.lastStartDuration()))
        .put("backoffRemainingMillis", v.backoffRemaining())
        .put("oomKills", v.oomKills()).put("keepWarm", v.keepWarm()).put("retired", v.retired())
        .put("modeOverride", v.mode() == null ? null : v.mode().name().toLowerCase(Locale.ROOT))
        .put("weightOverride", v.weight() == 0 ? null : v.weight());
    if (ic != null && ic.isRemote()) {
      // On another machine: where, and how it is checked (its state is UP or DOWN, its pid null).
      json.put("address", ic.remote().address()).put("check", ic.remote().check().describe());
    }
    if (registration != null) {
      // Apart from the configured: it came through the member API and leaves when its lease runs out.
      json.put("registered", true).put("load", registration.load())
          .put("registeredAt", time(registration.registeredMillis()))
          .put("lastReport", time(registration.lastReportMillis()));
    }
    if (ic != null && !ic.route().isEmpty()) {
      // Only a tenant with several instances is balanced: the mode and weight mean nothing on one.
      MemberMode mode = MemberMode.effective(v.mode(), ic);
      json.put("mode", mode.name().toLowerCase(Locale.ROOT)).put("weight", v.weight() > 0 ? v.weight() : ic.weight());
    }
    JsonArray recent = new JsonArray();
    v.recent().forEach(e -> recent.add(EventStream.json(e)));
    return json.put("recentEvents", recent);
  }

  static String time(long millis) {
    return millis == 0 ? null : Instant.ofEpochMilli(millis).toString();
  }

  /** A latency percentile for JSON: null without requests, -1 for "slower than the last bin" (over 60 s). */
  private static Double percentile(double millis) {
    return millis < 0 ? null : Double.isInfinite(millis) ? -1.0 : millis;
  }
}
