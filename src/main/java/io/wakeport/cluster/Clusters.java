package io.wakeport.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.wakeport.config.ClusterSettings;

/**
 * Starts Vert.x for a node: plain, with {@link Cluster#SINGLE}, without a {@code cluster:} section
 * (no Hazelcast class is loaded then); clustered through Hazelcast with one.
 */
public final class Clusters {

  /** A started Vert.x and the cluster it belongs to. */
  public record Started(Vertx vertx, Cluster cluster) {}

  private Clusters() {}

  /**
   * @param maxRunning this node's {@code max-running}, what placement weighs it by
   */
  public static Started start(ClusterSettings settings, VertxOptions options, int maxRunning) {
    if (settings == null) {
      return new Started(SingleMachineLoader.with(() -> Vertx.vertx(options)), Cluster.SINGLE);
    }
    return HazelcastCluster.start(settings, options, maxRunning);
  }
}
