package io.wakeport.health;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.wakeport.config.HealthCheck;
import io.wakeport.config.RemoteMember;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/**
 * One check of one remote member: a TCP connect, closed at once, or an HTTP GET on a connection
 * of its own (as HAProxy's checks: a kept-alive pooled connection would say nothing of new ones).
 * Host names go through Vert.x's resolver, never a blocking lookup. Completes with null when the
 * check passed, else with why it failed, in a few words for the log.
 */
public final class HealthProbes {

  private final NetClient tcp;
  private final HttpClient http;

  public HealthProbes(Vertx vertx) {
    this.tcp = vertx.createNetClient(new NetClientOptions());
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
  }

  /**
   * Runs {@code member}'s check once, over TLS with {@code tls} (made once per member: the TLS
   * context is built once too); completes (on the caller's context) with null or a reason.
   */
  public Future<String> check(RemoteMember member, io.vertx.core.net.ClientSSLOptions tls) {
    HealthCheck check = member.check();
    SocketAddress address = SocketAddress.inetSocketAddress(member.port(), member.host());
    int timeout = (int) Math.min(Integer.MAX_VALUE, check.timeout().toMillis());
    Future<String> outcome;
    if (check.kind() == HealthCheck.Kind.HTTP) {
      RequestOptions options = new RequestOptions().setServer(address).setMethod(HttpMethod.GET)
          .setHost(member.host()).setPort(member.port()).setURI(check.path())
          .setConnectTimeout(timeout).setIdleTimeout(timeout);
      if (tls != null) {
        options.setSsl(true).setSslOptions(tls);
      }
      outcome = http.request(options)
          .compose(request -> request.send())
          .compose(response -> response.body().map(body -> check.passes(response.statusCode()) ? null
              : "status " + response.statusCode() + " not in " + check.expectLow() + "-" + check.expectHigh()));
    } else {
      outcome = tcp.connect(new io.vertx.core.net.ConnectOptions().setRemoteAddress(address).setTimeout(timeout))
          .compose(socket -> socket.close().map((String) null));
    }
    // Bounded as a whole too: a member that trickles its answer is as good as a silent one.
    return outcome.timeout(timeout, java.util.concurrent.TimeUnit.MILLISECONDS).otherwise(HealthProbes::reason);
  }

  /** What went wrong, as an operator reads it: "connection refused", "timed out after 1000 ms". */
  static String reason(Throwable failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && cause.getCause() != cause) {
      if (cause instanceof ConnectException || cause instanceof UnknownHostException) {
        break;
      }
      cause = cause.getCause();
    }
    String message = cause.getMessage() == null ? "" : cause.getMessage();
    if (message.toLowerCase(java.util.Locale.ROOT).contains("connection refused")) {
      return "connection refused";
    }
    if (failure instanceof TimeoutException || cause instanceof TimeoutException
        || cause instanceof io.netty.channel.ConnectTimeoutException) {
      // Vert.x's own words: "The timeout of 100 ms has been exceeded when getting a connection to …".
      return message.isEmpty() ? "timed out" : message;
    }
    if (cause instanceof UnknownHostException) {
      return "cannot resolve " + message;
    }
    return message.isEmpty() ? cause.getClass().getSimpleName() : message;
  }

  public Future<Void> close() {
    return Future.join(tcp.close(), http.close()).mapEmpty();
  }
}
