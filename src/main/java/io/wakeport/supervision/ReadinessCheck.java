package io.wakeport.supervision;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.wakeport.config.Readiness;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * One attempt at telling whether a starting instance is ready. The supervisor repeats it on a
 * short, growing interval; each kind is a small class behind this interface.
 */
interface ReadinessCheck {

  /** Succeeds with true when ready; false (or a failure) means ask again later. */
  Future<Boolean> attempt();

  static ReadinessCheck of(Readiness readiness, SocketAddress address, Path logFile, long logOffset,
      PortProbe probe, WebClient web, Vertx vertx) {
    return switch (readiness.kind()) {
      case TCP -> () -> probe.isOpen(address);
      case HTTP -> new Http(web, address, readiness.httpPath());
      case LOG -> new LogLine(vertx, logFile, logOffset, readiness.logPattern());
    };
  }

  /** A GET answers 2xx or 3xx. */
  final class Http implements ReadinessCheck {
    private final WebClient web;
    private final SocketAddress address;
    private final String path;

    Http(WebClient web, SocketAddress address, String path) {
      this.web = web;
      this.address = address;
      this.path = path;
    }

    @Override
    public Future<Boolean> attempt() {
      return web.request(HttpMethod.GET, address.port(), address.host(), path)
          .timeout(2000)
          .send()
          .map(response -> response.statusCode() >= 200 && response.statusCode() < 400);
    }
  }

  /** A line the backend wrote since its start matches a pattern. Reads the log on a worker thread. */
  final class LogLine implements ReadinessCheck {
    private final Vertx vertx;
    private final Path file;
    private final Pattern pattern;
    private long offset;
    private String partial = "";

    LogLine(Vertx vertx, Path file, long offset, Pattern pattern) {
      this.vertx = vertx;
      this.file = file;
      this.offset = offset;
      this.pattern = pattern;
    }

    @Override
    public Future<Boolean> attempt() {
      return vertx.executeBlocking(() -> {
        byte[] bytes = LogFiles.readFrom(file, offset);
        offset += bytes.length;
        String text = partial + new String(bytes, StandardCharsets.UTF_8);
        int lastNewline = text.lastIndexOf('\n');
        partial = lastNewline < 0 ? text : text.substring(lastNewline + 1);
        if (lastNewline >= 0) {
          for (String line : text.substring(0, lastNewline).split("\n")) {
            if (pattern.matcher(line).find()) {
              return true;
            }
          }
        }
        return false;
      }, true);
    }
  }
}
