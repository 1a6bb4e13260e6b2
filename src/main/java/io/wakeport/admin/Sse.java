package io.wakeport.admin;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/** Server-sent events: the head of a stream, and one event at a time. */
final class Sse {

  /** A comment line every so often, so proxies and clients see the stream is alive. */
  static final long HEARTBEAT_MILLIS = 15_000;

  private Sse() {}

  static HttpServerResponse open(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    response.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    response.write(": wakeport\n\n");
    return response;
  }

  /** One event; {@code data} may hold newlines (each becomes a data line). */
  static void send(HttpServerResponse response, String event, String data) {
    StringBuilder sb = new StringBuilder(data.length() + 32).append("event: ").append(event).append('\n');
    for (String line : data.split("\n", -1)) {
      sb.append("data: ").append(line).append('\n');
    }
    response.write(sb.append('\n').toString());
  }

  static void heartbeat(HttpServerResponse response) {
    response.write(": keep-alive\n\n");
  }
}
