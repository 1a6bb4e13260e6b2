package io.wakeport.proxying;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.streams.Pipe;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sends a backend's answer to the client: status, headers and a streamed body, as
 * vertx-http-proxy's {@code ProxyResponse.send()} does, with two differences. The backend's
 * {@code Date} is passed on as written (the library parses and re-formats it with java.time on
 * every response: about 9 % of the proxy's CPU, see docs/benchmarks.md), hop-by-hop headers
 * (RFC 9110 7.6.1), including those the backend names in {@code Connection}, are not forwarded,
 * and an answer of at most 64 KiB is read whole and written in one go instead of streamed. It also
 * carries the request's {@code X-Request-Id}, and URLs and cookies on the backend's address are
 * pointed at the client's ({@link ResponseRewrite}).
 *
 * <p>An HTTP/1.0 client cannot take chunks: an answer of unknown length streams to it as it
 * comes and ends when the connection closes (the library buffered it whole on the heap). WebSocket
 * upgrades go back to the library.
 */
final class ResponseRelay {

  /** The backend's answer whose head this relays (see BackendAttempts.answer). */
  static final String BACKEND_RESPONSE = "wakeport.backend-response";

  private static final String[] HOP_BY_HOP =
      {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};
  private static final String CONTENT_LENGTH = "content-length";
  /** Answers up to this size (by Content-Length) are read whole before they are sent on. */
  private static final long BUFFERED_MAX = 64 * 1024;

  /** Whether the client's scheme may come from a trusted proxy's X-Forwarded-Proto (for rewritten URLs). */
  private final boolean trustForwarded;

  ResponseRelay(boolean trustForwarded) {
    this.trustForwarded = trustForwarded;
  }

  /** Added when a backend sends no Date (RFC 9110 6.6.1); formatted at most once a second per event loop. */
  private long dateSecond = Long.MIN_VALUE;
  private String date;

  Future<Void> send(ProxyContext ctx, FrontExchange exchange) {
    if (ctx.isWebSocket()) {
      // The library copies these headers onto the 101 it writes itself.
      ctx.response().headers().set(RequestIds.HEADER, exchange.requestId);
      return ctx.sendResponse();
    }
    ProxyResponse response = ctx.response();
    HttpServerRequest request = exchange.request;
    Body body = response.getBody();
    long length = body == null ? 0 : body.length();
    HttpClientResponse backend = ctx.get(BACKEND_RESPONSE, HttpClientResponse.class);
    HttpServerResponse out = request.response();
    int status = response.getStatusCode();
    out.setStatusCode(status);
    String reason = response.getStatusMessage();
    if (reason != null && !reason.equals(HttpResponseStatus.valueOf(status).reasonPhrase())) {
      // Only a non-standard reason: setting one makes Vert.x build and encode a new status line.
      out.setStatusMessage(reason);
    }
    MultiMap headers = backend != null ? backend.headers() : response.headers();
    List<String> named = namedInConnection(headers.get(HttpHeaders.CONNECTION));
    MultiMap outHeaders = out.headers();
    ResponseRewrite rewrite = null;
    for (Map.Entry<String, String> header : headers) {
      String name = header.getKey();
      if (!isHopByHop(name, named) && !CONTENT_LENGTH.equalsIgnoreCase(name)) {
        String value = header.getValue();
        if (ResponseRewrite.applies(name)) {
          if (rewrite == null) {
            rewrite = ResponseRewrite.of(exchange, trustForwarded);
          }
          value = rewrite.rewrite(name, value);
        }
        outHeaders.add(name, value);
      }
    }
    // Ours, even when the backend sent one of its own.
    outHeaders.set(RequestIds.HEADER, exchange.requestId);
    if (!headers.contains(HttpHeaders.DATE)) {
      outHeaders.set(HttpHeaders.DATE, now());
    }
    boolean streamToClose = length < 0 && body != null && request.version() == HttpVersion.HTTP_1_0
        && !bodiless(request.method(), status);
    if (streamToClose) {
      exchange.closeAfterResponse();
    }
    if (exchange.closesAfterResponse() && request.version() == HttpVersion.HTTP_1_1) {
      outHeaders.set(HttpHeaders.CONNECTION, "close");
    }
    if (body == null) {
      if (backend != null && backend.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
        outHeaders.set(HttpHeaders.CONTENT_LENGTH, "0");
      }
      return out.end();
    }
    if (length >= 0) {
      outHeaders.set(HttpHeaders.CONTENT_LENGTH, Long.toString(length));
      if (length <= BUFFERED_MAX && backend != null && body.stream() == backend) {
        // A small answer goes out in one write, head and body together, as nginx's proxy_buffering does.
        Future<Buffer> whole = backend.body();
        backend.resume();
        return whole.compose(out::end, failure -> {
          out.reset();
          return Future.failedFuture(failure);
        });
      }
    } else if (!bodiless(request.method(), status) && !streamToClose) {
      out.setChunked(true);
    }
    Pipe<Buffer> pipe = body.stream().pipe();
    pipe.endOnSuccess(true);
    pipe.endOnFailure(false);
    return pipe.to(out).andThen(ar -> {
      if (ar.failed()) {
        if (backend != null) {
          backend.request().reset();
        }
        out.reset();
      }
    });
  }

  private static boolean isHopByHop(String name, List<String> named) {
    if (isIn(HOP_BY_HOP, name)) {
      return true;
    }
    for (String other : named) {
      if (other.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isIn(String[] lowerCaseNames, String name) {
    for (String candidate : lowerCaseNames) {
      if (candidate.length() == name.length() && candidate.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The header names a Connection header lists beyond the standard hop-by-hop set, read once per
   * answer. Usually none: backends send {@code keep-alive} or {@code close}.
   */
  private static List<String> namedInConnection(String connection) {
    if (connection == null) {
      return List.of();
    }
    List<String> named = List.of();
    for (String token : connection.split(",")) {
      String name = token.trim();
      if (!name.isEmpty() && !name.equalsIgnoreCase("close") && !isIn(HOP_BY_HOP, name)) {
        named = named.isEmpty() ? new ArrayList<>() : named;
        named.add(name);
      }
    }
    return named;
  }

  /** HEAD answers and 1xx/204/304 carry no body, so they are never chunked. */
  private static boolean bodiless(HttpMethod method, int status) {
    return method == HttpMethod.HEAD || status < 200 || status == 204 || status == 304;
  }

  private String now() {
    long millis = System.currentTimeMillis();
    long second = millis / 1000;
    if (second != dateSecond) {
      date = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochSecond(second).atOffset(ZoneOffset.UTC));
      dateSecond = second;
    }
    return date;
  }
}
