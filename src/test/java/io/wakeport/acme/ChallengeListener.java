package io.wakeport.acme;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain HTTP listener on Pebble's validation port that answers from {@link Http01Tokens}, as
 * wakeport's plain listener does: 200 with the key authorization, else 404. Counts the
 * validation requests it answered.
 */
final class ChallengeListener implements AutoCloseable {

  final AtomicInteger answered = new AtomicInteger();
  private final HttpServer server;

  ChallengeListener(Vertx vertx, Http01Tokens tokens, int port) throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> {
      var answer = tokens.answer(req.path());
      if (answer.isPresent()) {
        answered.incrementAndGet();
        req.response().putHeader("content-type", "application/octet-stream").end(answer.get());
      } else {
        req.response().setStatusCode(404).end();
      }
    }).listen(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }
}
