package io.wakeport.proxying;

import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Every request's {@code X-Request-Id}: the client's own when wakeport trusts its forwarding
 * headers and the id is sane, else a new one. New ids are 128 random bits as 32 hex digits from
 * {@link ThreadLocalRandom} (UUID.randomUUID draws from SecureRandom, far too slow for every request).
 */
final class RequestIds {

  static final String HEADER = "X-Request-Id";
  /** Longer client ids are replaced: they go into every log line and backend request. */
  static final int MAX_LENGTH = 128;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  /** The id of {@code request}: the client's own if {@code trusted} and sane, else a new one. */
  static String of(HttpServerRequest request, boolean trusted) {
    if (trusted) {
      String own = request.getHeader(HEADER);
      if (own != null && sane(own)) {
        return own;
      }
    }
    return next();
  }

  /** 1 to {@link #MAX_LENGTH} characters of letters, digits and {@code . _ : -}: nothing to escape anywhere. */
  static boolean sane(String id) {
    int length = id.length();
    if (length == 0 || length > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = id.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || c == '.' || c == '_' || c == ':' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  static String next() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] id = new char[32];
    hex(random.nextLong(), id, 0);
    hex(random.nextLong(), id, 16);
    return new String(id);
  }

  private static void hex(long bits, char[] out, int at) {
    for (int i = 15; i >= 0; i--) {
      out[at + i] = HEX[(int) (bits & 0xf)];
      bits >>>= 4;
    }
  }
}
