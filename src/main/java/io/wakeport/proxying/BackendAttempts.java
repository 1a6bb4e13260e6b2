package io.wakeport.proxying;

import static io.wakeport.proxying.TenantDispatch.exchangeOf;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.ProxySettings;
import io.wakeport.config.TenantConfig;
import io.wakeport.frontdoor.LimitLog;
import io.wakeport.routing.Balancer;
import io.wakeport.routing.RoutingTable;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.StartFailedException;
import io.wakeport.supervision.Supervisor;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a request to the backend of its lease with {@link BackendCall}, and again when nothing of
 * it reached a backend (a fresh connection; the instance started again; another remote member);
 * the backend's answer becomes the proxy chain's response, and a failure the page it calls for.
 */
final class BackendAttempts {

  /** Instances a remote member's redispatch has tried for this request (bit i for instance i). */
  private static final String REDISPATCHED = "wakeport.redispatched";
  /** A first try, a fresh connection, and one replay after the instance was started again. */
  private static final int MAX_ATTEMPTS = 3;
  /** How long a process whose fresh connection died is given to exit before the request gets 502. */
  private static final long EXIT_WAIT_MILLIS = 1_000;
  private static final Logger log = LoggerFactory.getLogger(BackendAttempts.class);

  private final Supplier<RoutingTable> routing;
  private final Supervisor supervisor;
  private final ProxySettings settings;
  private final OutgoingHead head;
  /** For a request another cluster node forwarded (signed): its forwarding headers are that node's, so extended. */
  private final OutgoingHead forwardedHead;
  private final LimitLog limitLog;

  BackendAttempts(Supplier<RoutingTable> routing, Supervisor supervisor, ProxySettings settings, OutgoingHead head,
      OutgoingHead forwardedHead, LimitLog limitLog) {
    this.routing = routing;
    this.supervisor = supervisor;
    this.settings = settings;
    this.head = head;
    this.forwardedHead = forwardedHead;
    this.limitLog = limitLog;
  }

  /** A request that waited for its instance to start says how long, in Server-Timing. */
  static void coldStart(FrontExchange exchange, long began) {
    double millis = (System.nanoTime() - began) / 1e6;
    exchange.coldStartMillis(millis);
    exchange.request.response().putHeader("Server-Timing",
        "cold-start;dur=" + String.format(java.util.Locale.ROOT, "%.1f", millis));
  }

  /**
   * Sends the request, and sends it again when nothing of it reached a backend: first on a fresh
   * connection (a pooled one may have died with its backend), then, when the port refuses, after
   * the supervisor has found the instance's process gone and started it again, or seen its port
   * open again.
   */
  Future<ProxyResponse> call(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      InstanceConfig instance, Backend backend, boolean counted, RequestBody body, int attempt, boolean fresh) {
    BackendCall call = new BackendCall(ctx.client(), exchange, backend, body,
        exchange.forwardedBy() == null ? head : forwardedHead, settings.preserveHost(),
        settings.connectTimeout().toMillis(), tenant.responseTimeout().toMillis(),
        settings.client().bodyTimeout().toMillis(), fresh);
    return call.send().transform(ar -> {
      supervisor.observed(backend, call.outcome(ar, attempt)); // a remote member's passive checks
      if (ar.succeeded()) {
        return Future.succeededFuture(answer(ctx, ar.result()));
      }
      Throwable failure = ar.cause();
      if (!(failure instanceof BackendCall.Unreached unreached) || attempt >= MAX_ATTEMPTS || exchange.ended()) {
        return forwardingFailed(ctx, exchange, tenant, backend, failure);
      }
      if (!unreached.refused) {
        if (fresh) {
          // A connection of its own was accepted and died too. A process killed with SIGKILL goes
          // on accepting into its listen backlog until its files are closed, then resets them: if
          // the process exits now, it is started again and the request replayed; if it lives, it
          // listens but fails.
          return supervisor.exitsWithin(backend, Math.min(EXIT_WAIT_MILLIS, settings.connectTimeout().toMillis()))
              .transform(gone -> gone.succeeded() && gone.result()
                  ? startAgainAndReplay(ctx, exchange, tenant, instance, backend, counted, body, attempt, unreached)
                  : forwardingFailed(ctx, exchange, tenant, backend, unreached.getCause()));
        }
        log.debug("tenant {}: {} {}; sending again on a fresh connection", tenant.name(), backend.instance(),
            unreached.getMessage());
        return call(ctx, exchange, tenant, instance, backend, counted, body, attempt + 1, true);
      }
      if (backend.instance().isRemote() && counted) {
        Future<ProxyResponse> elsewhere = RemoteRedispatch.elsewhere(this, ctx, tenant, instance, body, unreached);
        if (elsewhere != null) {
          return elsewhere;
        }
      }
      return startAgainAndReplay(ctx, exchange, tenant, instance, backend, counted, body, attempt, unreached);
    });
  }

  /**
   * A remote member refused the connection before its checks took it out, and nothing of the
   * request was sent: with failover, another member takes it (HAProxy's redispatch), with a new
   * route cookie in insert mode. Null when there is none to try (the request goes on as before).
   */
  private static final class RemoteRedispatch {
    static Future<ProxyResponse> elsewhere(BackendAttempts dispatch, ProxyContext ctx, TenantConfig tenant,
        InstanceConfig instance, RequestBody body, BackendCall.Unreached unreached) {
      // Kept off the warm path: nothing is recorded for a request until its member refuses.
      Balancer balancer = dispatch.routing.get().balancer(tenant);
      if (balancer == null || !tenant.balancing().failover()) {
        return null;
      }
      Long before = ctx.get(REDISPATCHED, Long.class);
      long tried = (before == null ? 0 : before) | (1L << tenant.instances().indexOf(instance));
      ctx.set(REDISPATCHED, tried);
      int next = balancer.choose(dispatch.supervisor.instancesOf(tenant), tried);
      if (next < 0) {
        return null;
      }
      InstanceConfig other = tenant.instances().get(next);
      log.info("tenant {}: route {} unreachable ({}); sending the request to route {}", tenant.name(),
          instance.route(), unreached.getMessage(), other.route());
      FrontExchange exchange = exchangeOf(ctx);
      exchange.lease(null, false);
      return dispatch.supervisor.acquire(tenant, other).transform(ar -> {
        if (ar.failed()) {
          return ErrorPages.unavailable(ctx, tenant.name(), 5);
        }
        Backend next2 = ar.result();
        exchange.lease(next2, true);
        exchange.tenant(tenant.name(), other.route());
        String insert = tenant.balancing().insertCookie();
        if (insert != null) {
          RouteCookie.set(exchange, insert, other.route(), dispatch.settings.trustForwardedHeaders());
        }
        return dispatch.call(ctx, exchange, tenant, other, next2, true, body, 0, false);
      });
    }
  }

  /**
   * Nothing of the request reached the instance's process, which is gone or no longer listens:
   * the supervisor starts it again (or waits for its port) and the request is sent once it is ready.
   */
  private Future<ProxyResponse> startAgainAndReplay(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      InstanceConfig instance, Backend backend, boolean counted, RequestBody body, int attempt,
      BackendCall.Unreached unreached) {
    supervisor.unreachable(backend);
    if (!counted) {
      // A request under an ignore rule never starts a tenant.
      return ErrorPages.notRunning(ctx, tenant.name(), tenant.policy().ignoreStatus());
    }
    log.info("tenant {}: {} unreachable ({}); holding the request until it listens", tenant.name(),
        backend.instance(), unreached.getMessage());
    long began = System.nanoTime();
    return supervisor.acquire(tenant, instance).transform(again -> {
      if (again.failed()) {
        exchange.lease(null, false);
        int retryAfter = again.cause() instanceof StartFailedException sfe ? sfe.retryAfterSeconds() : 5;
        return ErrorPages.unavailable(ctx, tenant.name(), retryAfter);
      }
      Backend next = again.result();
      exchange.lease(next, true);
      if (next.coldStart()) {
        coldStart(exchange, began);
      }
      return call(ctx, exchange, tenant, instance, next, true, body, attempt + 1, false);
    });
  }

  /** The backend's answer as the proxy chain's response; its head is read from the backend's answer directly. */
  static ProxyResponse answer(ProxyContext ctx, HttpClientResponse backendResponse) {
    ctx.set(ResponseRelay.BACKEND_RESPONSE, backendResponse);
    ProxyResponse response = ctx.request().response();
    response.setStatusCode(backendResponse.statusCode());
    response.setStatusMessage(backendResponse.statusMessage());
    String length = backendResponse.getHeader(HttpHeaders.CONTENT_LENGTH);
    long contentLength = -1;
    if (length != null) {
      try {
        contentLength = Long.parseLong(length);
      } catch (NumberFormatException e) {
        contentLength = -1;
      }
    }
    response.setBody(Body.body(backendResponse, contentLength));
    return response;
  }

  /** The page for a request whose backend failed it, or that failed on the client's side. */
  Future<ProxyResponse> forwardingFailed(ProxyContext ctx, FrontExchange exchange, TenantConfig tenant,
      Backend backend, Throwable failure) {
    if (failure instanceof BackendCall.ClientTooSlow slow) {
      limitLog.hit("client-body-timeout", "tenant " + tenant.name() + ": " + slow.getMessage() + " from "
          + exchange.request.remoteAddress() + "; answered 408");
      exchange.closeAfterResponse();
      return ErrorPages.requestTimeout(ctx);
    }
    if (failure instanceof BackendCall.BodyTooLarge large) {
      limitLog.hit("max-request-body", "tenant " + tenant.name() + ": " + large.getMessage() + " from "
          + exchange.request.remoteAddress() + "; answered 413");
      exchange.closeAfterResponse();
      return ErrorPages.payloadTooLarge(ctx);
    }
    if (failure instanceof TimeoutException) {
      log.warn("tenant {}: {} from {} (response-timeout {} ms)", tenant.name(), failure.getMessage(),
          backend.instance(), tenant.responseTimeout().toMillis());
      return ErrorPages.gatewayTimeout(ctx, tenant.name());
    }
    // The backend client speaks HTTP/1.1: a stream reset there is the proxy's own, for a client that left.
    if (exchange.ended() || exchange.request.response().closed()
        || failure instanceof io.vertx.core.http.StreamResetException) {
      // The client went away mid-exchange and the backend request was reset: not a backend fault.
      log.debug("tenant {}: client left before {} answered", tenant.name(), backend.instance());
    } else {
      log.warn("tenant {}: forwarding to {} failed: {}", tenant.name(), backend.instance(), failure.toString());
    }
    return ErrorPages.badGateway(ctx, tenant.name());
  }
}
