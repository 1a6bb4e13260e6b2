package io.wakeport.admin;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.supervision.LogFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A backend's log ({@code state-dir/logs/<name>.log}): its last lines as text, or with
 * {@code follow} those lines and then each new one as a server-sent event, read every
 * half-second. A follower that reads slowly is simply read for less often: the file is the buffer.
 */
final class LogTail {

  static final int DEFAULT_LINES = 100;
  static final int MAX_LINES = 5000;
  /** The most a tail reads from the end of the file. */
  private static final int TAIL_BYTES = 1 << 20;
  private static final long POLL_MILLIS = 500;

  private LogTail() {}

  static void send(RoutingContext ctx, Path file, int lines, boolean follow) {
    Vertx vertx = ctx.vertx();
    vertx.executeBlocking(() -> new Start(LogFiles.tail(file, lines, TAIL_BYTES), LogFiles.size(file)), false)
        .onComplete(ar -> {
          if (ar.failed()) {
            Replies.error(ctx, 500, "log", "cannot read " + file + ": " + ar.cause().getMessage());
            return;
          }
          if (!follow) {
            ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8")
                .end(ar.result().lines().isEmpty() ? "" : String.join("\n", ar.result().lines()) + "\n");
            return;
          }
          HttpServerResponse response = Sse.open(ctx);
          for (String line : ar.result().lines()) {
            Sse.send(response, "log", line);
          }
          new Follower(vertx, file, response, ar.result().size()).next();
        });
  }

  private record Start(List<String> lines, long size) {}

  /** Reads what was appended since the last look; on the request's context between reads. */
  private static final class Follower {
    private final Vertx vertx;
    private final Path file;
    private final HttpServerResponse response;
    private long offset;
    /** The end of the last read when it stopped mid-line. */
    private String partial = "";
    private boolean closed;
    private long beats;

    Follower(Vertx vertx, Path file, HttpServerResponse response, long offset) {
      this.vertx = vertx;
      this.file = file;
      this.response = response;
      this.offset = offset;
      response.closeHandler(v -> closed = true);
    }

    void next() {
      vertx.setTimer(POLL_MILLIS, t -> poll());
    }

    private void poll() {
      if (closed) {
        return;
      }
      if (response.writeQueueFull()) {
        next();
        return;
      }
      vertx.executeBlocking(() -> {
        long size = LogFiles.size(file);
        // Smaller than where we were: rotated by copy-and-truncate; its new content starts at 0.
        long from = size < offset ? 0 : offset;
        return new Chunk(from, LogFiles.readFrom(file, from));
      }, false).onComplete(ar -> {
        if (closed) {
          return;
        }
        if (ar.succeeded()) {
          Chunk chunk = ar.result();
          if (chunk.from() < offset) {
            partial = "";
          }
          offset = chunk.from() + chunk.bytes().length;
          String text = partial + new String(chunk.bytes(), StandardCharsets.UTF_8);
          int end = text.lastIndexOf('\n');
          partial = end < 0 ? text : text.substring(end + 1);
          if (end >= 0) {
            for (String line : text.substring(0, end).split("\n", -1)) {
              Sse.send(response, "log", line);
            }
          }
        }
        if (++beats % (Sse.HEARTBEAT_MILLIS / POLL_MILLIS) == 0) {
          Sse.heartbeat(response);
        }
        next();
      });
    }
  }

  private record Chunk(long from, byte[] bytes) {}
}
