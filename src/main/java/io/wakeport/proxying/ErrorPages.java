package io.wakeport.proxying;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.MediaType;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;

/**
 * The answers wakeport gives itself when it cannot forward a request. Always a real status and a
 * short body naming at most the tenant: never paths, commands or exception text.
 */
final class ErrorPages {

  /** Set on the proxy context when the response is one of ours, not the backend's. */
  static final String MARK = "wakeport.error-page";

  private static final MediaType HTML = MediaType.parse("text/html; charset=utf-8");
  private static final MediaType TEXT = MediaType.parse("text/plain; charset=utf-8");

  private ErrorPages() {}

  static Future<ProxyResponse> notFound(ProxyContext ctx) {
    return page(ctx, 404, "Not Found", "No site is configured for this address.", -1);
  }

  static Future<ProxyResponse> unavailable(ProxyContext ctx, String tenant, int retryAfterSeconds) {
    return page(ctx, 503, "Service Unavailable",
        "The service for " + tenant + " could not be started. Please try again in " + retryAfterSeconds + " seconds.",
        retryAfterSeconds);
  }

  static Future<ProxyResponse> badGateway(ProxyContext ctx, String tenant) {
    return page(ctx, 502, "Bad Gateway", "The service for " + tenant + " did not answer properly.", -1);
  }

  static Future<ProxyResponse> gatewayTimeout(ProxyContext ctx, String tenant) {
    return page(ctx, 504, "Gateway Timeout", "The service for " + tenant + " took too long to answer.", -1);
  }

  private static Future<ProxyResponse> page(ProxyContext ctx, int status, String title, String text, int retryAfter) {
    String accept = ctx.request().proxiedRequest().getHeader(HttpHeaders.ACCEPT);
    boolean html = accept != null && accept.contains("text/html");
    String body = html
        ? "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + status + " " + title + "</title></head>\n"
            + "<body><h1>" + status + " " + title + "</h1>\n<p>" + escape(text) + "</p></body></html>\n"
        : status + " " + title + ": " + text + "\n";
    ProxyResponse response = ctx.request().release().response()
        .setStatusCode(status)
        .setStatusMessage(title)
        .setBody(Body.body(Buffer.buffer(body), html ? HTML : TEXT))
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    if (retryAfter >= 0) {
      response.putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(retryAfter));
    }
    ctx.set(MARK, Boolean.TRUE);
    return Future.succeededFuture(response);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
