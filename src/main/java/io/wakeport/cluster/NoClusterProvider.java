package io.wakeport.cluster;

import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;

/**
 * A Vert.x service provider that does nothing. vertx-hazelcast registers its cluster manager as
 * a {@link VertxServiceProvider}, which Vert.x would instantiate for every Vert.x it builds; a
 * single machine builds its Vert.x through {@link SingleMachineLoader}, which hides that entry,
 * and this one keeps the list Vert.x finds non-empty (an empty one makes it look again, unfiltered).
 */
public final class NoClusterProvider implements VertxServiceProvider {
  @Override
  public void init(VertxBootstrap builder) {}
}
