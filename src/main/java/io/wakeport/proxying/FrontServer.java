package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;
import io.wakeport.config.ProxySettings;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.Supervisor;
import java.util.function.Supplier;

/**
 * The public side: one instance per event loop, each with its own backend client and pool so a
 * request and its backend connection stay on one thread.
 */
public final class FrontServer extends VerticleBase {

  private final String host;
  private final int port;
  private final ProxySettings settings;
  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  private HttpServer server;

  public FrontServer(String host, int port, ProxySettings settings, Supplier<RoutingTable> routing, Supervisor supervisor) {
    this.host = host;
    this.port = port;
    this.settings = settings;
    this.routing = routing;
    this.supervisor = supervisor;
  }

  @Override
  public Future<?> start() {
    HttpClient client = vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setKeepAlive(true)
            .setConnectTimeout((int) settings.connectTimeout().toMillis()))
        // vertx-http-proxy's default pool is 5 connections per origin: far too few for a busy tenant.
        .with(new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerBackend()))
        .build();
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client)
        .origin(new BackendOrigin(settings.connectTimeout().toMillis(), settings.preserveHost()))
        .addInterceptor(new TenantDispatch(routing, supervisor, settings.trustForwardedHeaders()), true)
        .addInterceptor(new ForwardedHeaders(settings.trustForwardedHeaders()), true);
    server = vertx.createHttpServer(new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            // Without it every `Expect: 100-continue` POST stalls until the client gives up waiting (~1 s).
            .setHandle100ContinueAutomatically(true))
        .requestHandler(proxy);
    return server.listen();
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
