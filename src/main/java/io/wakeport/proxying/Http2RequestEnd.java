package io.wakeport.proxying;

import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Stream;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Whether an HTTP/2 request came without a body. The proxy pauses every request at once, and a
 * paused HTTP/2 request is told of its stream's end only when it is read on, so
 * {@code isEnded()} stays false even for a GET whose HEADERS carried END_STREAM. The stream's own
 * state says it: the client's side closed, and no DATA received and not yet read.
 */
final class Http2RequestEnd {

  private Http2RequestEnd() {}

  /** True when the client ended the stream without sending any DATA; on the request's event loop. */
  static boolean endedWithoutBody(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_2) {
      return false;
    }
    if (request.isEnded()) {
      return true;
    }
    if (!(request.connection() instanceof io.vertx.core.net.impl.ConnectionBase connection)) {
      return false;
    }
    Http2ConnectionHandler handler = connection.channel().pipeline().get(Http2ConnectionHandler.class);
    if (handler == null) {
      return false;
    }
    Http2Connection http2 = handler.connection();
    Http2Stream stream = http2.stream(request.streamId());
    return stream != null && !stream.state().remoteSideOpen()
        && http2.local().flowController().unconsumedBytes(stream) == 0;
  }
}
