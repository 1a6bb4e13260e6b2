package io.wakeport;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.wakeport.config.WakeportConfig;
import io.wakeport.proxying.FrontServer;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.Supervisor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running wakeport: the front server, the routing table it reads and the supervisor it asks. */
public final class Wakeport implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Wakeport.class);

  private final Vertx vertx;
  private final Supervisor supervisor;
  private final AtomicReference<RoutingTable> routing;
  private final WakeportConfig config;

  private Wakeport(Vertx vertx, Supervisor supervisor, AtomicReference<RoutingTable> routing, WakeportConfig config) {
    this.vertx = vertx;
    this.supervisor = supervisor;
    this.routing = routing;
    this.config = config;
  }

  /** Starts serving {@code config}; blocks until the front port is bound. */
  public static Wakeport start(WakeportConfig config) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, config.proxy().eventLoops() + 1)));
    try {
      Supervisor supervisor = new Supervisor(vertx, config);
      supervisor.start(config).await(60, TimeUnit.SECONDS);
      AtomicReference<RoutingTable> routing = new AtomicReference<>(new RoutingTable(config));
      vertx.deployVerticle(
              () -> new FrontServer(config.listenHost(), config.listenPort(), config.proxy(), routing::get, supervisor),
              new DeploymentOptions().setInstances(config.proxy().eventLoops()))
          .await(30, TimeUnit.SECONDS);
      log.info("wakeport listening on {}:{} with {} tenants (config {})", config.listenHost(), config.listenPort(),
          config.tenants().size(), config.file());
      return new Wakeport(vertx, supervisor, routing, config);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  public WakeportConfig config() {
    return config;
  }

  /**
   * Stops every backend wakeport started (unless the config says {@code on-exit: keep}: then they
   * keep running and the next wakeport adopts them), then the server.
   */
  @Override
  public void close() throws Exception {
    try {
      if (config.supervisor().keepOnExit()) {
        log.info("on-exit: keep: leaving backends running for the next wakeport to adopt");
      } else {
        supervisor.stopAll("wakeport is shutting down").await(60, TimeUnit.SECONDS);
      }
    } finally {
      supervisor.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
