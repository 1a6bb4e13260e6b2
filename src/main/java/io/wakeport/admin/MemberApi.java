package io.wakeport.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.registration.Registration;
import io.wakeport.registration.RegistrationDesk;
import io.wakeport.registration.RegistrationRefused;
import io.wakeport.registration.Registrations;
import java.util.concurrent.Callable;

/**
 * {@code /api/tenants/{tenant}/members/{route}}: backends that register themselves (PUT), report
 * their load (POST {@code .../load}, which renews the lease) and leave (DELETE), as mod_cluster's
 * nodes do. Allowed by the admin credentials or the tenant's registration secret
 * ({@link AdminAuth}); refused for a tenant without {@code registration:}.
 */
final class MemberApi {

  private final RegistrationDesk desk;

  MemberApi(Wakeport wakeport) {
    this.desk = wakeport.registrationDesk();
  }

  void mount(Router router) {
    router.put("/api/tenants/:tenant/members/:route").handler(this::register);
    router.post("/api/tenants/:tenant/members/:route/load").handler(this::report);
    router.delete("/api/tenants/:tenant/members/:route").handler(this::deregister);
  }

  private void register(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    Object address = body.getValue("address");
    if (!(address instanceof String)) {
      Replies.error(ctx, 400, "bad-request", "send {\"address\": \"10.0.0.7:8080\", \"weight\": 1, \"load\": 1}");
      return;
    }
    Integer weight = whole(ctx, body, "weight", 1);
    Integer load = body.containsKey("load") ? whole(ctx, body, "load", 1) : Integer.valueOf(0);
    if (weight == null || load == null) {
      return;
    }
    String tenant = ctx.pathParam("tenant");
    String route = ctx.pathParam("route");
    answer(ctx, desk, () -> {
      Registrations.Change change = desk.register(tenant, route, (String) address, weight, load == 0 ? null : load);
      return new Reply(change.created() ? 201 : 200, json(change.registration()));
    });
  }

  private void report(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    if (!body.containsKey("load")) {
      Replies.error(ctx, 400, "bad-request", "send {\"load\": N}, N from 1 (idle) to 100 (full)");
      return;
    }
    Integer load = whole(ctx, body, "load", 1);
    if (load == null) {
      return;
    }
    try {
      Replies.json(ctx, 200, json(desk.report(ctx.pathParam("tenant"), ctx.pathParam("route"), load)));
    } catch (RegistrationRefused r) {
      Replies.error(ctx, r.status, r.code, r.getMessage());
    }
  }

  private void deregister(RoutingContext ctx) {
    String tenant = ctx.pathParam("tenant");
    String route = ctx.pathParam("route");
    answer(ctx, desk, () -> new Reply(200, json(desk.deregister(tenant, route)).put("removed", true)));
  }

  private record Reply(int status, JsonObject body) {}

  /** Runs {@code work} on the registration thread (it waits for the supervisor), then answers. */
  private static void answer(RoutingContext ctx, RegistrationDesk desk, Callable<Reply> work) {
    desk.onRegistrationThread(work, ar -> {
      if (ar.succeeded()) {
        Replies.json(ctx, ar.result().status(), ar.result().body());
      } else if (ar.cause() instanceof RegistrationRefused r) {
        if (r.status == 503) {
          ctx.response().putHeader("Retry-After", "1");
        }
        Replies.error(ctx, r.status, r.code, r.getMessage());
      } else {
        Replies.error(ctx, 500, "failed", String.valueOf(ar.cause()));
      }
    });
  }

  /** The JSON object sent, or null after answering 400. */
  private static JsonObject body(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body != null) {
        return body;
      }
    } catch (RuntimeException e) {
      // not JSON, or not an object
    }
    Replies.error(ctx, 400, "bad-request", "the body must be a JSON object");
    return null;
  }

  /** {@code key} as a whole number from 1 to 100 ({@code fallback} when absent), or null after answering 400. */
  private static Integer whole(RoutingContext ctx, JsonObject body, String key, int fallback) {
    Object value = body.getValue(key);
    if (value == null && !body.containsKey(key)) {
      return fallback;
    }
    if (value instanceof Integer i && i >= 1 && i <= 100) {
      return i;
    }
    Replies.error(ctx, 400, "bad-request", key + " must be a whole number from 1 to 100");
    return null;
  }

  /** A registration as the API shows it. */
  static JsonObject json(Registration r) {
    return new JsonObject().put("tenant", r.tenant()).put("route", r.route()).put("address", r.member().address())
        .put("weight", r.weight()).put("load", r.load()).put("registered", true)
        .put("registeredAt", TenantApi.time(r.registeredMillis()))
        .put("lastReport", TenantApi.time(r.lastReportMillis()));
  }
}
