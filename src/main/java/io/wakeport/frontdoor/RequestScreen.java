package io.wakeport.frontdoor;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.wakeport.config.ClientLimits;
import java.util.Iterator;
import java.util.Map;

/**
 * Checks a request's head before anything of it goes further: what no backend connection may
 * ever carry (control characters or spaces in the target, bad header names or values, HTTP/2
 * connection-specific headers), what RFC 9112 says to refuse (no Host on HTTP/1.1, several Host
 * headers, a transfer coding that is not chunked last), header fields over the per-line limit,
 * and targets a reverse proxy does not serve (CONNECT, authority form). Netty's HTTP/1 decoder
 * checks framing, but its HTTP/2 codec passes {@code :path} and values through unchecked.
 *
 * <p>One pass over the headers; no allocation on a good request.
 */
public final class RequestScreen {

  /** Why a request is refused: the status and a short reason for the log and the page. */
  public record Rejection(int status, String reason) {}

  private final int maxHeaderLine;
  private final long maxRequestBody;

  public RequestScreen(ClientLimits limits) {
    this.maxHeaderLine = limits.maxHeaderLine();
    this.maxRequestBody = limits.maxRequestBody();
  }

  /** Null when the request may go on. */
  public Rejection check(HttpServerRequest request) {
    boolean http2 = request.version() == HttpVersion.HTTP_2;
    HttpMethod method = request.method();
    if (method == HttpMethod.CONNECT) {
      return new Rejection(405, "CONNECT is not served");
    }
    if (http2 && !isToken(method.name())) {
      return new Rejection(400, "bad method");
    }
    String uri = request.uri();
    Rejection target = checkTarget(method, uri);
    if (target != null) {
      return target;
    }
    if (http2 && uri.charAt(0) != '/' && !uri.equals("*")) {
      return new Rejection(400, "HTTP/2 :path not in origin form"); // RFC 9113 8.3.1
    }
    int hosts = 0;
    int codings = 0;
    for (Iterator<Map.Entry<String, String>> it = request.headers().iterator(); it.hasNext(); ) {
      Map.Entry<String, String> header = it.next();
      String name = header.getKey();
      String value = header.getValue();
      if (name.length() + value.length() + 2 > maxHeaderLine) {
        return new Rejection(431, "a header field is longer than max-header-line " + maxHeaderLine);
      }
      if (http2) {
        Rejection bad = checkHttp2Field(name, value);
        if (bad != null) {
          return bad;
        }
      }
      if (name.length() == 4 && name.equalsIgnoreCase("host")) {
        hosts++;
      } else if (name.length() == 17 && name.equalsIgnoreCase("transfer-encoding")) {
        codings++;
      }
    }
    if (hosts > 1) {
      return new Rejection(400, "more than one Host header");
    }
    if (request.version() == HttpVersion.HTTP_1_1 && hosts == 0) {
      return new Rejection(400, "HTTP/1.1 request without Host");
    }
    if (http2 && request.authority() == null && hosts == 0) {
      return new Rejection(400, "HTTP/2 request without :authority or Host");
    }
    if ((hosts > 0 || http2) && (request.authority() == null || request.authority().host().isEmpty())) {
      return new Rejection(400, "bad Host");
    }
    if (codings > 0) {
      // Only chunked, once: a backend is sent the body chunked, so any other coding would be lost
      // on the way, and a list is where front and back ends have disagreed (smuggling).
      String coding = request.getHeader("transfer-encoding");
      if (codings > 1 || !coding.trim().equalsIgnoreCase("chunked")) {
        return new Rejection(400, "Transfer-Encoding other than chunked");
      }
      if (!coding.equals("chunked")) {
        request.headers().set("transfer-encoding", "chunked"); // vertx-http-proxy reads it case-sensitively
      }
    }
    if (maxRequestBody > 0) {
      String length = request.getHeader("content-length");
      if (length != null && declaredOver(length, maxRequestBody)) {
        return new Rejection(413, "Content-Length over max-request-body " + maxRequestBody);
      }
    }
    return null;
  }

  /**
   * Origin form ({@code /path?query}), absolute form ({@code http://host/path}) or {@code *} for
   * OPTIONS; no control characters, spaces or DEL anywhere in it.
   */
  private static Rejection checkTarget(HttpMethod method, String uri) {
    if (uri == null || uri.isEmpty()) {
      return new Rejection(400, "empty request target");
    }
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= 0x20 || c == 0x7f) {
        return new Rejection(400, "control character or space in the request target");
      }
    }
    char first = uri.charAt(0);
    if (first == '/') {
      return null;
    }
    if (uri.equals("*")) {
      return method == HttpMethod.OPTIONS ? null : new Rejection(400, "'*' target is for OPTIONS only");
    }
    if (AbsoluteTarget.parse(uri) != null) {
      return null;
    }
    return new Rejection(400, "request target is neither a path nor an absolute http URL");
  }

  /** RFC 9113 8.2: lower-case token names, no connection-specific fields, values without CR, LF, NUL or edge spaces. */
  private static Rejection checkHttp2Field(String name, String value) {
    if (name.isEmpty()) {
      return new Rejection(400, "empty header name");
    }
    int start = name.charAt(0) == ':' ? 1 : 0;
    for (int i = start; i < name.length(); i++) {
      char c = name.charAt(i);
      if ((c >= 'A' && c <= 'Z') || !isTokenChar(c)) {
        return new Rejection(400, "bad header name");
      }
    }
    if (start == 0 && isConnectionSpecific(name, value)) {
      return new Rejection(400, "connection-specific header " + name + " in HTTP/2");
    }
    int n = value.length();
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        return new Rejection(400, "CR, LF or NUL in a header value");
      }
    }
    if (n > 0 && isBlank(value.charAt(0)) || n > 1 && isBlank(value.charAt(n - 1))) {
      return new Rejection(400, "header value with leading or trailing white space");
    }
    return null;
  }

  private static boolean isConnectionSpecific(String name, String value) {
    return switch (name) {
      case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade" -> true;
      case "te" -> !value.equalsIgnoreCase("trailers");
      default -> false;
    };
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean declaredOver(String length, long max) {
    try {
      return Long.parseLong(length.trim()) > max;
    } catch (NumberFormatException e) {
      return false; // the decoder has refused what it cannot read
    }
  }

  static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** RFC 9110 5.6.2 tchar. */
  private static boolean isTokenChar(char c) {
    if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
