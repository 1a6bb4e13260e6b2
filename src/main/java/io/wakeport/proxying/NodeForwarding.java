package io.wakeport.proxying;

import static io.wakeport.proxying.TenantDispatch.exchangeOf;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.cluster.Cluster;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.ProxySettings;
import io.wakeport.config.TenantConfig;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Supervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node's request: served here when its instance is placed here (or the request was
 * forwarded by another node: never forwarded again), else forwarded to the owner's listener.
 */
final class NodeForwarding {

  private static final Logger log = LoggerFactory.getLogger(NodeForwarding.class);
  /** Retry-After of a request whose instance no node may run: a matching node may join or undrain. */
  private static final int NO_NODE_RETRY_SECONDS = 10;
  /** A timed-out connect to a member: as long as Hazelcast takes to end a silent member's membership. */
  private static final int OWNER_SILENT_RETRY_SECONDS = 5;
  /** To the owner: a pooled connection, a fresh one, and one more fresh one (see {@link #hop}). */
  private static final int HOP_ATTEMPTS = 3;

  private final InstanceChoice here;
  private final Cluster cluster;
  private final Supervisor supervisor;
  private final ProxySettings settings;
  private final OutgoingHead head;
  private final BackendAttempts attempts;
  private final WebSocketUpgrade upgrades;

  NodeForwarding(InstanceChoice here, Cluster cluster, Supervisor supervisor, ProxySettings settings,
      OutgoingHead head, BackendAttempts attempts, WebSocketUpgrade upgrades) {
    this.here = here;
    this.cluster = cluster;
    this.supervisor = supervisor;
    this.settings = settings;
    this.head = head;
    this.attempts = attempts;
    this.upgrades = upgrades;
  }

  Future<ProxyResponse> dispatch(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance,
      InstanceChoice.Session session, int attempt) {
    FrontExchange exchange = exchangeOf(ctx);
    String key = Cluster.key(tenant, instance);
    if (exchange.forwardedBy() != null) {
      cluster.servedHere(key);
      return here.dispatchHere(ctx, tenant, instance, session);
    }
    Future<Cluster.Placement> placed = cluster.place(key, tenant);
    if (placed.succeeded() && placed.result().local()) {
      return here.dispatchHere(ctx, tenant, instance, session);
    }
    return placed.transform(ar -> {
      if (ar.failed() && ar.cause() instanceof Cluster.Unplaceable) {
        // Logged by the cluster, once until it is placed; never started where its labels forbid.
        return ErrorPages.noNode(ctx, tenant.name(),
            io.wakeport.config.PlacementPolicy.describe(tenant.placement().labels()), NO_NODE_RETRY_SECONDS);
      }
      if (ar.failed()) {
        log.warn("tenant {}: cluster placement failed ({}); serving here", tenant.name(), ar.cause().toString());
        return here.dispatchHere(ctx, tenant, instance, session);
      }
      if (ar.result().local()) {
        return here.dispatchHere(ctx, tenant, instance, session);
      }
      return toNode(ctx, tenant, instance, session, key, ar.result(), attempt);
    });
  }

  /**
   * Sends the request as the client sent it (the owner maps its path) to the owner's forward
   * listener, signed; a WebSocket upgrade too, its frames relayed both ways once upgraded. When
   * the owner refuses the connection or the connect times out (it has just died), the instance is
   * placed anew and the request sent there, once, if its body can still be sent again.
   */
  private Future<ProxyResponse> toNode(ProxyContext ctx, TenantConfig tenant, InstanceConfig instance,
      InstanceChoice.Session session, String key, Cluster.Placement owner, int attempt) {
    FrontExchange exchange = exchangeOf(ctx);
    HttpServerRequest request = exchange.request;
    PathMapping mapping = exchange.mapping();
    exchange.mapping(null);
    exchange.tenant(tenant.name(), instance.route());
    MultiMap signed = MultiMap.caseInsensitiveMultiMap();
    // The owner sees only the hop: the client's scheme goes signed, for its cookies' Secure and its redirects.
    String scheme = exchange.clientUsedTls(settings.trustForwardedHeaders()) ? "https" : "http";
    Runnable sign = () -> cluster.sign(owner.node(), request.method().name(), exchange.target(),
        exchange.authority == null ? null : exchange.authority.toString(), scheme, signed);
    sign.run();
    cluster.forwardedTo(owner.node());
    Backend node = ownerListener(tenant, instance, owner);
    if (ctx.isWebSocket()) {
      return upgrades.toNode(ctx, exchange, tenant, node, signed).recover(failure -> {
        // Refused or timed out (netty's ConnectTimeoutException is a ConnectException): as below; an
        // upgrade has no body, so it goes to the new placement when there is one.
        if (failure instanceof java.net.ConnectException && !exchange.ended()) {
          boolean timedOut = failure instanceof io.netty.channel.ConnectTimeoutException;
          if (!cluster.unreachable(key, owner.node(), !timedOut)) {
            return ErrorPages.ownerSilent(ctx, tenant.name(), OWNER_SILENT_RETRY_SECONDS);
          }
          if (attempt == 0) {
            exchange.mapping(mapping);
            return dispatch(ctx, tenant, instance, session, attempt + 1);
          }
        }
        return attempts.forwardingFailed(ctx, exchange, tenant, node, failure);
      });
    }
    exchange.nodeHeaders(signed);
    RequestBody body = exchange.body(settings.client().maxRequestBody());
    if (body == null) {
      request.resume();
    }
    return hop(ctx, exchange, tenant, node, body, sign, 0).transform(ar -> {
      exchange.nodeHeaders(null);
      if (ar.succeeded()) {
        return Future.succeededFuture(BackendAttempts.answer(ctx, ar.result()));
      }
      if (ownerGone(ar.cause()) && !exchange.ended()) {
        // Refused: the owner is gone (its membership may not have ended yet): place the instance
        // anew, and serve this request there when its body, if any, was kept whole (as for a local
        // replay). Timed out, to a node still a member: its placement is kept, 504.
        if (!cluster.unreachable(key, owner.node(), !(ar.cause() instanceof BackendCall.ConnectTimedOut))) {
          return ErrorPages.ownerSilent(ctx, tenant.name(), OWNER_SILENT_RETRY_SECONDS);
        }
        if ((body == null || body.replayable()) && attempt == 0) {
          exchange.mapping(mapping); // if placed here now, the path is mapped here
          return dispatch(ctx, tenant, instance, session, attempt + 1);
        }
      }
      return attempts.forwardingFailed(ctx, exchange, tenant, node, ar.cause());
    });
  }

  /**
   * One send to the owner's listener, and again, on a connection of its own, when nothing of it
   * reached the owner (or nothing an idempotent request minds): a pooled connection may have died
   * with the owner before this node saw it close; a fresh one may have been accepted into the
   * listen backlog of an owner being killed, and reset as its listener closed. The next connect
   * to a dead owner is refused, or times out. As {@link BackendAttempts} does for a backend here.
   */
  private Future<io.vertx.core.http.HttpClientResponse> hop(ProxyContext ctx, FrontExchange exchange,
      TenantConfig tenant, Backend node, RequestBody body, Runnable sign, int attempt) {
    // The owner's response timeout governs; this hop waits as long, and a little more.
    BackendCall call = new BackendCall(ctx.client(), exchange, node, body, head, true,
        settings.connectTimeout().toMillis(), tenant.responseTimeout().toMillis() + 1000,
        settings.client().bodyTimeout().toMillis(), attempt > 0);
    return call.send().recover(failure -> {
      if (attempt + 1 < HOP_ATTEMPTS && failure instanceof BackendCall.Unreached unreached && !unreached.refused
          && !exchange.ended()) {
        log.debug("tenant {}: {} {}; sending again on a fresh connection", tenant.name(), node.address(),
            unreached.getMessage());
        // A nonce of its own: the owner refuses one it has seen (an idempotent request's may have reached it).
        sign.run();
        return hop(ctx, exchange, tenant, node, body, sign, attempt + 1);
      }
      return Future.failedFuture(failure);
    });
  }

  /**
   * Whether a failed send may say the owner is gone: its connect was refused (its wakeport is not
   * listening), or timed out (a machine that died without closing its sockets, or cut off, answers
   * nothing; the cluster decides by Hazelcast's membership). Nothing of the request was sent
   * either way. A connection that was accepted and then died may have carried the request: never
   * taken as gone (502).
   */
  private static boolean ownerGone(Throwable failure) {
    return failure instanceof BackendCall.Unreached unreached && unreached.refused
        || failure instanceof BackendCall.ConnectTimedOut;
  }

  /**
   * The owner node's forward listener as the {@link Backend} a request to {@code instance} goes
   * to: the instance's state (for the logs and pages), at the listener's address.
   */
  private Backend ownerListener(TenantConfig tenant, InstanceConfig instance, Cluster.Placement owner) {
    int index = tenant.instances().indexOf(instance);
    return Backend.node(supervisor.instancesOf(tenant).get(index),
        io.vertx.core.net.SocketAddress.inetSocketAddress(owner.forwardPort(), owner.forwardHost()), cluster.forwardTls());
  }
}
