package io.wakeport.testing;

import io.vertx.core.Vertx;

/**
 * A backend process that echoes WebSocket text messages, and answers {@code path?} or {@code ?uri}
 * with the request target it was opened with: for tests of open streams. Usage: WebSocketBackend PORT
 */
public final class WebSocketBackend {

  private WebSocketBackend() {}

  public static void main(String[] args) {
    Vertx.vertx().createHttpServer()
        .requestHandler(req -> req.response().end("plain\n"))
        .webSocketHandler(ws -> ws.textMessageHandler(m -> ws.writeTextMessage("?uri".equals(m) || "path?".equals(m) ? ws.uri() : m)))
        .listen(Integer.parseInt(args[0]), "127.0.0.1")
        .onFailure(e -> System.exit(1));
  }
}
