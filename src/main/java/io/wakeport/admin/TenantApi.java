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
import io.wakeport.supervision.StartFailedException;
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

  static final List<String> ACTIONS = List.of("start", "stop", "restart", "drain", "disable", "standby", "enable",
      "weight");

  private final Wakeport wakeport;
  private final Supervisor supervisor;

  TenantApi(Wakeport wakeport) {
    this.wakeport = wakeport;
    this.supervisor = wakeport.supervisor();
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
        tenants.add(tenantJson(tenant, views, ar.result()));
      }
      Replies.json(ctx, 200, new JsonObject().put("tenants", tenants));
    });
  }

  private void one(RoutingContext ctx) {
    TenantConfig tenant = tenant(ctx);
    if (tenant == null) {
      return;
    }
    supervisor.views().onComplete(ar -> {
      JsonObject json = tenantJson(tenant, byKey(ar.result()), ar.result());
      json.put("config", ConfigJson.tenant(tenant));
      List<Future<ResourceUsage>> usages = new ArrayList<>();
      List<Instance> live = new ArrayList<>();
      for (InstanceConfig ic : tenant.isTemplate() ? List.<InstanceConfig>of() : tenant.instances()) {
        Instance instance = supervisor.instance(tenant.stateName(), ic.route());
        live.add(instance);
        usages.add(instance == null ? Future.succeededFuture(ResourceUsage.UNKNOWN) : supervisor.usage(instance));
      }
      Future.join(usages).onComplete(done -> {
        JsonArray instances = json.getJsonArray("instances");
        for (int i = 0; i < usages.size(); i++) {
          ResourceUsage usage = usages.get(i).succeeded() ? usages.get(i).result() : ResourceUsage.UNKNOWN;
          instances.getJsonObject(i).put("usage", usage.memoryBytes() < 0 ? null : new JsonObject()
              .put("memoryBytes", usage.memoryBytes()).put("cpuSeconds", usage.cpuNanos() / 1e9)
              .put("processes", usage.processes()).put("oomKills", usage.oomKills()));
          instances.getJsonObject(i).put("log", wakeport.config().logDir()
              .resolve(tenant.fileStem(tenant.instances().get(i).route()) + ".log").toString());
        }
        Replies.json(ctx, 200, json);
      });
    });
  }

  private void logs(RoutingContext ctx) {
    TenantConfig tenant = tenant(ctx);
    if (tenant == null) {
      return;
    }
    String route = ctx.request().getParam("route");
    InstanceConfig ic = route == null ? tenant.instances().get(0) : tenant.instance(route);
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
    if (!ACTIONS.contains(action)) {
      Replies.error(ctx, 404, "no-such-action", "actions are " + String.join(", ", ACTIONS));
      return;
    }
    if (tenant.isTemplate()) {
      Replies.error(ctx, 409, "template", tenant.name() + " is a template: its tenants are listed, not controlled here");
      return;
    }
    String route = ctx.pathParam("route");
    List<InstanceConfig> targets = route == null ? tenant.instances() : single(tenant.instance(route));
    if (targets.isEmpty()) {
      Replies.error(ctx, 404, "no-such-route", "tenant " + tenant.name() + " has no route " + route);
      return;
    }
    String reason = "admin " + action + " by " + ctx.get(AdminAuth.PRINCIPAL);
    List<Instance> all = supervisor.instancesOf(tenant);
    List<Instance> instances = all.stream().filter(i -> targets.stream().anyMatch(t -> t.route().equals(i.route())))
        .toList();
    Future<?> done;
    switch (action) {
      case "start" -> done = Future.all(targets.stream().map(ic -> supervisor.start(tenant, ic)).toList());
      case "stop" -> done = Future.all(instances.stream().map(i -> supervisor.stop(i, reason)).toList());
      case "restart" -> done = supervisor.restart(tenant, targets, route != null, reason);
      case "weight" -> {
        Integer weight = weight(ctx);
        if (weight == null) {
          return;
        }
        if (!balanced(ctx, tenant)) {
          return;
        }
        instances.forEach(i -> supervisor.weight(i, weight, reason));
        done = Future.succeededFuture();
      }
      default -> {
        if (!balanced(ctx, tenant)) {
          return;
        }
        MemberMode mode = MemberMode.valueOf(switch (action) {
          case "drain" -> "DRAIN";
          case "disable" -> "DISABLED";
          case "standby" -> "STANDBY";
          default -> "ACTIVE";
        });
        instances.forEach(i -> supervisor.mode(i, mode, reason));
        done = Future.succeededFuture();
      }
    }
    done.onComplete(ar -> {
      if (ar.failed()) {
        Throwable cause = ar.cause();
        if (cause instanceof StartFailedException sfe) {
          ctx.response().putHeader("Retry-After", String.valueOf(sfe.retryAfterSeconds()));
          Replies.error(ctx, 503, "start-failed", "tenant " + tenant.name() + " could not be started: "
              + sfe.getMessage() + " (see its log)");
        } else {
          Replies.error(ctx, 500, "failed", action + " failed: " + cause);
        }
        return;
      }
      supervisor.views().onComplete(v -> Replies.json(ctx, 200,
          tenantJson(tenant, byKey(v.result()), v.result()).put("action", action)));
    });
  }

  private static List<InstanceConfig> single(InstanceConfig ic) {
    return ic == null ? List.of() : List.of(ic);
  }

  /** Drain, disable, standby and weight steer the balancer, which only a tenant with several instances has. */
  private static boolean balanced(RoutingContext ctx, TenantConfig tenant) {
    if (tenant.instances().size() > 1) {
      return true;
    }
    Replies.error(ctx, 409, "not-balanced", "tenant " + tenant.name() + " has one instance: drain, disable, standby, "
        + "enable and weight apply to tenants with several routes (stop it instead)");
    return false;
  }

  private static Integer weight(RoutingContext ctx) {
    Object value = null;
    try {
      JsonObject body = ctx.body().asJsonObject();
      value = body == null ? ctx.request().getParam("weight") : body.getValue("weight");
      int weight = value instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(value));
      if (weight >= 0 && weight <= 100) {
        return weight;
      }
    } catch (RuntimeException e) {
      // answered below
    }
    Replies.error(ctx, 400, "bad-request", "weight must be 1 to 100, or 0 for the config's, as {\"weight\": N}"
        + (value == null ? "" : ", not " + value));
    return null;
  }

  private TenantConfig tenant(RoutingContext ctx) {
    String name = ctx.pathParam("tenant");
    TenantConfig tenant = wakeport.config().tenants().get(name);
    if (tenant == null) {
      Replies.error(ctx, 404, "no-such-tenant", "no tenant " + name + " in " + wakeport.config().file());
    }
    return tenant;
  }

  private static Map<String, InstanceView> byKey(List<InstanceView> views) {
    Map<String, InstanceView> map = new HashMap<>();
    for (InstanceView view : views) {
      map.put(view.stateName() + "/" + view.route(), view);
    }
    return map;
  }

  /** A tenant and its instances; a template lists the tenants made from it so far. */
  private static JsonObject tenantJson(TenantConfig tenant, Map<String, InstanceView> views, List<InstanceView> all) {
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
        instances.add(instanceJson(view != null ? view : stopped(tenant, ic), ic));
      }
    }
    String state = instances.stream().map(o -> ((JsonObject) o).getString("state"))
        .reduce((a, b) -> a.equals(b) ? a : "MIXED").orElse(InstanceState.STOPPED.name());
    return json.put("state", state).put("instances", instances);
  }

  private static InstanceView stopped(TenantConfig tenant, InstanceConfig ic) {
    return new InstanceView(tenant.name(), tenant.stateName(), ic.route(), InstanceState.STOPPED, -1, ic.port(), 0,
        null, 0, 0, 0, 0, -1, 0, 0, false, false, List.of());
  }

  private static JsonObject instanceJson(InstanceView v, InstanceConfig ic) {
    long now = System.currentTimeMillis();
    JsonObject json = new JsonObject()
        .put("tenant", v.stateName()).put("route", v.route().isEmpty() ? null : v.route())
        .put("state", v.state().name()).put("pid", v.pid() < 0 ? null : v.pid()).put("port", v.port())
        .put("inFlight", v.inFlight())
        .put("uptimeMillis", v.readySinceMillis() == 0 ? null : now - v.readySinceMillis())
        .put("lastActivity", time(v.lastActivityMillis()))
        .put("lastColdStart", v.lastStartMillis() == 0 ? null
            : new JsonObject().put("at", time(v.lastStartMillis())).put("millis", v.lastStartDuration()))
        .put("backoffRemainingMillis", v.backoffRemaining())
        .put("oomKills", v.oomKills()).put("keepWarm", v.keepWarm()).put("retired", v.retired())
        .put("modeOverride", v.mode() == null ? null : v.mode().name().toLowerCase(Locale.ROOT))
        .put("weightOverride", v.weight() == 0 ? null : v.weight());
    if (ic != null && !ic.route().isEmpty()) {
      // Only a tenant with several instances is balanced: the mode and weight mean nothing on one.
      MemberMode mode = MemberMode.effective(v.mode(), ic);
      json.put("mode", mode.name().toLowerCase(Locale.ROOT)).put("weight", v.weight() > 0 ? v.weight() : ic.weight());
    }
    JsonArray recent = new JsonArray();
    v.recent().forEach(e -> recent.add(EventStream.json(e)));
    return json.put("recentEvents", recent);
  }

  private static String time(long millis) {
    return millis == 0 ? null : Instant.ofEpochMilli(millis).toString();
  }
}
