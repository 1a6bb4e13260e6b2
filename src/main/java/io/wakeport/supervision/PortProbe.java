package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;

/**
 * Asks whether something accepts connections on an address, with a real TCP connect. The connect
 * timeout only matters when packets are dropped; a closed loopback port is refused at once, so
 * how often to ask again is the caller's business, not this timeout's.
 */
public final class PortProbe {

  private final NetClient client;

  public PortProbe(Vertx vertx, int connectTimeoutMillis) {
    this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(connectTimeoutMillis));
  }

  /** Succeeds with true when a connection was accepted (and is closed again at once), false otherwise. */
  public Future<Boolean> isOpen(SocketAddress address) {
    return client.connect(address).transform(ar -> {
      if (ar.succeeded()) {
        ar.result().close();
        return Future.succeededFuture(true);
      }
      return Future.succeededFuture(false);
    });
  }

  public Future<Void> close() {
    return client.close();
  }
}
