package io.wakeport.proxying;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * A client's request body on its way to a backend, read only while an attempt wants it (until
 * then it waits in the socket and TCP pushes back). The first {@link #REPLAY_MAX} bytes are kept,
 * so an attempt that reached no backend can be made again with the same body; past that the body
 * can no longer be replayed.
 */
final class RequestBody {

  /** Bodies up to this size can be sent again after an attempt that reached nothing. */
  static final int REPLAY_MAX = 64 * 1024;

  /** Where the chunks of the body go, one attempt at a time. */
  interface Sink {
    void chunk(Buffer chunk);

    void end();

    /** More arrived than {@code max-request-body}: the body stops here. */
    void tooLarge(long max);
  }

  private final HttpServerRequest request;
  /** {@code max-request-body}; 0 for no limit. */
  private final long max;
  /** -1 when unknown (chunked, or HTTP/2 without content-length), 0 when there is none. */
  final long length;
  private List<Buffer> kept = new ArrayList<>(2);
  private long keptBytes;
  private long readBytes;
  private boolean ended;
  private boolean continued;
  private Sink sink;

  private RequestBody(HttpServerRequest request, long length, long max) {
    this.request = request;
    this.length = length;
    this.max = max;
  }

  /** Null when the request has no body at all. A declared length over {@code max} is refused before this (413). */
  static RequestBody of(HttpServerRequest request, long max) {
    String contentLength = request.getHeader("content-length");
    if (request.version() == HttpVersion.HTTP_2) {
      if (request.isEnded()) {
        return null; // END_STREAM came with the headers
      }
    } else if (contentLength == null && request.getHeader("transfer-encoding") == null) {
      return null; // RFC 9112 6.3: no body
    }
    long length = -1;
    if (contentLength != null && request.getHeader("transfer-encoding") == null) {
      try {
        length = Long.parseLong(contentLength.trim());
      } catch (NumberFormatException e) {
        length = -1;
      }
    }
    return length == 0 ? null : new RequestBody(request, length, max);
  }

  boolean ended() {
    return ended;
  }

  /** Whatever was read so far can be sent again. */
  boolean replayable() {
    return kept != null;
  }

  /** Feeds the body to {@code next}: the kept bytes first, then the rest as it arrives. */
  void sendTo(Sink next) {
    sink = next;
    if (!continued && request.version() != HttpVersion.HTTP_1_0
        && "100-continue".equalsIgnoreCase(request.getHeader("expect"))) {
      // Now the body is wanted: tell the client to send it (only now, so a refusal costs no upload).
      continued = true;
      try {
        request.response().writeContinue();
      } catch (IllegalStateException e) {
        return; // the client left meanwhile
      }
    }
    if (kept != null) {
      for (Buffer chunk : kept) {
        next.chunk(chunk);
      }
    }
    if (ended) {
      next.end();
      return;
    }
    try {
      request.handler(this::arrived);
      request.endHandler(v -> {
        ended = true;
        if (sink != null) {
          sink.end();
        }
      });
    } catch (IllegalStateException e) {
      return; // an HTTP/2 client reset the stream meanwhile: the exchange is ending as the client left
    }
    resume();
  }

  private void arrived(Buffer chunk) {
    readBytes += chunk.length();
    if (max > 0 && readBytes > max) {
      // A body of unknown length that grew past the limit: nothing more of it goes on.
      request.pause();
      Sink over = sink;
      sink = null;
      kept = null;
      if (over != null) {
        over.tooLarge(max);
      }
      return;
    }
    if (kept != null) {
      if (keptBytes + chunk.length() <= REPLAY_MAX) {
        kept.add(chunk);
        keptBytes += chunk.length();
      } else {
        kept = null; // too large to keep: this body cannot be replayed
      }
    }
    if (sink != null) {
      sink.chunk(chunk);
    }
  }

  /** Stops reading (the attempt failed or cannot take more now). */
  void pause() {
    if (!ended) {
      try {
        request.pause();
      } catch (IllegalStateException e) {
        // The stream is over (an HTTP/2 client reset it): nothing left to hold back.
      }
    }
  }

  void resume() {
    if (!ended) {
      try {
        request.resume();
      } catch (IllegalStateException e) {
        // as in pause()
      }
    }
  }

  /** The attempt is over: later chunks go nowhere until another attempt takes them. */
  void detach(Sink from) {
    if (sink == from) {
      sink = null;
      pause();
    }
  }
}
