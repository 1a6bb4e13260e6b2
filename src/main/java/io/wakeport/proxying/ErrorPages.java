package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import io.wakeport.config.PageTemplate;
import io.wakeport.config.PageTemplates;
import io.wakeport.pages.PageContent;
import io.wakeport.pages.Pages;
import io.wakeport.pages.Plurals;

/**
 * The answers wakeport gives itself when it cannot forward a request. Always a real status and a
 * short body naming at most the tenant: never paths, commands or exception text. HTML clients get
 * the operator's page for the status ({@code pages:}, the tenant's over the root's) or the
 * built-in one ({@link Pages}); others plain text.
 *
 * <p>A page travels through the proxy's interceptor chain as a marker on the context and is
 * written straight to the client response by {@link TenantDispatch#handleProxyResponse}: the
 * proxy's own response sending assumes a backend exchange (and fails on WebSocket upgrades).
 */
final class ErrorPages {

  private static final String MARK = "wakeport.error-page";
  private static final String TEMPLATES = "wakeport.page-templates";

  /**
   * @param tenant  whose page it is, or null when the request reached no tenant
   * @param waiting set on the waiting page only
   */
  record Page(int status, String title, String text, int retryAfterSeconds, String tenant,
      PageContent.StartProgress waiting) {

    Page(int status, String title, String text, int retryAfterSeconds, String tenant) {
      this(status, title, text, retryAfterSeconds, tenant, null);
    }
  }

  private ErrorPages() {}

  /** The request reached {@code tenant}, whose own pages go before the root's from here on. */
  static void tenantPages(ProxyContext ctx, PageTemplates own) {
    if (!own.byKey().isEmpty()) { // most tenants have none: nothing to remember
      ctx.set(TEMPLATES, own);
    }
  }

  static Future<ProxyResponse> notFound(ProxyContext ctx) {
    return respond(ctx, new Page(404, "Not Found", "No site is configured for this address.", -1, null));
  }

  static Future<ProxyResponse> ambiguousPath(ProxyContext ctx) {
    return respond(ctx, new Page(400, "Bad Request",
        "This site does not accept dot segments, backslashes or needlessly encoded characters in a path.", -1, null));
  }

  static Future<ProxyResponse> payloadTooLarge(ProxyContext ctx) {
    return respond(ctx, new Page(413, "Content Too Large", "The request body is larger than this site accepts.", -1,
        null));
  }

  static Future<ProxyResponse> requestTimeout(ProxyContext ctx) {
    return respond(ctx, new Page(408, "Request Timeout", "The request body arrived too slowly.", -1, null));
  }

  static Future<ProxyResponse> unavailable(ProxyContext ctx, String tenant, int retryAfterSeconds) {
    return respond(ctx, new Page(503, "Service Unavailable",
        "The service for " + tenant + " could not be started. Please try again in "
            + Plurals.seconds(retryAfterSeconds) + ".", retryAfterSeconds, tenant));
  }

  /** No node of the cluster may run the tenant now: none that its {@code placement.labels} admit is live and undrained. */
  static Future<ProxyResponse> noNode(ProxyContext ctx, String tenant, String labels, int retryAfterSeconds) {
    return respond(ctx, new Page(503, "Service Unavailable",
        "The service for " + tenant + " cannot be started now: no node of this cluster with the labels it needs ("
            + labels + ") is available. Please try again in " + Plurals.seconds(retryAfterSeconds) + ".",
        retryAfterSeconds, tenant));
  }

  static Future<ProxyResponse> tenantsFull(ProxyContext ctx, String host, int retryAfterSeconds) {
    return respond(ctx, new Page(503, "Service Unavailable",
        "The service for " + host + " cannot be started now. Please try again in "
            + Plurals.seconds(retryAfterSeconds) + ".", retryAfterSeconds, null));
  }

  static Future<ProxyResponse> notRunning(ProxyContext ctx, String tenant, int status) {
    return respond(ctx, new Page(status, status == 503 ? "Service Unavailable" : "Not Running",
        "The service for " + tenant + " is not running.", -1, tenant));
  }

  static Future<ProxyResponse> badGateway(ProxyContext ctx, String tenant) {
    return respond(ctx, new Page(502, "Bad Gateway", "The service for " + tenant + " did not answer properly.", -1,
        tenant));
  }

  static Future<ProxyResponse> gatewayTimeout(ProxyContext ctx, String tenant) {
    return respond(ctx, new Page(504, "Gateway Timeout", "The service for " + tenant + " took too long to answer.", -1,
        tenant));
  }

  /** The owner node's forward listener did not accept in time and it is still a member: nothing was sent. */
  static Future<ProxyResponse> ownerSilent(ProxyContext ctx, String tenant, int retryAfterSeconds) {
    return respond(ctx, new Page(504, "Gateway Timeout", "The node serving " + tenant + " did not answer in time. "
        + "Please try again in " + Plurals.seconds(retryAfterSeconds) + ".", retryAfterSeconds, tenant));
  }

  /**
   * The waiting page of a cold start still under way: 503 (the page is not the resource, so
   * nothing caches or indexes it as such) with Retry-After and Refresh of the refresh period.
   */
  static Future<ProxyResponse> waiting(ProxyContext ctx, String tenant, PageContent.StartProgress progress) {
    return respond(ctx, new Page(503, "Service Unavailable", tenant + " is starting. This page reloads in "
        + Plurals.seconds(progress.refreshSeconds()) + ".", progress.refreshSeconds(), tenant, progress));
  }

  private static Future<ProxyResponse> respond(ProxyContext ctx, Page page) {
    ctx.set(MARK, page);
    // release() lets the unread request body drain, so the connection can be reused.
    return Future.succeededFuture(ctx.request().release().response().setStatusCode(page.status()));
  }

  /** The operator's page for {@code page}: the tenant's, else the root's, else null (the built-in one). */
  private static PageTemplate custom(ProxyContext ctx, Page page, PageTemplates root) {
    PageTemplates own = ctx.get(TEMPLATES, PageTemplates.class);
    PageTemplate custom = own == null ? null : pick(own, page);
    return custom != null || root == null ? custom : pick(root, page);
  }

  private static PageTemplate pick(PageTemplates templates, Page page) {
    return page.waiting() != null ? templates.waiting() : templates.forStatus(page.status());
  }

  /** The page this exchange ended with, or null when the backend answered. */
  static Page pageOf(ProxyContext ctx) {
    return ctx.get(MARK, Page.class);
  }

  /**
   * Writes {@code page}, naming {@code requestId} in header and body so a user can quote it to an
   * operator; an HTML client gets the operator's page for it when there is one ({@code root}: the
   * root's {@code pages:}).
   */
  static Future<Void> write(ProxyContext ctx, HttpServerRequest request, Page page, String requestId,
      PageTemplates root) {
    boolean html = Pages.wantsHtml(request.getHeader(HttpHeaders.ACCEPT));
    PageContent content = new PageContent(page.status(), page.title(), page.text(), page.tenant(), requestId,
        page.retryAfterSeconds(), page.waiting());
    String body = html ? Pages.html(content, custom(ctx, page, root)) : Pages.text(content);
    HttpServerResponse response = request.response()
        .setStatusCode(page.status())
        .setStatusMessage(page.title())
        .putHeader(HttpHeaders.CONTENT_TYPE, html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .putHeader(RequestIds.HEADER, requestId);
    if (page.retryAfterSeconds() >= 0) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(page.retryAfterSeconds()));
    }
    if (page.waiting() != null) {
      // Reloads even a page of the operator's without a meta refresh; browsers honour it on a 503.
      response.putHeader("Refresh", Integer.toString(page.waiting().refreshSeconds()));
    }
    return response.end(body);
  }
}
