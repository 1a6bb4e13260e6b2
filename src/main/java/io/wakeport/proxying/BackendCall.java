package io.wakeport.proxying;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.wakeport.health.LiveOutcome;
import io.wakeport.supervision.Backend;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

/**
 * One attempt at sending a client's request to a backend, up to the head of its answer. It says
 * apart what the caller must treat differently:
 * <ul>
 *   <li>{@link Unreached}: nothing of the request reached a backend (the connect was refused, or
 *       the connection died before the head went out), or nothing an idempotent request minds
 *       being sent again (it died before any answer): the caller may replay it;
 *   <li>{@link ClientTooSlow}: the client's body stopped for {@code client-body-timeout}: 408;
 *   <li>{@link TimeoutException}: the backend was silent for {@code response-timeout} once the
 *       body was sent, or took none of the body for that long, or the connect timed out
 *       ({@link ConnectTimedOut}, nothing sent): 504;
 *   <li>anything else: the backend failed the exchange: 502.
 * </ul>
 * An answer that comes before the body is all sent (413, a redirect) is an answer like any other:
 * the body keeps going to the backend while it reads, and the front connection closes after.
 */
final class BackendCall implements RequestBody.Sink {

  /** Nothing of the request reached a backend, or an idempotent one got no answer: may be sent again. */
  static final class Unreached extends Exception {
    final boolean refused;

    Unreached(String message, boolean refused, Throwable cause) {
      super(message, cause, false, false);
      this.refused = refused;
    }
  }

  /** The connect timed out: nothing of the request was sent (504 for a backend; across nodes, the owner is gone). */
  static final class ConnectTimedOut extends TimeoutException {
    ConnectTimedOut(String message) {
      super(message);
    }
  }

  /** The client's request body grew past {@code max-request-body}. */
  static final class BodyTooLarge extends Exception {
    BodyTooLarge(String message) {
      super(message, null, false, false);
    }
  }

  /** The client went away: the backend request is reset, and nobody is left to answer. */
  static final class ClientLeft extends Exception {
    ClientLeft() {
      super("client left", null, false, false);
    }
  }

  /** The client's request body stalled. */
  static final class ClientTooSlow extends Exception {
    ClientTooSlow(String message) {
      super(message, null, false, false);
    }
  }

  private final HttpClient client;
  private final FrontExchange exchange;
  private final Backend backend;
  private final RequestBody body;
  private final OutgoingHead head;
  private final boolean preserveHost;
  private final long connectTimeoutMillis;
  private final long responseTimeoutMillis;
  private final long bodyTimeoutMillis;
  /** A connection of its own instead of a pooled one (a retry after a pooled one died). */
  private final boolean fresh;
  private final Vertx vertx;
  private final Promise<HttpClientResponse> result = Promise.promise();

  private HttpClientRequest out;
  private HttpClientConnection ownConnection;
  private boolean headWritten;
  /** Why the member failed this call before any answer (its connect, its connection), or null. */
  private String memberError;
  private boolean answered;
  private boolean over;
  /** While the body is being sent: who must move next, and by when. */
  private boolean waitingOnClient = true;
  private long deadline;
  private long timer = -1;
  private long timerAt;

  BackendCall(HttpClient client, FrontExchange exchange, Backend backend, RequestBody body, OutgoingHead head,
      boolean preserveHost, long connectTimeoutMillis, long responseTimeoutMillis, long bodyTimeoutMillis, boolean fresh) {
    this.client = client;
    this.exchange = exchange;
    this.backend = backend;
    this.body = body;
    this.head = head;
    this.preserveHost = preserveHost;
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.responseTimeoutMillis = responseTimeoutMillis;
    this.bodyTimeoutMillis = bodyTimeoutMillis;
    this.fresh = fresh;
    this.vertx = Vertx.currentContext().owner();
  }

  Future<HttpClientResponse> send() {
    if (exchange.ended()) {
      return Future.failedFuture(new ClientLeft()); // it left while the instance was started
    }
    exchange.onClientGone(() -> finish(new ClientLeft()));
    RequestOptions options = new RequestOptions()
        .setServer(backend.address())
        .setConnectTimeout(connectTimeoutMillis)
        .setMethod(exchange.request.method())
        .setURI(exchange.backendTarget());
    if (body == null) {
      // Nothing to send after the head: silence counts from now, as Vert.x's idle timeout does.
      options.setIdleTimeout(responseTimeoutMillis);
    }
    io.vertx.core.net.ClientSSLOptions tls = backend.tls();
    if (tls != null) {
      options.setSsl(true).setSslOptions(tls); // a remote member over https://, or another node with cluster.tls
    }
    Future<HttpClientRequest> opened;
    if (fresh) {
      opened = ((HttpClientAgent) client)
          .connect(new HttpConnectOptions().setServer(backend.address()).setConnectTimeout(connectTimeoutMillis)
              .setSsl(tls != null).setSslOptions(tls))
          .compose(connection -> {
            ownConnection = connection;
            return connection.request(options);
          });
    } else {
      opened = client.request(options);
    }
    opened.onComplete(ar -> {
      if (ar.succeeded()) {
        begin(ar.result());
      } else {
        connectFailed(ar.cause());
      }
    });
    return result.future();
  }

  private void begin(HttpClientRequest request) {
    // Failures reach the response future; without a handler Vert.x logs each one at ERROR.
    request.exceptionHandler(failure -> { });
    if (over) {
      // The client left while the connection was being found: give it back unused.
      request.reset();
      if (ownConnection != null) {
        ownConnection.close();
      }
      return;
    }
    out = request;
    head.copy(exchange.request, exchange, request.headers());
    OutgoingHead.setAuthority(request, exchange, preserveHost);
    if (exchange.nodeHeaders() != null) {
      // To another cluster node: its signature (set one by one: MultiMap.setAll would clear the rest).
      for (java.util.Map.Entry<String, String> header : exchange.nodeHeaders()) {
        request.headers().set(header.getKey(), header.getValue());
      }
    }
    request.response().onComplete(ar -> {
      if (ar.succeeded()) {
        answered(ar.result());
      } else {
        failed(ar.cause());
      }
    });
    if (body == null) {
      request.end().onSuccess(v -> headWritten = true);
      return;
    }
    if (body.length >= 0) {
      request.putHeader("content-length", Long.toString(body.length));
    }
    // A body of unknown length goes chunked, decided at its first chunk: an HTTP/2 GET is only
    // known to have no body when its end arrives, and must not reach the backend chunked.
    arm(bodyTimeoutMillis);
    body.sendTo(this);
  }

  @Override
  public void chunk(Buffer chunk) {
    if (over) {
      return;
    }
    if (body.length < 0 && !out.isChunked()) {
      out.setChunked(true);
    }
    out.write(chunk).onSuccess(v -> headWritten = true);
    if (!answered) {
      waitingOnClient = true;
      arm(bodyTimeoutMillis);
    }
    if (out.writeQueueFull()) {
      // The backend reads slower than the client sends: hold the client back, and it is the backend's turn.
      body.pause();
      waitingOnClient = false;
      if (!answered) {
        arm(responseTimeoutMillis);
      }
      out.drainHandler(v -> {
        if (!over) {
          body.resume();
          waitingOnClient = true;
          if (!answered) {
            arm(bodyTimeoutMillis);
          }
        }
      });
    }
  }

  @Override
  public void end() {
    if (over) {
      return;
    }
    out.end().onSuccess(v -> headWritten = true);
    disarm();
    if (!answered) {
      // From here the response timeout counts the backend's silence (RFC-wise: time to the answer).
      out.idleTimeout(responseTimeoutMillis);
    }
  }

  @Override
  public void tooLarge(long max) {
    if (!answered) {
      finish(new BodyTooLarge("request body over max-request-body " + max + " bytes"));
    } else {
      // The backend has answered already: its answer goes out, and the connection closes after it.
      exchange.closeAfterResponse();
    }
  }

  private void answered(HttpClientResponse response) {
    if (over) {
      return;
    }
    answered = true;
    response.pause();
    if (body != null && !body.ended()) {
      // An early answer: the rest of the body still goes to the backend while it reads, and
      // the front connection is closed once the answer is out.
      exchange.closeAfterResponse();
      disarm();
      out.idleTimeout(responseTimeoutMillis);
    }
    if (ownConnection != null) {
      HttpClientConnection connection = ownConnection;
      response.end().onComplete(v -> connection.close());
    }
    result.complete(response);
  }

  private void connectFailed(Throwable cause) {
    memberError = cause instanceof ConnectTimeoutException ? "connect timed out after " + connectTimeoutMillis + " ms"
        : cause instanceof ConnectException ? "connection refused" : String.valueOf(cause);
    if (cause instanceof ConnectTimeoutException) {
      finish(new ConnectTimedOut("connect to " + backend.address() + " timed out after " + connectTimeoutMillis + " ms"));
    } else if (cause instanceof ConnectException) {
      finish(new Unreached("connection refused", true, cause));
    } else {
      finish(cause);
    }
  }

  private void failed(Throwable cause) {
    if (over) {
      return;
    }
    if (cause instanceof TimeoutException) {
      finish(cause);
      return;
    }
    memberError = "connection closed before any answer";
    if (!headWritten && (body == null || body.replayable())) {
      finish(new Unreached("connection closed before the request was sent: " + cause, false, cause));
    } else if (idempotent(exchange.request.method()) && (body == null || body.replayable())) {
      finish(new Unreached("connection closed before any answer: " + cause, false, cause));
    } else {
      finish(cause);
    }
  }

  /**
   * What this call found at a remote member, for its passive checks: the answer's status, the
   * member's error before any answer, or, with nothing to say, {@link LiveOutcome#NONE}: for an
   * instance here; for a request sent again after a refusal (attempt 1 and on, on a pooled
   * connection: its request was counted once); for a pooled connection that died (the member may
   * have closed it when idle: the request is sent again on a connection of its own, which counts);
   * for what the client did.
   */
  LiveOutcome outcome(AsyncResult<HttpClientResponse> ar, int attempt) {
    if (!backend.instance().isRemote() || attempt > 0 && !fresh) {
      return LiveOutcome.NONE;
    }
    if (ar.succeeded()) {
      return LiveOutcome.answered(ar.result().statusCode());
    }
    Throwable failure = ar.cause();
    if (failure instanceof Unreached unreached && !unreached.refused && !fresh) {
      return LiveOutcome.NONE;
    }
    if (memberError != null) {
      return LiveOutcome.failed(memberError);
    }
    return failure instanceof TimeoutException ? LiveOutcome.silent(failure.getMessage()) : LiveOutcome.NONE;
  }

  /** RFC 9110 9.2.2. */
  private static boolean idempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
        || method == HttpMethod.PUT || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
  }

  private void finish(Throwable cause) {
    if (over) {
      return;
    }
    over = true;
    disarm();
    if (out != null) {
      out.reset();
    }
    if (body != null) {
      body.detach(this);
    }
    if (ownConnection != null) {
      ownConnection.close();
    }
    result.tryFail(cause);
  }

  // One lazy timer for the upload: moved by writing a deadline; it re-checks when it fires.
  private void arm(long millis) {
    deadline = System.nanoTime() + millis * 1_000_000L;
    if (timer >= 0 && timerAt - deadline > 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (timer < 0) {
      timerAt = deadline;
      timer = vertx.setTimer(Math.max(1, millis), t -> expired());
    }
  }

  private void disarm() {
    deadline = 0;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void expired() {
    timer = -1;
    if (over || deadline == 0 || answered) {
      return; // once answered, the answer's own idle timeout governs (see answered)
    }
    long left = deadline - System.nanoTime();
    if (left > 0) {
      timerAt = deadline;
      timer = vertx.setTimer(Math.max(1, left / 1_000_000L), t -> expired());
      return;
    }
    if (waitingOnClient) {
      finish(new ClientTooSlow("request body stalled for " + bodyTimeoutMillis + " ms"));
    } else {
      finish(new TimeoutException("backend took none of the request body for " + responseTimeoutMillis + " ms"));
    }
  }
}
