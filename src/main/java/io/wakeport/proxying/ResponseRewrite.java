package io.wakeport.proxying;

import io.wakeport.config.ResponseRewriting;
import io.wakeport.supervision.Backend;

/**
 * Points the URLs of an answer back at the address the client used, as Apache's ProxyPassReverse
 * does: {@code Location}, {@code Content-Location}, {@code URI} and the URL of {@code Refresh} on
 * the backend's own address ({@code 127.0.0.1}, {@code localhost} or {@code [::1]} with its port),
 * or on an origin the tenant lists in {@code rewrite.urls}, get the client's scheme and host; with
 * a {@link PathMapping} (strip-prefix) the path is put back under the public prefix, root-relative
 * ones ({@code /login}) too. {@code Set-Cookie} goes to {@link SetCookieRewrite}. Only these five
 * names are looked at, by length first, so other fields cost next to nothing; relative values
 * ({@code login}, {@code ?q}), network-path ones ({@code //host/x}) and other hosts stay as they are.
 * One is made per answer that has such a field.
 */
final class ResponseRewrite {

  private static final String[] OWN_HOSTS = {"127.0.0.1", "localhost", "[::1]"};
  /** What may follow an authority inside a field value: a path, query or fragment, or the end of a quoted Refresh URL. */
  private static final String AUTHORITY_ENDS = "/?#'\" ;";

  /** The backend's own port, or -1. */
  private final int port;
  /** {@code http://host[:port]} as the client asked, or null when it named no host. */
  private final String clientOrigin;
  private final PathMapping mapping;
  private final ResponseRewriting rules;

  ResponseRewrite(int port, String clientOrigin, PathMapping mapping, ResponseRewriting rules) {
    this.port = port;
    this.clientOrigin = clientOrigin;
    this.mapping = mapping;
    this.rules = rules;
  }

  /**
   * The rewrite for the answer to {@code exchange}, in the client's scheme ({@link
   * FrontExchange#clientUsedTls}: with {@code trustForwarded} a trusted proxy's X-Forwarded-Proto).
   */
  static ResponseRewrite of(FrontExchange exchange, boolean trustForwarded) {
    Backend backend = exchange.backend();
    String origin = exchange.authority == null || exchange.authority.host().isEmpty() ? null
        : (exchange.clientUsedTls(trustForwarded) ? "https://" : "http://") + exchange.authority;
    return new ResponseRewrite(backend == null ? -1 : backend.address().port(), origin, exchange.mapping(),
        exchange.rewriting());
  }

  /** Whether {@code name} is one of the fields that may carry a backend's URL or cookie path. */
  static boolean applies(String name) {
    return switch (name.length()) {
      case 3 -> name.equalsIgnoreCase("uri");
      case 7 -> name.equalsIgnoreCase("refresh");
      case 8 -> name.equalsIgnoreCase("location");
      case 10 -> name.equalsIgnoreCase("set-cookie");
      case 16 -> name.equalsIgnoreCase("content-location");
      default -> false;
    };
  }

  /** {@code value} of field {@code name} (one that {@link #applies}) as the client should see it. */
  String rewrite(String name, String value) {
    if (name.length() == 10) {
      return mapping == null && !rules.touchesCookies() ? value : SetCookieRewrite.rewrite(value, rules, mapping);
    }
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
      return url(value, at);
    }
    return url(value, 0);
  }

  /** {@code value} with the URL that starts at {@code from} pointed at the client. */
  private String url(String value, int from) {
    if (clientOrigin != null) {
      int end = -1;
      if (rules.ownAddress() && port > 0) {
        int at = schemeEnd(value, from, null);
        for (int i = 0; at >= 0 && end < 0 && i < OWN_HOSTS.length; i++) {
          end = authorityEnd(value, at, OWN_HOSTS[i], port, -1);
        }
      }
      for (int i = 0; end < 0 && i < rules.urls().size(); i++) {
        end = urlEnd(value, from, rules.urls().get(i));
      }
      if (end >= 0) {
        return value.substring(0, from) + clientOrigin + publicRest(value.substring(end));
      }
    }
    if (mapping != null && value.length() > from && value.charAt(from) == '/'
        && (value.length() == from + 1 || value.charAt(from + 1) != '/')) {
      return value.substring(0, from) + mapping.toPublic(value.substring(from));
    }
    return value;
  }

  /** What follows a backend origin, as the client's path: under the public prefix when mapped. */
  private String publicRest(String rest) {
    if (mapping == null) {
      return rest;
    }
    return mapping.toPublic(rest.startsWith("/") ? rest : "/" + rest);
  }

  /** Where a listed origin and its base path end in {@code value} from {@code from}, or -1. */
  private static int urlEnd(String value, int from, ResponseRewriting.Url url) {
    int at = schemeEnd(value, from, url.scheme());
    if (at < 0) {
      return -1;
    }
    int end = authorityEnd(value, at, url.host(), url.port(), url.scheme().equals("https") ? 443 : 80);
    String base = url.basePath();
    if (end < 0 || base.isEmpty()) {
      return end;
    }
    // The base path must end at a segment's end: "/app" is not the start of "/apple".
    if (!value.startsWith(base, end)) {
      return -1;
    }
    int after = end + base.length();
    return after == value.length() || AUTHORITY_ENDS.indexOf(value.charAt(after)) >= 0 ? after : -1;
  }

  /** Where {@code http://} or {@code https://} (only {@code scheme}'s when given) at {@code from} ends, or -1. */
  private static int schemeEnd(String value, int from, String scheme) {
    if (!"https".equals(scheme) && value.regionMatches(true, from, "http://", 0, 7)) {
      return from + 7;
    }
    if (!"http".equals(scheme) && value.regionMatches(true, from, "https://", 0, 8)) {
      return from + 8;
    }
    return -1;
  }

  /**
   * Where {@code host:port} at {@code at} ends in {@code value} (the port written, or none written
   * when {@code defaultPort} is {@code port}), or -1 when the authority there is another.
   */
  private static int authorityEnd(String value, int at, String host, int port, int defaultPort) {
    if (!value.regionMatches(true, at, host, 0, host.length())) {
      return -1;
    }
    int digits = at + host.length();
    int end = digits;
    if (end < value.length() && value.charAt(end) == ':') {
      digits = ++end;
      while (end < value.length() && Character.isDigit(value.charAt(end))) {
        end++;
      }
      if (end == digits || end - digits > 5 || Integer.parseInt(value, digits, end, 10) != port) {
        return -1;
      }
    } else if (defaultPort != port) {
      return -1;
    }
    // The authority must end here: "…:8081.evil.test" and "…:8081@evil.test" are other hosts.
    if (end < value.length() && AUTHORITY_ENDS.indexOf(value.charAt(end)) < 0) {
      return -1;
    }
    return end;
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
