package io.wakeport.admin;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.wakeport.Wakeport;
import io.wakeport.config.AdminSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener: its own HTTP server, never the front port's, on loopback or a Unix socket.
 * Every path, the JSON API's and whatever {@link Parts} mounts (console pages, {@code /metrics}),
 * passes {@link AdminAuth} first. Reaches the rest of wakeport through {@link Wakeport} (config,
 * reload) and its supervisor's public facade.
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  /** Admin requests are small; a body is at most a weight. */
  private static final int BODY_LIMIT = 64 * 1024;

  /** Mounts routes of its own on the admin router, behind the same authentication. */
  public interface AdminRoutes {
    void mount(Router router);
  }

  /**
   * What the listener serves besides the JSON API, wired by whoever starts wakeport.
   *
   * @param routes  console pages and the like
   * @param metrics the Prometheus text for {@code GET /metrics}, or null (then 404)
   */
  public record Parts(List<AdminRoutes> routes, Supplier<String> metrics) {
    public static final Parts NONE = new Parts(List.of(), null);

    public Parts {
      routes = List.copyOf(routes);
    }
  }

  private final AdminSettings settings;
  private final HttpServer server;
  private final EventStream events;

  private AdminServer(AdminSettings settings, HttpServer server, EventStream events) {
    this.settings = settings;
    this.server = server;
    this.events = events;
  }

  /**
   * Fails with {@link AdminListenException} when the admin address is taken, before wakeport adopts
   * or starts anything; a Unix socket file no one listens on (left by a crash) is removed.
   */
  public static void checkFree(AdminSettings settings) throws AdminListenException {
    if (!settings.enabled()) {
      return;
    }
    if (settings.socket() != null) {
      if (!Files.exists(settings.socket())) {
        return;
      }
      try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        probe.connect(UnixDomainSocketAddress.of(settings.socket()));
        throw new AdminListenException(settings, "a process is already listening on it");
      } catch (IOException refused) {
        try {
          Files.delete(settings.socket());
        } catch (IOException e) {
          throw new AdminListenException(settings, "cannot remove the stale socket file: " + e.getMessage());
        }
      }
      return;
    }
    InetSocketAddress address = new InetSocketAddress(settings.host(), settings.port());
    if (address.isUnresolved()) {
      throw new AdminListenException(settings, "unknown host " + settings.host());
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(address, 1);
    } catch (IOException e) {
      throw new AdminListenException(settings, e.getMessage());
    }
  }

  /** Starts listening; blocks until bound. Token mode makes the token file at the first start. */
  public static AdminServer start(Vertx vertx, AdminSettings settings, Wakeport wakeport, Parts parts)
      throws Exception {
    String token = settings.tokenMode() ? AdminToken.loadOrCreate(settings.tokenFile()) : null;
    AdminAuth auth = new AdminAuth(settings, token, name -> {
      io.wakeport.config.TenantConfig t = wakeport.config().tenants().get(name);
      return t == null || t.registration() == null ? null : t.registration().secret();
    });
    EventStream events = new EventStream(wakeport.supervisor());
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    router.route().handler(auth);
    router.get("/api/csrf").handler(ctx -> Replies.json(ctx, 200,
        new JsonObject().put("csrfToken", auth.csrfToken(ctx.get(AdminAuth.PRINCIPAL)))
            .put("header", AdminAuth.CSRF_HEADER)));
    new MemberApi(wakeport).mount(router); // before TenantApi's catch-all action paths
    TenantApi tenants = new TenantApi(wakeport);
    ConfigApi configs = new ConfigApi(wakeport);
    tenants.mount(router);
    configs.mount(router);
    new CertificateApi(wakeport).mount(router);
    new Console(wakeport, auth, tenants, configs).mount(router);
    router.get("/api/events").handler(events::handle);
    Supplier<String> metrics = parts.metrics();
    router.get("/metrics").handler(ctx -> {
      if (metrics == null) {
        Replies.error(ctx, 404, "not-found", "metrics are off (metrics: false in the config)");
      } else {
        ctx.vertx().executeBlocking(metrics::get, false).onComplete(ar -> {
          if (ar.failed()) {
            Replies.error(ctx, 500, "metrics", String.valueOf(ar.cause()));
          } else {
            ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
          }
        });
      }
    });
    for (AdminRoutes routes : parts.routes()) {
      routes.mount(router);
    }
    router.errorHandler(404, ctx -> Replies.error(ctx, 404, "not-found", "no such admin path: " + ctx.request().path()));
    router.errorHandler(405, ctx -> Replies.error(ctx, 405, "method-not-allowed",
        "actions that change state are POSTs; reads are GETs"));
    router.errorHandler(500, ctx -> {
      log.error("admin request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      Replies.error(ctx, 500, "internal", "the request failed; wakeport's log has the details");
    });

    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setIdleTimeout(0)).requestHandler(router);
    SocketAddress address = settings.socket() != null
        ? SocketAddress.domainSocketAddress(settings.socket().toString())
        : SocketAddress.inetSocketAddress(settings.port(), settings.host());
    try {
      server.listen(address).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      events.close();
      String reason = e.getMessage();
      if (settings.socket() != null && !vertx.isNativeTransportEnabled()) {
        reason = "Unix sockets need the native (epoll) transport, which did not load here";
      }
      throw new AdminListenException(settings, reason);
    }
    if (settings.socket() != null) {
      Files.setPosixFilePermissions(settings.socket(), PosixFilePermissions.fromString("rw-------"));
    }
    log.info("admin listener on {} ({})", settings.address(), settings.tokenMode()
        ? "bearer token in " + settings.tokenFile() : settings.users().size() + " configured user(s), HTTP Basic");
    return new AdminServer(settings, server, events);
  }

  /** The TCP port it listens on (for tests that asked for any), or -1 on a Unix socket. */
  public int port() {
    return settings.socket() != null ? -1 : server.actualPort();
  }

  /** Events dropped because an SSE client read too slowly, since the start. */
  public long droppedEvents() {
    return events.dropped();
  }

  @Override
  public void close() throws Exception {
    events.close();
    server.close().await(10, TimeUnit.SECONDS);
    if (settings.socket() != null) {
      Files.deleteIfExists(settings.socket());
    }
  }
}
