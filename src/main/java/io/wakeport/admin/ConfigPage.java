package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.dash;
import static io.wakeport.admin.ConsoleHtml.esc;
import static io.wakeport.admin.ConsoleHtml.notice;
import static io.wakeport.admin.ConsoleHtml.redirect;
import static io.wakeport.admin.ConsoleHtml.shortTime;
import static io.wakeport.admin.ConsoleHtml.withNotice;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The console's config page: the files in force, the last reload, check and reload. */
final class ConfigPage {

  private final ConfigApi configs;
  private final ConsoleHtml frame;

  ConfigPage(ConfigApi configs, ConsoleHtml frame) {
    this.configs = configs;
    this.frame = frame;
  }

  void configPage(RoutingContext ctx) {
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
      frame.hidden(ctx, b, null);
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
      certificates(b, configs.certificates());
      b.append("<section><h2>Warnings of the running config</h2>");
      JsonArray warnings = summary.getJsonArray("warnings");
      if (warnings.isEmpty()) {
        b.append("<p>None.</p>");
      } else {
        problems(b, warnings, "warnings");
      }
      b.append("</section></main>");
      frame.html(ctx, 200, "Config", "config", b.toString());
    });
  }

  /** The ACME certificates, one row per name: what the admin API's /api/certificates has. */
  private static void certificates(StringBuilder b, JsonArray list) {
    if (list == null) {
      return;
    }
    b.append("<section><h2>Certificates from ACME</h2>");
    if (list.isEmpty()) {
      b.append("<p>None yet.</p></section>");
      return;
    }
    b.append("<div class=\"scroll\"><table class=\"instances\" id=\"certificates\"><thead><tr><th>Name</th>")
        .append("<th>Not after</th><th>Last renewal</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody>");
    for (Object o : list) {
      JsonObject c = (JsonObject) o;
      b.append("<tr><td><code>").append(esc(c.getString("name"))).append("</code>")
          .append(c.getBoolean("onDemand") ? " <span class=\"hint\">on demand</span>" : "").append("</td><td>")
          .append(esc(dash(c.getString("notAfter") == null ? null : shortTime(c.getString("notAfter")))))
          .append("</td><td>").append(esc(dash(c.getString("lastRenewal") == null ? null : shortTime(c.getString("lastRenewal")))))
          .append("</td><td>").append(esc(dash(c.getString("nextAttempt") == null ? null : shortTime(c.getString("nextAttempt")))))
          .append("</td><td>").append(c.getString("lastError") == null ? "" : "<span class=\"badge st-CRASHED\">"
              + esc(c.getString("lastError")) + "</span>").append("</td></tr>");
    }
    b.append("</tbody></table></div></section>");
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

  void reload(RoutingContext ctx) {
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
}
