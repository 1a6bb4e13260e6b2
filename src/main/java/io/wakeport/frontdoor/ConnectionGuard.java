package io.wakeport.frontdoor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpServerOptions;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one front connection's time between and before requests: the request head must arrive
 * within {@code client-header-timeout} of its first byte (of the accept, for a connection's first
 * request), else 408 and close, which is what stops slowloris; a connection idle between requests
 * is closed after {@code keepalive-timeout}. While a request is being served no timer runs here:
 * the exchange has its own (body and response timeouts), but a client that takes none of its
 * answer for {@code client-send-timeout} (the socket stays unwritable) is closed, as nginx's
 * {@code send_timeout} does, so a stalled reader does not pin a connection and a backend's.
 *
 * <p>Sits in the Netty pipeline in front of the HTTP decoder, so it sees raw bytes and its 408
 * bypasses the encoder. One timer per connection, moved lazily: most requests arrive whole in one
 * read and never touch it.
 */
public final class ConnectionGuard extends ChannelDuplexHandler {

  static final String NAME = "wakeport-guard";
  private static final AttributeKey<ConnectionGuard> KEY = AttributeKey.valueOf(NAME);
  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final byte[] REQUEST_TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
      + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n\r\n"
      + "408 Request Timeout: request too slow\n").getBytes(StandardCharsets.US_ASCII);

  private enum Phase {
    /** Between requests: waiting for the next one's first byte. */
    IDLE,
    /** Reading a request head. */
    HEAD,
    /** A request is being served. */
    EXCHANGE
  }

  /** The guard's three times, in nanoseconds. */
  record Timeouts(long headerNanos, long keepAliveNanos, long sendNanos) {}

  private final long headerTimeoutNanos;
  private final long keepAliveNanos;
  private final long sendTimeoutNanos;
  private final boolean http2;
  private final LimitLog limitLog;
  private ChannelHandlerContext ctx;
  private Phase phase = Phase.HEAD;
  private boolean headBytesSeen;
  /** The socket is unwritable (the client reads nothing) and may stay so until {@link #sendDeadline}. */
  private boolean sendStalled;
  private long sendDeadline;
  private ScheduledFuture<?> sendTimer;
  private boolean ambiguousFraming;
  private boolean upgraded;
  /** System.nanoTime() when the current phase's time runs out; 0 while a request is served. */
  private long deadline;
  private ScheduledFuture<?> timer;
  private long timerAt;

  ConnectionGuard(Timeouts timeouts, boolean http2, LimitLog limitLog) {
    this.headerTimeoutNanos = timeouts.headerNanos();
    this.keepAliveNanos = timeouts.keepAliveNanos();
    this.sendTimeoutNanos = timeouts.sendNanos();
    this.http2 = http2;
    this.limitLog = limitLog;
  }

  /** The guard of a front connection's channel, or null (not a guarded connection). */
  public static ConnectionGuard of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /** Installs a guard in front of the HTTP/1 decoder (or at the head for HTTP/2, which only gets the idle timeout). */
  static ConnectionGuard install(Channel channel, Timeouts timeouts, LimitLog limitLog, HttpServerOptions options) {
    boolean http2 = channel.pipeline().get("httpDecoder") == null;
    boolean firstRequestRead = channel.pipeline().get("h2c") != null;
    ConnectionGuard guard = new ConnectionGuard(timeouts, http2, limitLog);
    channel.attr(KEY).set(guard);
    if (channel.pipeline().get("idle") != null) {
      // With h2c on, Vert.x's idle timeout stood guard until the connection was set up; this takes over.
      channel.pipeline().remove("idle");
    }
    if (http2) {
      channel.pipeline().addFirst(NAME, guard);
    } else {
      channel.pipeline().addBefore("httpDecoder", NAME, guard);
      if (!firstRequestRead) {
        // The connection handler runs as the pipeline is set up, before any byte is decoded.
        channel.pipeline().replace("httpDecoder", "httpDecoder", new FramingAwareDecoder(options, guard));
      } else {
        // With h2c on, Vert.x sets the connection up once its decoder has read the first request
        // head; swapping the decoder then, or later, could cut a body in two and read its rest as a
        // request. The request being read is the guard's first.
        guard.phase = Phase.EXCHANGE;
        guard.deadline = 0;
      }
    }
    return guard;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // A connection's first request: the header deadline counts from the accept, as nginx's does.
    arm(http2 ? keepAliveNanos : headerTimeoutNanos);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (http2) {
      arm(keepAliveNanos);
      ctx.fireChannelRead(msg);
      return;
    }
    if (phase != Phase.EXCHANGE && msg instanceof ByteBuf bytes && bytes.isReadable()) {
      if (phase == Phase.IDLE) {
        phase = Phase.HEAD;
        deadline = System.nanoTime() + headerTimeoutNanos;
      }
      headBytesSeen = true;
    }
    ctx.fireChannelRead(msg);
    // Usually the whole head came in this read and the request has started by now: no timer to move.
    if (phase == Phase.HEAD) {
      ensureTimer();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (http2) {
      deadline = System.nanoTime() + keepAliveNanos;
    }
    ctx.write(msg, promise);
  }

  /** A request head had both Content-Length and Transfer-Encoding (see {@link FramingAwareDecoder}). */
  void ambiguousFraming() {
    ambiguousFraming = true;
  }

  /** Whether the request just handed over had ambiguous framing; asked once per request. */
  public boolean takeAmbiguousFraming() {
    boolean was = ambiguousFraming;
    ambiguousFraming = false;
    return was;
  }

  /** The request head was parsed and handed to the proxy. */
  public void requestStarted() {
    if (!http2) {
      phase = Phase.EXCHANGE;
      deadline = 0;
    }
  }

  /** The connection becomes a WebSocket: its frames are no request heads, and it has no keep-alive wait. */
  public void upgraded() {
    upgraded = true;
    phase = Phase.EXCHANGE;
    deadline = 0;
  }

  /** The response has ended (or the exchange was abandoned): the keep-alive wait begins. */
  public void exchangeEnded() {
    if (!http2 && !upgraded && phase == Phase.EXCHANGE) {
      phase = Phase.IDLE;
      headBytesSeen = false;
      arm(keepAliveNanos);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!ctx.channel().isWritable()) {
      sendStalled = true;
      sendDeadline = System.nanoTime() + sendTimeoutNanos;
      ensureSendTimer();
    } else {
      sendStalled = false;
    }
    ctx.fireChannelWritabilityChanged();
  }

  private void ensureSendTimer() {
    if (sendTimer == null && ctx != null) {
      sendTimer = ctx.executor().schedule(this::checkSend, Math.max(0, sendDeadline - System.nanoTime()),
          TimeUnit.NANOSECONDS);
    }
  }

  private void checkSend() {
    sendTimer = null;
    if (!sendStalled || !ctx.channel().isActive()) {
      return;
    }
    long left = sendDeadline - System.nanoTime();
    if (left > 0) {
      ensureSendTimer();
      return;
    }
    limitLog.hit("client-send-timeout", "closed " + ctx.channel().remoteAddress() + ": it took none of its answer for "
        + TimeUnit.NANOSECONDS.toMillis(sendTimeoutNanos) + " ms");
    ctx.channel().close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (sendTimer != null) {
      sendTimer.cancel(false);
      sendTimer = null;
    }
    deadline = 0;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    ctx.fireChannelInactive();
  }

  private void arm(long nanos) {
    deadline = System.nanoTime() + nanos;
    ensureTimer();
  }

  /** A timer no later than the deadline; a later deadline just lets the pending one re-check. */
  private void ensureTimer() {
    if (deadline == 0 || ctx == null) {
      return;
    }
    if (timer != null && timerAt <= deadline) {
      return;
    }
    if (timer != null) {
      timer.cancel(false);
    }
    timerAt = deadline;
    timer = ctx.executor().schedule(this::check, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void check() {
    timer = null;
    if (deadline == 0 || !ctx.channel().isActive()) {
      return;
    }
    if (deadline - System.nanoTime() > 0) {
      ensureTimer();
      return;
    }
    Channel channel = ctx.channel();
    if (phase == Phase.HEAD && !http2) {
      deadline = 0;
      limitLog.hit("client-header-timeout", "request head from " + channel.remoteAddress() + " not complete within "
          + TimeUnit.NANOSECONDS.toMillis(headerTimeoutNanos) + " ms; closed" + (headBytesSeen ? " with 408" : ""));
      if (headBytesSeen) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(REQUEST_TIMEOUT)).addListener(ChannelFutureListener.CLOSE);
      } else {
        channel.close();
      }
    } else if (phase != Phase.EXCHANGE || http2) {
      log.debug("closing {}: idle for {} ms (keepalive-timeout)", channel.remoteAddress(),
          TimeUnit.NANOSECONDS.toMillis(keepAliveNanos));
      channel.close();
    }
  }
}
