package io.wakeport.admin;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.containment.ResourceUsage;
import io.wakeport.supervision.InstanceState;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/** The shared page frame, security headers, forms, instance cells, escaping and formatting of the console. */
final class ConsoleHtml {

  /** No inline script or style, nothing from another origin, no framing. */
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  /** What an instance stopped here shows when another cluster node serves it. */
  static final String ELSEWHERE = "ELSEWHERE";

  private final AdminAuth auth;
  private final BooleanSupplier clustered;

  /**
   * @param clustered whether this wakeport is a cluster node (the cluster page is linked then)
   */
  ConsoleHtml(AdminAuth auth, BooleanSupplier clustered) {
    this.auth = auth;
    this.clustered = clustered;
  }

  /**
   * The cells every instance row has, list and tenant page alike, from the API's instance JSON.
   *
   * @param servedBy the node that serves the instance when another one does ({@link #servedBy}), else null
   */
  static void instanceCells(StringBuilder b, JsonObject json, ResourceUsage usage, boolean detail, String servedBy) {
    String state = servedBy != null ? ELSEWHERE : json.getString("state");
    b.append("<td class=\"state\"><span class=\"badge st-").append(esc(state)).append("\">").append(esc(state))
        .append("</span>");
    if (servedBy != null) {
      b.append("<br><small class=\"served-by\">served by node ").append(esc(servedBy)).append("</small>");
    }
    b.append("</td>");
    b.append("<td class=\"pid num\">").append(esc(dash(json.getValue("pid")))).append("</td>");
    b.append("<td class=\"num\">").append(esc(json.getString("address", String.valueOf(json.getInteger("port")))))
        .append("</td>");
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

  /**
   * The node that serves an instance not running here, when another node holds its placement;
   * null otherwise, and always on a single machine.
   *
   * @param cluster  {@link io.wakeport.cluster.Cluster#describe}'s JSON
   * @param instance the API's instance JSON
   */
  static String servedBy(JsonObject cluster, JsonObject instance) {
    JsonObject placements = cluster.getJsonObject("placements");
    if (placements == null || !InstanceState.STOPPED.name().equals(instance.getString("state"))) {
      return null;
    }
    String route = instance.getString("route");
    Object node = placements.getValue(instance.getString("tenant") + (route == null ? "" : "/" + route));
    return node == null || node.equals(cluster.getString("node")) ? null : String.valueOf(node);
  }

  static String actionPath(TenantConfig tenant, InstanceConfig ic) {
    return "/console/tenants/" + tenant.name() + (ic == null || ic.route().isEmpty() ? "" : "/routes/" + ic.route());
  }

  void actionButton(RoutingContext ctx, StringBuilder b, String path, String action, String back) {
    b.append("<form method=\"post\" action=\"").append(esc(path + "/" + action)).append("\">");
    hidden(ctx, b, back);
    b.append("<button type=\"submit\" class=\"act act-").append(action).append("\" data-action=\"").append(action)
        .append("\">").append(action).append("</button></form>");
  }

  void hidden(RoutingContext ctx, StringBuilder b, String back) {
    b.append("<input type=\"hidden\" name=\"").append(AdminAuth.CSRF_FIELD).append("\" value=\"")
        .append(esc(auth.csrfToken(ctx.get(AdminAuth.PRINCIPAL)))).append("\">");
    if (back != null) {
      b.append("<input type=\"hidden\" name=\"back\" value=\"").append(esc(back)).append("\">");
    }
  }

  static String withNotice(String back, String kind, String text) {
    return back + (back.contains("?") ? "&" : "?") + kind + "=" + url(text);
  }

  static String notice(RoutingContext ctx) {
    String ok = ctx.request().getParam("ok");
    String error = ctx.request().getParam("error");
    if (error != null) {
      return "<p class=\"notice error\" role=\"alert\">" + esc(error) + "</p>";
    }
    return ok == null ? "" : "<p class=\"notice ok\" role=\"status\">" + esc(ok) + "</p>";
  }

  void html(RoutingContext ctx, int status, String title, String nav, String main) {
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
          .append(">Config</a>").append(clustered.getAsBoolean() ? "<a href=\"/console/cluster\""
              + (nav.equals("cluster") ? " class=\"current\"" : "") + ">Cluster</a>" : "")
          .append("</nav><span class=\"live\" id=\"live-status\" title=\"live updates\"></span>")
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

  static void fragment(RoutingContext ctx, String body) {
    headers(ctx).putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8").end(body);
  }

  static io.vertx.core.http.HttpServerResponse headers(RoutingContext ctx) {
    return ctx.response().putHeader("Content-Security-Policy", CSP).putHeader("X-Frame-Options", "DENY")
        .putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "same-origin")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
  }

  static void asset(RoutingContext ctx, String type, String body) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, type).putHeader("X-Content-Type-Options", "nosniff")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(body);
  }

  static void redirect(RoutingContext ctx, String location) {
    ctx.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, location).end();
  }

  static String resource(String name) {
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

  static String url(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String dash(Object value) {
    return value == null ? "–" : String.valueOf(value);
  }

  /** {@code 2025-06-02T14:07:33.020Z} as {@code 2025-06-02 14:07:33Z}. */
  static String shortTime(String iso) {
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
  static String latency(Double millis) {
    if (millis == null) {
      return "–";
    }
    if (millis < 0) {
      return "> 60 s";
    }
    return millis >= 1000 ? "≤ " + Math.round(millis / 1000) + " s" : "≤ " + Math.round(millis) + " ms";
  }
}
