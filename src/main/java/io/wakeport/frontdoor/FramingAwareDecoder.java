package io.wakeport.frontdoor;

import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

/**
 * Vert.x's HTTP/1 request decoder, telling the connection's guard when a request head carried
 * both Content-Length and Transfer-Encoding. Netty frames such a request by its chunks and drops
 * the Content-Length, which leaves no trace for the request handler; but a front door must close
 * the connection after it (RFC 9112 6.1), as request smuggling lives in that disagreement.
 */
final class FramingAwareDecoder extends VertxHttpRequestDecoder {

  private final ConnectionGuard guard;

  FramingAwareDecoder(HttpServerOptions options, ConnectionGuard guard) {
    super(options);
    this.guard = guard;
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    super.handleTransferEncodingChunkedWithContentLength(message);
    guard.ambiguousFraming();
  }
}
