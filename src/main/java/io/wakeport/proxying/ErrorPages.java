package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;

/**
 * The answers wakeport gives itself when it cannot forward a request. Always a real status and a
 * short body naming at most the tenant: never paths, commands or exception text.
 *
 * <p>A page travels through the proxy's interceptor chain as a marker on the context and is
 * written straight to the client response by {@link TenantDispatch#handleProxyResponse}: the
 * proxy's own response sending assumes a backend exchange (and fails on WebSocket upgrades).
 */
final class ErrorPages {

  private static final String MARK = "wakeport.error-page";

  record Page(int status, String title, String text, int retryAfterSeconds) {}

  private ErrorPages() {}

  static Future<ProxyResponse> notFound(ProxyContext ctx) {
    return respond(ctx, new Page(404, "Not Found", "No site is configured for this address.", -1));
  }

  static Future<ProxyResponse> ambiguousPath(ProxyContext ctx) {
    return respond(ctx, new Page(400, "Bad Request",
        "This site does not accept dot segments, backslashes or needlessly encoded characters in a path.", -1));
  }

  static Future<ProxyResponse> payloadTooLarge(ProxyContext ctx) {
    return respond(ctx, new Page(413, "Content Too Large", "The request body is larger than this site accepts.", -1));
  }

  static Future<ProxyResponse> requestTimeout(ProxyContext ctx) {
    return respond(ctx, new Page(408, "Request Timeout", "The request body arrived too slowly.", -1));
  }

  static Future<ProxyResponse> unavailable(ProxyContext ctx, String tenant, int retryAfterSeconds) {
    return respond(ctx, new Page(503, "Service Unavailable",
        "The service for " + tenant + " could not be started. Please try again in " + retryAfterSeconds + " seconds.",
        retryAfterSeconds));
  }

  static Future<ProxyResponse> tenantsFull(ProxyContext ctx, String host, int retryAfterSeconds) {
    return respond(ctx, new Page(503, "Service Unavailable",
        "The service for " + host + " cannot be started now. Please try again in " + retryAfterSeconds + " seconds.",
        retryAfterSeconds));
  }

  static Future<ProxyResponse> notRunning(ProxyContext ctx, String tenant, int status) {
    return respond(ctx, new Page(status, status == 503 ? "Service Unavailable" : "Not Running",
        "The service for " + tenant + " is not running.", -1));
  }

  static Future<ProxyResponse> badGateway(ProxyContext ctx, String tenant) {
    return respond(ctx, new Page(502, "Bad Gateway", "The service for " + tenant + " did not answer properly.", -1));
  }

  static Future<ProxyResponse> gatewayTimeout(ProxyContext ctx, String tenant) {
    return respond(ctx, new Page(504, "Gateway Timeout", "The service for " + tenant + " took too long to answer.", -1));
  }

  private static Future<ProxyResponse> respond(ProxyContext ctx, Page page) {
    ctx.set(MARK, page);
    // release() lets the unread request body drain, so the connection can be reused.
    return Future.succeededFuture(ctx.request().release().response().setStatusCode(page.status()));
  }

  /** The page this exchange ended with, or null when the backend answered. */
  static Page pageOf(ProxyContext ctx) {
    return ctx.get(MARK, Page.class);
  }

  /** Writes {@code page}, naming {@code requestId} in header and body so a user can quote it to an operator. */
  static Future<Void> write(HttpServerRequest request, Page page, String requestId) {
    String accept = request.getHeader(HttpHeaders.ACCEPT);
    boolean html = accept != null && accept.contains("text/html");
    String heading = page.status() + " " + page.title();
    String body = html
        ? "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + heading + "</title></head>\n"
            + "<body><h1>" + heading + "</h1>\n<p>" + escape(page.text()) + "</p>\n"
            + "<p>Request id: " + escape(requestId) + "</p></body></html>\n"
        : heading + ": " + page.text() + "\nRequest id: " + requestId + "\n";
    HttpServerResponse response = request.response()
        .setStatusCode(page.status())
        .setStatusMessage(page.title())
        .putHeader(HttpHeaders.CONTENT_TYPE, html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .putHeader(RequestIds.HEADER, requestId);
    if (page.retryAfterSeconds() >= 0) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(page.retryAfterSeconds()));
    }
    return response.end(body);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
