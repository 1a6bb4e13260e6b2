package io.wakeport.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;

/**
 * A backend process for clients that leave mid-exchange. POST: reads the body and never answers.
 * GET: streams a line every 20 ms for a minute. It prints (to its log file) when a request
 * arrives and when its connection goes away, which tells a test what the proxy has done.
 * Usage: SlowBackend PORT
 */
public final class SlowBackend {

  private SlowBackend() {}

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    vertx.createHttpServer()
        .requestHandler(req -> {
          HttpServerResponse response = req.response();
          String what = req.method() + " " + req.path();
          response.closeHandler(v -> say("gone " + what));
          if (req.method().name().equals("POST")) {
            // Once the first bytes are in, the proxy is relaying the body.
            req.handler(chunk -> say("receiving " + what));
            return;
          }
          response.setChunked(true).write("first line\n");
          say("streaming " + what);
          long timer = vertx.setPeriodic(20, id -> {
            if (!response.closed()) {
              response.write("x".repeat(999) + "\n");
            }
          });
          vertx.setTimer(60_000, id -> {
            vertx.cancelTimer(timer);
            if (!response.closed()) {
              response.end();
            }
          });
        })
        .listen(Integer.parseInt(args[0]), "127.0.0.1")
        .onFailure(e -> System.exit(1));
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
