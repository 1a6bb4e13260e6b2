package io.wakeport.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.wakeport.cluster.Cluster;

/**
 * {@code GET /api/cluster} (nodes, placements, forwarded counts; {@code {"enabled": false}} on a
 * single machine), {@code POST /api/cluster/drain} (this node places nothing new) and
 * {@code POST /api/cluster/undrain} (it places again).
 */
public final class ClusterApi implements AdminServer.AdminRoutes {

  private final Cluster cluster;

  public ClusterApi(Cluster cluster) {
    this.cluster = cluster;
  }

  @Override
  public void mount(Router router) {
    router.get("/api/cluster").handler(ctx -> cluster.describe().onComplete(ar -> {
      if (ar.succeeded()) {
        Replies.json(ctx, 200, ar.result());
      } else {
        Replies.json(ctx, 500, new JsonObject().put("error", ar.cause().getMessage()));
      }
    }));
    router.post("/api/cluster/drain").handler(ctx -> draining(ctx, true));
    router.post("/api/cluster/undrain").handler(ctx -> draining(ctx, false));
  }

  private void draining(io.vertx.ext.web.RoutingContext ctx, boolean drain) {
    if (!cluster.enabled()) {
      Replies.json(ctx, 409, new JsonObject().put("error", "not a cluster node: the config has no cluster section"));
      return;
    }
    (drain ? cluster.drain() : cluster.undrain()).onComplete(ar -> {
      if (ar.succeeded()) {
        Replies.json(ctx, 200, new JsonObject().put("node", cluster.node()).put("draining", drain));
      } else {
        Replies.json(ctx, 500, new JsonObject().put("error", ar.cause().getMessage()));
      }
    });
  }
}
