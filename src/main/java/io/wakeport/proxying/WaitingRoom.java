package io.wakeport.proxying;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.httpproxy.ProxyContext;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.TenantConfig;
import io.wakeport.config.WaitingPage;
import io.wakeport.pages.PageContent;
import io.wakeport.pages.Pages;
import io.wakeport.supervision.Backend;
import io.wakeport.supervision.Instance;
import io.wakeport.supervision.InstanceState;
import io.wakeport.supervision.Supervisor;

/**
 * Where a browser's page load waits for a cold start: held like any request, but once the tenant's
 * {@code waiting-page.after} has passed without a ready backend it gets the waiting page instead.
 * The request then leaves the start's queue (its lease and its place under max-queue go back) and
 * the start goes on; the page reloads itself, and the reload is held again, so it lands on the app
 * the moment the backend is ready. API clients, uploads and upgrades never come here: they wait.
 */
final class WaitingRoom {

  private final Supervisor supervisor;

  WaitingRoom(Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  /** The outcome of a held request that got the waiting page instead of a backend. */
  static final class PageShown extends RuntimeException {
    final transient PageContent.StartProgress progress;

    PageShown(PageContent.StartProgress progress) {
      super("waiting page shown", null, false, false);
      this.progress = progress;
    }
  }

  /**
   * Whether {@code request} may get the waiting page: the tenant has it on, and the request is a
   * page load a browser can show and repeat as it is (GET or HEAD, Accept with text/html, no body,
   * not a WebSocket upgrade). Anything else would lose what it carries. An HTTP/2 request's body
   * is looked at again when the page would go out ({@link #bodiless}).
   */
  static boolean admits(ProxyContext ctx, HttpServerRequest request, TenantConfig tenant) {
    if (!tenant.pages().waiting().enabled()) {
      return false;
    }
    HttpMethod method = request.method();
    return (method == HttpMethod.GET || method == HttpMethod.HEAD)
        && !ctx.isWebSocket()
        && Pages.wantsHtml(request.getHeader(HttpHeaders.ACCEPT))
        && (request.version() == HttpVersion.HTTP_2 || RequestBody.of(request, 0) == null);
  }

  /** No body: HTTP/1 framing says so from the head, an HTTP/2 stream once its client has ended it without DATA. */
  private static boolean bodiless(HttpServerRequest request) {
    return request.version() == HttpVersion.HTTP_2
        ? Http2RequestEnd.endedWithoutBody(request) : RequestBody.of(request, 0) == null;
  }

  /**
   * A ready backend, as {@link Supervisor#acquire} gives it, or a {@link PageShown} failure once
   * {@code waiting-page.after} has passed first. Completes on the caller's context.
   */
  Future<Backend> acquire(HttpServerRequest request, TenantConfig tenant, InstanceConfig config) {
    long began = System.nanoTime();
    Promise<Void> leave = Promise.promise();
    Future<Backend> acquired = supervisor.acquire(tenant, config, leave.future());
    if (acquired.isComplete()) {
      return acquired; // ready: the warm path, no timer
    }
    WaitingPage settings = tenant.pages().waiting();
    Context context = Vertx.currentContext();
    Promise<Backend> outcome = Promise.promise();
    long timer = context.owner().setTimer(Math.max(1, settings.after().toMillis()), t -> {
      if (acquired.isComplete() || !bodiless(request)) {
        return; // an HTTP/2 request still sending its body waits on
      }
      PageContent.StartProgress progress = progress(tenant, config, settings, began);
      leave.complete();
      outcome.tryFail(new PageShown(progress));
    });
    acquired.onComplete(ar -> {
      context.owner().cancelTimer(timer);
      if (ar.succeeded()) {
        if (!outcome.tryComplete(ar.result())) {
          // Ready just as the page went out: the lease came with it, and the page's reload comes soon.
          supervisor.release(ar.result(), true);
        }
      } else {
        outcome.tryFail(ar.cause()); // a failed acquire holds no lease
      }
    });
    return outcome.future();
  }

  /** How the instance's start is going: since it began starting, against its previous start's duration. */
  private PageContent.StartProgress progress(TenantConfig tenant, InstanceConfig config, WaitingPage settings,
      long requestBegan) {
    Instance instance = supervisor.instance(tenant.stateName(), config.route());
    long waited = (System.nanoTime() - requestBegan) / 1_000_000;
    long expected = -1;
    if (instance != null) {
      if (instance.state() == InstanceState.STARTING) {
        waited = Math.max(waited, instance.startingForMillis());
      }
      expected = instance.lastStartMillisTaken();
    }
    return new PageContent.StartProgress(waited, expected, settings.refreshSeconds());
  }
}
