package io.wakeport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * {@code wakeport status}'s cluster section from {@code /api/cluster}'s JSON, labels or not, and
 * a node name with a terminal escape printed harmless. (Against real nodes: {@code cluster.ClusterVisibilityTest}.)
 */
class ClusterSectionTest {

  @Test
  void nodesPlacementsAndForwardedCounts() {
    JsonObject json = new JsonObject().put("enabled", true).put("cluster", "wakeport-0123").put("node", "n1")
        .put("draining", false).put("members", 3)
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("node", "n1").put("forward", "10.0.0.1:9101").put("maxRunning", 200)
                .put("draining", false).put("alive", true).put("placements", 4).put("self", true))
            .add(new JsonObject().put("node", "n2").put("forward", "10.0.0.2:9101").put("maxRunning", 200)
                .put("draining", false).put("alive", true).put("placements", 3).put("self", false))
            .add(new JsonObject().put("node", "n3").put("forward", "10.0.0.3:9101").put("maxRunning", 200)
                .put("draining", true).put("alive", true).put("placements", 1).put("self", false)))
        .put("placements", new JsonObject().put("globex", "n1").put("acme", "n2"))
        .put("forwarded", new JsonObject().put("out", new JsonObject().put("n3", 311).put("n2", 1520)).put("in", 1210));
    // As docs/cluster.md shows it.
    assertEquals("""
        CLUSTER wakeport-0123  this node n1  3 members
        NODE  ALIVE  DRAINING  FORWARD        PLACED/MAX
        n1 *  yes    no        10.0.0.1:9101  4/200
        n2    yes    no        10.0.0.2:9101  3/200
        n3    yes    yes       10.0.0.3:9101  1/200

        PLACED  NODE
        acme    n2
        globex  n1 (here)

        FORWARDED in 1210  out n2 1520, n3 311
        """, AdminCommands.Status.clusterSection(json));
  }

  @Test
  void labelsAndControlCharacters() {
    JsonObject json = new JsonObject().put("cluster", "wakeport-0123").put("node", "n1").put("draining", true)
        .put("members", 2).put("nodes", new JsonArray()
            .add(new JsonObject().put("node", "n1").put("alive", true).put("self", true)
                .put("labels", new JsonArray().add("ssd").add("eu")))
            .add(new JsonObject().put("node", "n2\u001b[2J").put("alive", false)
                .put("labels", new JsonObject().put("zone", "b"))))
        .put("placements", new JsonObject()).put("forwarded", new JsonObject().put("in", 0));
    assertEquals("""
        CLUSTER wakeport-0123  this node n1 (draining)  2 members
        NODE    ALIVE  DRAINING  FORWARD  PLACED/MAX  LABELS
        n1 *    yes    no        -        -/-         ssd,eu
        n2?[2J  no     no        -        -/-         zone=b

        FORWARDED in 0  out -
        """, AdminCommands.Status.clusterSection(json));
  }
}
