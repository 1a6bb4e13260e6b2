package io.wakeport.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A member "on another machine" for tests: a small Vert.x HTTP server on a loopback address
 * (127.0.0.2 is loopback too on Linux), which wakeport never starts. It answers
 * {@code member=<name>} and the Host it was sent; {@code /health} answers {@link #health}. It can
 * be stopped (its port then refuses) and started again on the same port, and serve TLS.
 */
public final class RemoteBackend implements AutoCloseable {

  public final String name;
  public final String host;
  public final int port;
  /** The status {@code /health} answers. */
  public volatile int health = 200;
  /** The status every other path answers. */
  public volatile int status = 200;
  public final AtomicInteger requests = new AtomicInteger();
  public final AtomicInteger healthChecks = new AtomicInteger();
  public final AtomicInteger connections = new AtomicInteger();
  public volatile String lastHost;

  private final Vertx vertx = Vertx.vertx();
  private final Path key;
  private final Path cert;
  private HttpServer server;

  public RemoteBackend(String name, String host) throws Exception {
    this(name, host, null, null);
  }

  /** Over TLS with {@code key} and {@code cert} (PEM) when they are given. */
  public RemoteBackend(String name, String host, Path key, Path cert) throws Exception {
    this.name = name;
    this.host = host;
    this.key = key;
    this.cert = cert;
    this.port = freePort(host);
    start();
  }

  private static int freePort(String host) throws Exception {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return socket.getLocalPort();
    }
  }

  /** {@code host:port}, as a route's address. */
  public String address() {
    return host + ":" + port;
  }

  public synchronized void start() throws Exception {
    HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port).setReuseAddress(true)
        // Else a connection is handed over only with its first bytes (h2c detection): a TCP check sends none.
        .setHttp2ClearTextEnabled(false);
    if (key != null) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setKeyPath(key.toString()).setCertPath(cert.toString()));
    }
    server = vertx.createHttpServer(options)
        .connectionHandler(c -> connections.incrementAndGet())
        .webSocketHandler(ws -> ws.textMessageHandler(text -> ws.writeTextMessage(name + ": " + text)))
        .requestHandler(request -> {
          if (request.path().equals("/health")) {
            healthChecks.incrementAndGet();
            request.response().setStatusCode(health).end("health");
            return;
          }
          requests.incrementAndGet();
          lastHost = request.getHeader("Host");
          request.response().setStatusCode(status).putHeader("content-type", "text/plain")
              .end("member=" + name + "\nhost=" + lastHost + "\npath=" + request.uri() + "\n");
        });
    server.listen().await(10, TimeUnit.SECONDS);
  }

  /** Closes its listener and connections: as a machine whose server died, its port refuses. */
  public synchronized void stop() throws Exception {
    if (server != null) {
      server.close().await(10, TimeUnit.SECONDS);
      server = null;
    }
  }

  @Override
  public void close() throws Exception {
    stop();
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
