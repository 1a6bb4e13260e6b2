package io.wakeport.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.wakeport.cluster.Cluster;

/**
 * {@code GET /api/cluster} (nodes, placements, forwarded counts; {@code {"enabled": false}} on a
 * single machine) and {@code POST /api/cluster/drain} (this node places nothing new).
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
    router.post("/api/cluster/drain").handler(ctx -> {
      if (!cluster.enabled()) {
        Replies.json(ctx, 409, new JsonObject().put("error", "not a cluster node: the config has no cluster section"));
        return;
      }
      cluster.drain().onComplete(ar -> {
        if (ar.succeeded()) {
          Replies.json(ctx, 200, new JsonObject().put("node", cluster.node()).put("draining", true));
        } else {
          Replies.json(ctx, 500, new JsonObject().put("error", ar.cause().getMessage()));
        }
      });
    });
  }
}
