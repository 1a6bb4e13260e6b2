package io.wakeport.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A plain socket speaking HTTP/1.x by hand: for what real clients hide (framing, slow heads,
 * duplicate headers, connections that must close).
 */
public final class RawHttp implements AutoCloseable {

  /**
   * A response as read off the wire: status, headers (lower-case names, last one wins), every
   * header line as sent, and body.
   */
  public record Response(int status, String statusLine, Map<String, String> headers, List<String> lines,
      byte[] body) {
    /** Every value of field {@code name}, in order, byte for byte as sent (after the colon and its spaces). */
    public List<String> all(String name) {
      List<String> values = new ArrayList<>();
      for (String line : lines) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          values.add(line.substring(colon + 1).stripLeading());
        }
      }
      return values;
    }

    public String bodyText() {
      return new String(body, StandardCharsets.ISO_8859_1);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  public final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  public RawHttp(int port) throws IOException {
    this(port, null);
  }

  /** From {@code localAddress} (another loopback address, e.g. 127.0.0.2) when not null. */
  public RawHttp(int port, String localAddress) throws IOException {
    socket = new Socket();
    if (localAddress != null) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(20_000);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = socket.getInputStream();
  }

  public RawHttp send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public RawHttp send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  public RawHttp timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
    return this;
  }

  /** Reads one response; the body by Content-Length, chunks, or (no length) until the connection closes. */
  public Response read() throws IOException {
    return read(false);
  }

  public Response read(boolean headRequest) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> lines = new ArrayList<>();
    String line;
    while ((line = line()) != null && !line.isEmpty()) {
      lines.add(line);
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (headRequest || status == 204 || status == 304 || status < 200) {
      return new Response(status, statusLine, headers, lines, body.toByteArray());
    }
    if (headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      while (true) {
        int size = Integer.parseInt(line().split(";")[0].trim(), 16);
        if (size == 0) {
          while ((line = line()) != null && !line.isEmpty()) { }
          break;
        }
        body.write(in.readNBytes(size));
        line();
      }
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(status, statusLine, headers, lines, body.toByteArray());
  }

  /** True when the server closes the connection within {@code millis} (it reads nothing more). */
  public boolean closedWithin(int millis) throws IOException {
    socket.setSoTimeout(millis);
    try {
      while (true) {
        int b = in.read();
        if (b < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) b);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
