package io.wakeport.proxying;

import io.wakeport.config.ResponseRewriting;
import java.util.Map;

/**
 * A backend's {@code Set-Cookie} as the client should get it, attribute by attribute (RFC 6265
 * 5.2: names in any case, whitespace around them ignored): a {@code Domain} listed in
 * {@code rewrite.cookie-domain} becomes the public one or, mapped to "", is dropped, and one equal
 * to the backend's own host ({@code 127.0.0.1}, {@code localhost}, {@code [::1]}) is dropped while
 * {@code own-address} is on; a {@code Path} under a {@code rewrite.cookie-path} prefix gets the
 * public one, any other absolute {@code Path} is put under the public prefix of a
 * {@link PathMapping}. The cookie's name and value and every other byte stay as they were; a
 * cookie without these attributes is returned as it is.
 *
 * <p>Dropping an own-address Domain can only help: a browser on {@code example.com} ignores a
 * cookie for {@code 127.0.0.1} (RFC 6265 5.3 step 6), and one on {@code acme.localhost} would send
 * a {@code localhost} cookie to every other {@code *.localhost} tenant; without the attribute the
 * cookie belongs to exactly the host the client used.
 */
final class SetCookieRewrite {

  private static final String[] OWN_DOMAINS = {"127.0.0.1", "localhost", "[::1]", "::1"};

  private SetCookieRewrite() {}

  static String rewrite(String cookie, ResponseRewriting rules, PathMapping mapping) {
    int semicolon = cookie.indexOf(';');
    if (semicolon < 0) {
      return cookie; // name=value only: nothing to map
    }
    boolean domains = rules.ownAddress() || !rules.cookieDomains().isEmpty();
    boolean paths = mapping != null || !rules.cookiePaths().isEmpty();
    StringBuilder out = null;
    int copied = 0; // cookie[0, copied) is in out already (once out exists)
    while (semicolon >= 0) {
      int start = semicolon + 1;
      int next = cookie.indexOf(';', start);
      int end = next < 0 ? cookie.length() : next;
      int nameStart = skipSpace(cookie, start, end);
      int equals = cookie.indexOf('=', nameStart);
      if (equals >= 0 && equals < end) {
        int nameEnd = trimEnd(cookie, nameStart, equals);
        int valueStart = skipSpace(cookie, equals + 1, end);
        int valueEnd = trimEnd(cookie, valueStart, end);
        String replacement = null;
        boolean drop = false;
        if (domains && nameEnd - nameStart == 6 && cookie.regionMatches(true, nameStart, "domain", 0, 6)) {
          replacement = domain(cookie.substring(valueStart, valueEnd), rules);
          drop = "".equals(replacement);
        } else if (paths && nameEnd - nameStart == 4 && cookie.regionMatches(true, nameStart, "path", 0, 4)) {
          replacement = path(cookie.substring(valueStart, valueEnd), rules, mapping);
        }
        if (replacement != null) {
          if (out == null) {
            out = new StringBuilder(cookie.length() + 16);
          }
          if (drop) {
            out.append(cookie, copied, semicolon); // the attribute and the ';' before it go
          } else {
            out.append(cookie, copied, valueStart).append(replacement);
          }
          copied = drop ? end : valueEnd;
        }
      }
      semicolon = next;
    }
    return out == null ? cookie : out.append(cookie, copied, cookie.length()).toString();
  }

  /** The Domain to write instead of {@code value}: "" to drop it, null to keep it. */
  private static String domain(String value, ResponseRewriting rules) {
    String domain = value.startsWith(".") ? value.substring(1) : value;
    Map<String, String> domains = rules.cookieDomains();
    if (!domains.isEmpty()) {
      String mapped = domains.get(domain.toLowerCase(java.util.Locale.ROOT));
      if (mapped != null) {
        return mapped;
      }
    }
    if (rules.ownAddress()) {
      for (String own : OWN_DOMAINS) {
        if (own.equalsIgnoreCase(domain)) {
          return "";
        }
      }
    }
    return null;
  }

  /** The Path to write instead of {@code value}, or null to keep it (relative paths mean the default path). */
  private static String path(String value, ResponseRewriting rules, PathMapping mapping) {
    if (!value.startsWith("/")) {
      return null;
    }
    for (Map.Entry<String, String> entry : rules.cookiePaths().entrySet()) {
      String from = withoutTrailingSlash(entry.getKey());
      if (value.startsWith(from) && (value.length() == from.length() || value.charAt(from.length()) == '/')) {
        String mapped = withoutTrailingSlash(entry.getValue()) + value.substring(from.length());
        return mapped.isEmpty() ? "/" : mapped;
      }
    }
    if (mapping != null) {
      String mapped = mapping.toPublic(value);
      return mapped.equals(value) ? null : mapped;
    }
    return null;
  }

  private static String withoutTrailingSlash(String path) {
    return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  private static int skipSpace(String s, int from, int end) {
    while (from < end && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
      from++;
    }
    return from;
  }

  private static int trimEnd(String s, int from, int end) {
    while (end > from && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return end;
  }
}
