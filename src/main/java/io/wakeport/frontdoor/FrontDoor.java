package io.wakeport.frontdoor;

import io.netty.channel.Channel;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.wakeport.config.ClientLimits;
import io.wakeport.metrics.Metrics;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every front connection passes before a request of it reaches the proxy: the connection
 * caps, the guard on its head and keep-alive time, and the screen on each request head. Shared by
 * the front server's event loops.
 */
public final class FrontDoor {

  private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);

  private final ClientLimits limits;
  private final ConnectionLimits connections;
  private final RequestScreen screen;
  private final LimitLog limitLog = new LimitLog();
  private final Metrics metrics;

  public FrontDoor(ClientLimits limits) {
    this(limits, Metrics.off());
  }

  /** Counts refused connections in {@code metrics}. */
  public FrontDoor(ClientLimits limits, Metrics metrics) {
    this.metrics = metrics;
    this.limits = limits;
    int total = limits.effectiveMaxConnections(fdLimit());
    this.connections = new ConnectionLimits(total, limits.effectiveMaxConnectionsPerClient(total));
    this.screen = new RequestScreen(limits);
  }

  /** The process's file descriptor limit, or a conservative guess where the JVM cannot tell. */
  public static long fdLimit() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return unix.getMaxFileDescriptorCount();
    }
    return 1024;
  }

  public int maxConnections() {
    return connections.maxTotal();
  }

  public int maxConnectionsPerClient() {
    return connections.maxPerClient();
  }

  /** Front connections open now, across every event loop. */
  public int openConnections() {
    return connections.open();
  }

  public LimitLog limitLog() {
    return limitLog;
  }

  /**
   * A new front connection: counted, or closed at once when a cap is reached; guarded when it
   * stays. {@code channel} is null where the connection exposes none (then only the caps apply).
   */
  public void connected(HttpConnection connection, Channel channel, HttpServerOptions options) {
    InetAddress client = addressOf(connection.remoteAddress());
    ConnectionLimits.Refusal refusal = connections.admit(client);
    if (refusal != null) {
      String cause = refusal == ConnectionLimits.Refusal.TOTAL ? "max-connections" : "max-connections-per-client";
      metrics.connectionRefused(cause);
      limitLog.hit(cause, "refused a connection from " + (client == null ? "?" : client.getHostAddress()) + " ("
              + (refusal == ConnectionLimits.Refusal.TOTAL ? connections.maxTotal() + " open in all"
              : connections.maxPerClient() + " open from that address") + ")");
      connection.close();
      return;
    }
    connection.closeHandler(v -> connections.closed(client));
    // A client that resets its connection is not an error of wakeport's (Vert.x logs these at ERROR).
    connection.exceptionHandler(failure -> log.debug("front connection from {}: {}", client, failure.toString()));
    if (channel != null) {
      ConnectionGuard.install(channel, new ConnectionGuard.Timeouts(nanos(limits.headerTimeout()),
          nanos(limits.keepAliveTimeout()), nanos(limits.sendTimeout())), limitLog, options);
    }
  }

  private static long nanos(java.time.Duration duration) {
    return TimeUnit.MILLISECONDS.toNanos(duration.toMillis());
  }

  /** Null when the request may go on; else the answer it gets (and its connection is closed). */
  public RequestScreen.Rejection screen(HttpServerRequest request) {
    RequestScreen.Rejection rejection = screen.check(request);
    if (rejection != null) {
      String cause = rejection.status() == 431 ? "max-header-line" : rejection.status() == 413 ? "max-request-body"
          : "bad-request";
      limitLog.hit(cause, rejection.status() + " to " + request.remoteAddress() + ": " + rejection.reason());
    }
    return rejection;
  }

  private static InetAddress addressOf(SocketAddress address) {
    if (address == null || address.hostAddress() == null) {
      return null;
    }
    try {
      return InetAddress.getByName(address.hostAddress()); // a literal address: no lookup
    } catch (UnknownHostException e) {
      log.debug("unparseable client address {}", address);
      return null;
    }
  }
}
