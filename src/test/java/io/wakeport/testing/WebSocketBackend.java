package io.wakeport.testing;

import io.vertx.core.Vertx;

/**
 * A backend process that echoes WebSocket text messages: for tests of open streams. The message
 * {@code path?} is answered with the target its handshake was sent. Usage: WebSocketBackend PORT
 */
public final class WebSocketBackend {

  private WebSocketBackend() {}

  public static void main(String[] args) {
    Vertx.vertx().createHttpServer()
        .requestHandler(req -> req.response().end("plain\n"))
        .webSocketHandler(ws -> ws.textMessageHandler(text -> ws.writeTextMessage(text.equals("path?") ? ws.uri() : text)))
        .listen(Integer.parseInt(args[0]), "127.0.0.1")
        .onFailure(e -> System.exit(1));
  }
}
