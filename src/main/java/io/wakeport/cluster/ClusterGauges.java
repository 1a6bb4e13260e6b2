package io.wakeport.cluster;

import io.vertx.core.json.JsonObject;

import io.wakeport.metrics.MetricNames;
import io.wakeport.metrics.Metrics;

/** The cluster's gauges, read from {@link Cluster#describe()} at each scrape. */
final class ClusterGauges {

  private ClusterGauges() {}

  static void register(Cluster cluster, Metrics metrics) {
    metrics.gauge(MetricNames.CLUSTER_NODES, "Cluster nodes alive as this node sees them",
        () -> now(cluster).getJsonArray("nodes").stream().filter(n -> ((JsonObject) n).getBoolean("alive")).count());
    metrics.gauge(MetricNames.CLUSTER_PLACEMENTS, "Instances placed on this node",
        () -> now(cluster).getJsonObject("placements").stream().filter(e -> cluster.node().equals(e.getValue())).count());
    metrics.gauge(MetricNames.CLUSTER_FORWARDED_OUT, "Requests this node forwarded to other nodes since it started",
        () -> now(cluster).getJsonObject("forwarded").getJsonObject("out").stream()
            .mapToLong(e -> ((Number) e.getValue()).longValue()).sum());
    metrics.gauge(MetricNames.CLUSTER_FORWARDED_IN, "Requests this node took from other nodes since it started",
        () -> now(cluster).getJsonObject("forwarded").getLong("in"));
  }

  private static JsonObject now(Cluster cluster) {
    return cluster.describe().result();
  }
}
