package io.wakeport.admin;

import static io.wakeport.admin.ConsoleHtml.dash;
import static io.wakeport.admin.ConsoleHtml.esc;
import static io.wakeport.admin.ConsoleHtml.fragment;
import static io.wakeport.admin.ConsoleHtml.url;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.Wakeport;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The console's cluster page: this node, every node, the placements and the forwarded counts,
 * from what {@code /api/cluster} answers ({@link io.wakeport.cluster.Cluster#describe}). Node
 * names and labels come from the other nodes' configs: every value is escaped. A single machine
 * has no such page (nor a link to it).
 */
final class ClusterPage {

  /** The node keys with a column of their own; any other key a node publishes goes under "Other". */
  private static final Set<String> SHOWN = Set.of("node", "id", "self", "alive", "draining", "forward", "placements",
      "maxRunning", "labels");

  private final Wakeport wakeport;
  private final ConsoleHtml frame;

  ClusterPage(Wakeport wakeport, ConsoleHtml frame) {
    this.wakeport = wakeport;
    this.frame = frame;
  }

  void clusterPage(RoutingContext ctx, boolean fragment) {
    if (!wakeport.cluster().enabled()) {
      frame.html(ctx, 404, "Not a cluster node", "cluster", "<main><h1>Not a cluster node</h1><p>The config has no "
          + "<code>cluster:</code> section. <a href=\"/console/\">All tenants</a></p></main>");
      return;
    }
    wakeport.cluster().describe().onComplete(ar -> {
      if (ar.failed()) {
        frame.html(ctx, 500, "Cluster", "cluster", "<main><h1>Cluster</h1><p class=\"notice error\">"
            + esc(ar.cause().getMessage()) + "</p></main>");
        return;
      }
      String part = panel(ar.result());
      if (fragment) {
        fragment(ctx, part);
        return;
      }
      // Placements and counts change with requests: refreshed on lifecycle events and every few seconds.
      frame.html(ctx, 200, "Cluster", "cluster", "<main><div class=\"title\"><h1>Cluster</h1></div>"
          + "<div id=\"live\" data-refresh=\"/console/cluster/part\" data-events=\"/api/events\">" + part
          + "</div></main>");
    });
  }

  /** The page's live part, from {@code /api/cluster}'s JSON. */
  static String panel(JsonObject json) {
    String self = json.getString("node", "");
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"meta\" id=\"cluster-self\">this node <code>").append(esc(self)).append("</code> ");
    if (json.getBoolean("draining", false)) {
      b.append("<span class=\"badge st-BACKOFF\">draining</span> ");
    }
    b.append("cluster <code>").append(esc(dash(json.getString("cluster")))).append("</code> ")
        .append(esc(dash(json.getValue("members")))).append(" members</p>");

    JsonArray nodes = json.getJsonArray("nodes", new JsonArray());
    boolean labels = false;
    boolean other = false;
    for (Object o : nodes) {
      if (o instanceof JsonObject n) {
        Object l = n.getValue("labels");
        // A node without labels publishes an empty map: the column only when some node has one.
        labels |= l != null && !(l instanceof JsonObject m && m.isEmpty()) && !(l instanceof JsonArray a && a.isEmpty());
        other |= n.fieldNames().stream().anyMatch(k -> !SHOWN.contains(k));
      }
    }
    b.append("<section><h2>Nodes</h2><div class=\"scroll\"><table class=\"instances\" id=\"cluster-nodes\"><thead><tr>")
        .append("<th>Node</th><th>Alive</th><th>Draining</th><th>Forward</th>")
        .append("<th title=\"instances placed on the node against its max-running\">Placed / max</th>")
        .append(labels ? "<th>Labels</th>" : "").append(other ? "<th>Other</th>" : "").append("</tr></thead><tbody>");
    for (Object o : nodes) {
      if (!(o instanceof JsonObject n)) {
        continue;
      }
      String name = String.valueOf(n.getValue("node"));
      boolean alive = n.getBoolean("alive", false);
      b.append("<tr data-node=\"").append(esc(name)).append("\"><td class=\"name\">").append(esc(name))
          .append(n.getBoolean("self", name.equals(self)) ? " <span class=\"registered\">this node</span>" : "")
          .append("</td><td><span class=\"badge ").append(alive ? "st-READY\">alive" : "st-CRASHED\">gone")
          .append("</span></td><td>").append(n.getBoolean("draining", false) ? "<span class=\"badge st-BACKOFF\">"
              + "draining</span>" : "no")
          .append("</td><td><code>").append(esc(dash(n.getValue("forward")))).append("</code>")
          .append("</td><td class=\"num\">").append(esc(dash(n.getValue("placements")))).append(" / ")
          .append(esc(dash(n.getValue("maxRunning")))).append("</td>");
      if (labels) {
        b.append("<td>").append(esc(text(n.getValue("labels")))).append("</td>");
      }
      if (other) {
        Map<String, Object> rest = new TreeMap<>();
        n.forEach(e -> {
          if (!SHOWN.contains(e.getKey())) {
            rest.put(e.getKey(), e.getValue());
          }
        });
        b.append("<td>").append(esc(text(new JsonObject(rest)))).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</tbody></table></div></section>");

    JsonObject placements = json.getJsonObject("placements", new JsonObject());
    b.append("<div class=\"columns\"><section><h2>Placements</h2>");
    if (placements.isEmpty()) {
      b.append("<p class=\"hint\" id=\"placements\">Nothing is placed: instances are placed on their first request.</p>");
    } else {
      b.append("<div class=\"scroll\"><table class=\"instances\" id=\"placements\"><thead><tr><th>Instance</th>")
          .append("<th>Node</th></tr></thead><tbody>");
      new TreeMap<>(placements.getMap()).forEach((key, node) -> {
        String tenant = tenantOf(key);
        b.append("<tr data-placement=\"").append(esc(key)).append("\"><td class=\"name\"><a href=\"/console/tenants/")
            .append(esc(url(tenant))).append("\">").append(esc(key)).append("</a></td><td>").append(esc(node))
            .append(self.equals(node) ? " <span class=\"registered\">here</span>" : "").append("</td></tr>");
      });
      b.append("</tbody></table></div>");
    }
    b.append("</section><section><h2>Forwarded requests</h2>");
    JsonObject forwarded = json.getJsonObject("forwarded", new JsonObject());
    JsonObject out = forwarded.getJsonObject("out", new JsonObject());
    b.append("<table class=\"instances\" id=\"forwarded\"><thead><tr><th>Direction</th><th>Node</th>")
        .append("<th>Requests</th></tr></thead><tbody><tr><td>in</td><td>from any</td><td class=\"num\">")
        .append(esc(dash(forwarded.getValue("in")))).append("</td></tr>");
    new TreeMap<>(out.getMap()).forEach((node, count) -> b.append("<tr><td>out</td><td>").append(esc(node))
        .append("</td><td class=\"num\">").append(esc(dash(count))).append("</td></tr>"));
    b.append("</tbody></table><p class=\"hint\">Since this node started.</p></section></div>");
    return b.toString();
  }

  /** The tenant page an instance key (a tenant's state name, maybe {@code /route}; a template's {@code name+x}) links to. */
  private static String tenantOf(String key) {
    String name = key.contains("/") ? key.substring(0, key.indexOf('/')) : key;
    return name.contains("+") ? name.substring(0, name.indexOf('+')) : name;
  }

  /** A label set as the nodes publish it, whatever its shape: a list, a map, or one value. */
  private static String text(Object value) {
    if (value instanceof JsonArray a) {
      return a.isEmpty() ? "–" : String.join(", ", a.stream().map(String::valueOf).toList());
    }
    if (value instanceof JsonObject o) {
      StringBuilder s = new StringBuilder();
      new TreeMap<>(o.getMap()).forEach((k, v) -> s.append(s.length() == 0 ? "" : ", ").append(k).append('=')
          .append(v));
      return s.length() == 0 ? "–" : s.toString();
    }
    return dash(value);
  }
}
