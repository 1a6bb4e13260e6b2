package io.wakeport.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A prior-knowledge HTTP/2 client written frame by frame over a plain socket, so a test can send
 * what no well-behaved client library would: header names and values are neither validated nor
 * normalised on this side (Netty's HPACK encoder over {@code new DefaultHttp2Headers(false)}).
 * Header blocks are encoded without the dynamic table, so a server that gives up on one block
 * mid-way cannot get out of step with later ones.
 */
public final class RawH2 implements AutoCloseable {

  public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8,
      CONTINUATION = 9;
  static final int END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1, PADDED = 0x8, PRIORITY = 0x20;

  /** How one stream ended: an answer, a reset, or the connection went away (GOAWAY or close) without one. */
  public record Outcome(int status, Map<String, String> headers, byte[] body, int resetCode, boolean connectionLost) {
    public boolean answered() {
      return status > 0;
    }

    public boolean reset() {
      return resetCode >= 0;
    }

    public String bodyText() {
      return body == null ? "" : new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return answered() ? "status " + status : reset() ? "RST_STREAM " + resetCode : "connection lost";
    }
  }

  /** One frame as read. */
  public record Frame(int type, int flags, int stream, byte[] payload) {}

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.ALWAYS_SENSITIVE);
  // Validation off: the answer is read as the server wrote it.
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, false);
  private final Map<Integer, Partial> streams = new HashMap<>();
  private int nextStream = 1;
  private boolean gone;
  private int lastStreamOnGoaway = Integer.MAX_VALUE;
  /** What {@link #serverSpeaksHttp2} read, for {@link #readText}. */
  private byte[] peeked = new byte[0];

  private static final class Partial {
    Http2Headers headers;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    Outcome outcome;
  }

  private RawH2(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
    this.out = socket.getOutputStream();
  }

  /** Connects and sends the preface and SETTINGS; the server's own SETTINGS are read (and acked) later, as they come. */
  public static RawH2 connect(int port, int timeoutMillis) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(timeoutMillis);
    socket.setTcpNoDelay(true);
    RawH2 h2 = new RawH2(socket);
    ByteArrayOutputStream start = new ByteArrayOutputStream();
    start.write(PREFACE);
    start.write(frame(SETTINGS, 0, 0, new byte[0]));
    // Open the connection window wide: answers are never held back by flow control here.
    start.write(frame(WINDOW_UPDATE, 0, 0, int32(Integer.MAX_VALUE - 65_535)));
    h2.out.write(start.toByteArray());
    h2.out.flush();
    return h2;
  }

  /** Whether the server said GOAWAY or closed: no new stream may be opened on this connection. */
  public boolean gone() {
    return gone;
  }

  /**
   * Opens a stream with {@code fields} (name, value, name, value, …, pseudo-headers first, sent
   * as given) and, when {@code body} is not null, DATA after it; returns the stream id.
   */
  public int request(byte[] body, String... fields) throws IOException {
    Http2Headers headers = new DefaultHttp2Headers(false);
    for (int i = 0; i < fields.length; i += 2) {
      headers.add(fields[i], fields[i + 1]);
    }
    ByteBuf block = Unpooled.buffer();
    try {
      encoder.encodeHeaders(nextStream, headers, block);
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      throw new IOException(e);
    }
    byte[] encoded = new byte[block.readableBytes()];
    block.readBytes(encoded);
    block.release();
    int stream = nextStream;
    nextStream += 2;
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    boolean hasBody = body != null && body.length > 0;
    frames.write(frame(HEADERS, END_HEADERS | (hasBody ? 0 : END_STREAM), stream, encoded));
    if (hasBody) {
      frames.write(frame(DATA, END_STREAM, stream, body));
    }
    streams.put(stream, new Partial());
    out.write(frames.toByteArray());
    out.flush();
    return stream;
  }

  /** A GET of {@code path} with the usual pseudo-headers, plus {@code extra} fields. */
  public int get(String authority, String path, String... extra) throws IOException {
    String[] fields = new String[8 + extra.length];
    String[] pseudo = {":method", "GET", ":scheme", "http", ":authority", authority, ":path", path};
    System.arraycopy(pseudo, 0, fields, 0, 8);
    System.arraycopy(extra, 0, fields, 8, extra.length);
    return request(null, fields);
  }

  /** Reads frames until {@code stream} is answered in full, reset, or the connection is lost. */
  public Outcome await(int stream) throws IOException {
    Partial partial = streams.get(stream);
    while (partial.outcome == null) {
      if (stream > lastStreamOnGoaway) {
        partial.outcome = new Outcome(0, null, null, -1, true);
        break;
      }
      Frame f;
      try {
        f = readFrame();
      } catch (EOFException | java.net.SocketException e) {
        gone = true;
        partial.outcome = new Outcome(0, null, null, -1, true);
        break;
      }
      handle(f);
    }
    streams.remove(stream);
    return partial.outcome;
  }

  /** The next frame, or an exception (EOF when the server closed, a timeout when it said nothing). */
  public Frame readFrame() throws IOException {
    int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
    int type = in.readUnsignedByte();
    int flags = in.readUnsignedByte();
    int stream = in.readInt() & 0x7fffffff;
    byte[] payload = new byte[length];
    in.readFully(payload);
    return new Frame(type, flags, stream, payload);
  }

  private void handle(Frame f) throws IOException {
    switch (f.type) {
      case SETTINGS -> {
        if ((f.flags & ACK) == 0) {
          out.write(frame(SETTINGS, ACK, 0, new byte[0]));
          out.flush();
        }
      }
      case PING -> {
        if ((f.flags & ACK) == 0) {
          out.write(frame(PING, ACK, 0, f.payload));
          out.flush();
        }
      }
      case GOAWAY -> {
        gone = true;
        lastStreamOnGoaway = ((f.payload[0] & 0x7f) << 24) | ((f.payload[1] & 0xff) << 16)
            | ((f.payload[2] & 0xff) << 8) | (f.payload[3] & 0xff);
      }
      case RST_STREAM -> {
        Partial p = streams.get(f.stream);
        if (p != null && p.outcome == null) {
          p.outcome = new Outcome(0, null, null, readInt(f.payload, 0), false);
        }
      }
      case HEADERS -> headers(f);
      case DATA -> {
        Partial p = streams.get(f.stream);
        if (p != null) {
          p.body.write(unpadded(f));
          if ((f.flags & END_STREAM) != 0) {
            finish(p);
          }
        }
      }
      default -> { }
    }
  }

  private void headers(Frame f) throws IOException {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    byte[] first = unpadded(f);
    int skip = (f.flags & PRIORITY) != 0 ? 5 : 0;
    block.write(first, skip, first.length - skip);
    int flags = f.flags;
    while ((flags & END_HEADERS) == 0) {
      Frame more = readFrame();
      if (more.type != CONTINUATION) {
        throw new IOException("expected CONTINUATION, got frame type " + more.type);
      }
      block.write(more.payload);
      flags = more.flags;
    }
    Http2Headers decoded;
    try {
      decoded = decoder.decodeHeaders(f.stream, Unpooled.wrappedBuffer(block.toByteArray()));
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      throw new IOException(e);
    }
    Partial p = streams.get(f.stream);
    if (p == null) {
      return;
    }
    if (p.headers == null) {
      p.headers = decoded; // else trailers: ignored
    }
    if ((f.flags & END_STREAM) != 0) {
      finish(p);
    }
  }

  private static void finish(Partial p) {
    Map<String, String> headers = new HashMap<>();
    for (Map.Entry<CharSequence, CharSequence> e : p.headers) {
      headers.put(e.getKey().toString(), e.getValue().toString());
    }
    int status = Integer.parseInt(headers.getOrDefault(":status", "0"));
    p.outcome = new Outcome(status, headers, p.body.toByteArray(), -1, false);
  }

  private static byte[] unpadded(Frame f) {
    if ((f.flags & PADDED) == 0) {
      return f.payload;
    }
    int pad = f.payload[0] & 0xff;
    return java.util.Arrays.copyOfRange(f.payload, 1, f.payload.length - pad);
  }

  /**
   * After a prior-knowledge preface: whether the server's first frame is an HTTP/2 SETTINGS frame
   * (false when it answers in HTTP/1.x, closes, or says nothing within the socket timeout).
   */
  public boolean serverSpeaksHttp2() throws IOException {
    byte[] head = new byte[9];
    int n = 0;
    try {
      while (n < head.length) {
        int r = in.read(head, n, head.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      return false;
    }
    peeked = java.util.Arrays.copyOf(head, n);
    if (n < head.length) {
      return false;
    }
    return head[3] == SETTINGS && head[5] == 0 && head[6] == 0 && head[7] == 0 && head[8] == 0;
  }

  /** What the server sent back (from its first byte), up to {@code max} bytes or its close: for a server that did not speak HTTP/2. */
  public String readText(int max) throws IOException {
    byte[] buf = new byte[max];
    int n = Math.min(max, peeked.length);
    System.arraycopy(peeked, 0, buf, 0, n);
    try {
      for (int r; n < max && (r = in.read(buf, n, max - n)) > 0; ) {
        n += r;
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // whatever came is enough
    }
    return new String(buf, 0, n, StandardCharsets.ISO_8859_1);
  }

  static byte[] frame(int type, int flags, int stream, byte[] payload) {
    byte[] f = new byte[9 + payload.length];
    f[0] = (byte) (payload.length >>> 16);
    f[1] = (byte) (payload.length >>> 8);
    f[2] = (byte) payload.length;
    f[3] = (byte) type;
    f[4] = (byte) flags;
    f[5] = (byte) (stream >>> 24 & 0x7f);
    f[6] = (byte) (stream >>> 16);
    f[7] = (byte) (stream >>> 8);
    f[8] = (byte) stream;
    System.arraycopy(payload, 0, f, 9, payload.length);
    return f;
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static int readInt(byte[] b, int at) {
    return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
