package io.wakeport.proxying;

/**
 * Rewrites the {@code Location}, {@code Content-Location}, {@code URI} and {@code Refresh} fields
 * of an answer that point at the backend's own address ({@code 127.0.0.1}, {@code localhost} or
 * {@code [::1]} with its port) to the scheme and host the client used: a backend that builds
 * absolute URLs from its bind address would otherwise send the client to a port it cannot reach.
 * Only these four names are looked at, by length first, so other fields cost next to nothing;
 * relative values and other hosts stay as they are.
 */
final class ResponseRewrite {

  private static final String[] OWN_HOSTS = {"127.0.0.1:", "localhost:", "[::1]:"};

  private ResponseRewrite() {}

  /** Whether {@code name} is one of the fields that may carry a backend's own URL. */
  static boolean applies(String name) {
    return switch (name.length()) {
      case 3 -> name.equalsIgnoreCase("uri");
      case 7 -> name.equalsIgnoreCase("refresh");
      case 8 -> name.equalsIgnoreCase("location");
      case 16 -> name.equalsIgnoreCase("content-location");
      default -> false;
    };
  }

  /**
   * {@code value} of field {@code name} with a URL on the backend's own address ({@code port})
   * given {@code clientOrigin} ({@code http://host[:port]}) instead; else {@code value} itself.
   */
  static String rewrite(String name, String value, int port, String clientOrigin) {
    if (name.length() == 7) {
      // Refresh: "5; url=http://…", the URL after "url=", perhaps quoted.
      int url = indexOfIgnoreCase(value, "url");
      if (url < 0) {
        return value;
      }
      int at = url + 3;
      while (at < value.length() && (value.charAt(at) == ' ' || value.charAt(at) == '=')) {
        at++;
      }
      if (at < value.length() && (value.charAt(at) == '\'' || value.charAt(at) == '"')) {
        at++;
      }
      int end = ownOriginEnd(value, at, port);
      return end < 0 ? value : value.substring(0, at) + clientOrigin + value.substring(end);
    }
    int end = ownOriginEnd(value, 0, port);
    return end < 0 ? value : clientOrigin + value.substring(end);
  }

  /** Where the backend's own {@code scheme://host:port} that starts at {@code from} ends, or -1. */
  private static int ownOriginEnd(String value, int from, int port) {
    int at;
    if (value.regionMatches(true, from, "http://", 0, 7)) {
      at = from + 7;
    } else if (value.regionMatches(true, from, "https://", 0, 8)) {
      at = from + 8;
    } else {
      return -1;
    }
    for (String host : OWN_HOSTS) {
      if (value.regionMatches(true, at, host, 0, host.length())) {
        int digits = at + host.length();
        int end = digits;
        while (end < value.length() && Character.isDigit(value.charAt(end))) {
          end++;
        }
        if (end == digits || end - digits > 5 || Integer.parseInt(value, digits, end, 10) != port) {
          return -1;
        }
        // The authority must end here: "…:8081.evil.test" is another host.
        if (end < value.length() && "/?#'\" ;".indexOf(value.charAt(end)) < 0) {
          return -1;
        }
        return end;
      }
    }
    return -1;
  }

  private static int indexOfIgnoreCase(String value, String part) {
    for (int i = 0; i + part.length() <= value.length(); i++) {
      if (value.regionMatches(true, i, part, 0, part.length())) {
        return i;
      }
    }
    return -1;
  }
}
