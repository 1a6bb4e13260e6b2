package io.wakeport.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.ReloadOutcome;
import io.wakeport.config.WakeportConfig;
import java.time.Instant;
import java.util.List;

/**
 * {@code /api/config}: the files in use and how the last reload went; {@code /api/config/check}
 * reads the files as {@code wakeport check} does, changing nothing; {@code POST /api/reload}
 * applies them as a HUP does. File reads and the reload run on a worker thread.
 */
final class ConfigApi {

  private final Wakeport wakeport;

  ConfigApi(Wakeport wakeport) {
    this.wakeport = wakeport;
  }

  /** The certificates ACME keeps, as {@code GET /api/certificates} lists them; null without {@code https.acme}. */
  io.vertx.core.json.JsonArray certificates() {
    if (wakeport.acme() == null) {
      return null;
    }
    io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
    wakeport.acme().statuses().forEach(s -> list.add(CertificateApi.json(s)));
    return list;
  }

  void mount(Router router) {
    router.get("/api/config").handler(this::show);
    router.get("/api/config/check").handler(this::check);
    router.post("/api/reload").handler(this::reload);
  }

  private void show(RoutingContext ctx) {
    Replies.json(ctx, 200, summary());
  }

  /** The files in use, warnings and the last reload, as {@code GET /api/config} shows them. */
  JsonObject summary() {
    WakeportConfig config = wakeport.config();
    JsonArray sources = new JsonArray();
    config.sources().forEach(p -> sources.add(p.toString()));
    return new JsonObject().put("file", config.file().toString()).put("sources", sources)
        .put("stateDir", config.stateDir().toString())
        .put("listen", config.listenHost() + ":" + config.listenPort())
        .put("tenants", config.tenants().size())
        .put("warnings", ConfigJson.problems(config.warnings()))
        .put("lastReload", outcome(wakeport.lastReload()))
        .put("watching", wakeport.watching());
  }

  private void check(RoutingContext ctx) {
    check(ctx.vertx()).onComplete(ar -> {
      if (ar.failed()) {
        Replies.error(ctx, 500, "check-failed", String.valueOf(ar.cause()));
      } else {
        Replies.json(ctx, 200, ar.result());
      }
    });
  }

  /** Reads the files now, as {@code wakeport check} does, on a worker thread. */
  Future<JsonObject> check(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      try {
        WakeportConfig checked = ConfigLoader.check(wakeport.config().file());
        java.util.List<io.wakeport.config.ConfigProblem> commands =
            io.wakeport.config.CommandCheck.problems(checked, System.getenv("PATH"));
        return new JsonObject().put("ok", commands.isEmpty()).put("tenants", checked.tenants().size())
            .put("problems", ConfigJson.problems(commands)).put("warnings", ConfigJson.problems(checked.warnings()));
      } catch (ConfigException e) {
        return new JsonObject().put("ok", false).put("problems", ConfigJson.problems(e.problems()))
            .put("warnings", new JsonArray());
      }
    }, false);
  }

  /** 200 when applied, 409 when the files have problems (the running config stays), with the outcome. */
  private void reload(RoutingContext ctx) {
    reload(ctx.vertx()).onComplete(ar -> {
      if (ar.failed()) {
        Replies.error(ctx, 500, "reload-failed", String.valueOf(ar.cause()));
      } else {
        Replies.json(ctx, ar.result().applied() ? 200 : 409, outcome(ar.result()));
      }
    });
  }

  /** Applies the files now, as a HUP does, on a worker thread. */
  Future<ReloadOutcome> reload(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      wakeport.reload();
      return wakeport.lastReload();
    }, false);
  }

  static JsonObject outcome(ReloadOutcome outcome) {
    if (outcome.atMillis() == 0) {
      return null;
    }
    return new JsonObject().put("at", Instant.ofEpochMilli(outcome.atMillis()).toString())
        .put("applied", outcome.applied())
        .put(outcome.applied() ? "warnings" : "problems", ConfigJson.problems(List.copyOf(outcome.problems())));
  }
}
