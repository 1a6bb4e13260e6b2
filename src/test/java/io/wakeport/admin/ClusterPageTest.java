package io.wakeport.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * The cluster page's rendering of what nodes publish, whatever they publish: labels as a list
 * or a map, keys it does not know, keys missing, markup in any value. (The page against real
 * nodes: {@code cluster.ClusterVisibilityTest}.)
 */
class ClusterPageTest {

  private static JsonObject described(JsonArray nodes) {
    return new JsonObject().put("enabled", true).put("cluster", "wakeport-0123").put("node", "n1")
        .put("draining", true).put("members", 3).put("nodes", nodes)
        .put("placements", new JsonObject().put("acme", "n1").put("shop+eu/web", "n2"))
        .put("forwarded", new JsonObject().put("out", new JsonObject().put("n2", 5)).put("in", 7));
  }

  @Test
  void rendersWhatEachNodePublishesEscaped() {
    String html = ClusterPage.panel(described(new JsonArray()
        .add(new JsonObject().put("node", "n1").put("forward", "127.0.0.1:9101").put("maxRunning", 10)
            .put("draining", true).put("alive", true).put("placements", 1).put("self", true)
            .put("labels", new JsonArray().add("ssd").add("eu")))
        .add(new JsonObject().put("node", "n2").put("alive", false).put("running", 3)
            .put("labels", new JsonObject().put("zone", "<img src=x onerror=alert(1)>")))
        .add(new JsonObject().put("node", "n3"))));
    assertTrue(html.contains("this node <code>n1</code> <span class=\"badge st-BACKOFF\">draining</span>"), html);
    assertTrue(html.contains("<th>Labels</th><th>Other</th>"), html);
    assertTrue(html.contains("<td>ssd, eu</td>"), "labels as a list: " + html);
    assertTrue(html.contains("<td>zone=&lt;img src=x onerror=alert(1)&gt;</td>"), "labels as a map: " + html);
    assertTrue(html.contains("<td>running=3</td>"), "a key the page does not know: " + html);
    assertTrue(html.contains("<tr data-node=\"n3\"><td class=\"name\">n3</td><td><span class=\"badge st-CRASHED\">gone"),
        "a node with nothing but its name: " + html);
    assertTrue(html.contains("<td class=\"num\">1 / 10</td>"), html);
    assertTrue(html.contains("<td class=\"num\">– / –</td>"), html);
    assertTrue(html.contains("<a href=\"/console/tenants/shop\">shop+eu/web</a></td><td>n2</td>"),
        "a template's route links to the template: " + html);
    assertTrue(html.contains("<td>n1 <span class=\"registered\">here</span></td>"), html);
    assertTrue(html.contains("<tr><td>out</td><td>n2</td><td class=\"num\">5</td></tr>"), html);
    assertFalse(html.contains("<img"), html);
  }

  @Test
  void withoutLabelsNoLabelColumn() {
    String html = ClusterPage.panel(described(new JsonArray().add(new JsonObject().put("node", "n1")
        .put("id", "8c1e").put("forward", "127.0.0.1:9101").put("maxRunning", 10).put("draining", false)
        .put("alive", true).put("placements", 0).put("self", true))));
    assertFalse(html.contains("<th>Labels</th>"), html);
    assertFalse(html.contains("<th>Other</th>"), html);
    assertEquals(1, html.split("<tr data-node=", -1).length - 1);
  }
}
