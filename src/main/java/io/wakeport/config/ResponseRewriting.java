package io.wakeport.config;

import java.util.List;
import java.util.Map;

/**
 * How a tenant's answers are pointed back at the address the client used ({@code rewrite:}), as
 * Apache's ProxyPassReverse, ProxyPassReverseCookieDomain and ProxyPassReverseCookiePath do.
 *
 * @param ownAddress    URLs on the backend's own {@code 127.0.0.1}, {@code localhost} or {@code [::1]} with its
 *                      port are answered as the client's origin, and a cookie's {@code Domain} equal to one of
 *                      those hosts is dropped (a browser ignores such a cookie on any other site)
 * @param urls          other origins (with a base path, perhaps) the backend writes that mean the client's origin
 * @param cookieDomains a cookie's {@code Domain} (lower case, no leading dot) → the public one; "" drops the attribute
 * @param cookiePaths   a cookie {@code Path} prefix the backend uses → the public path written instead, longest
 *                      prefix first; the public value is written as it stands (no strip-prefix added)
 */
public record ResponseRewriting(boolean ownAddress, List<Url> urls, Map<String, String> cookieDomains,
    Map<String, String> cookiePaths) {

  /** Without a {@code rewrite:} section: the backend's own address only. */
  public static final ResponseRewriting DEFAULT = new ResponseRewriting(true, List.of(), Map.of(), Map.of());

  public ResponseRewriting {
    urls = List.copyOf(urls);
    cookieDomains = Map.copyOf(cookieDomains);
    // Kept in the given (longest first) order: Map.copyOf would lose it.
    cookiePaths = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(cookiePaths));
  }

  /** Whether Set-Cookie fields can change at all (else they are not even parsed). */
  public boolean touchesCookies() {
    return ownAddress || !cookieDomains.isEmpty() || !cookiePaths.isEmpty();
  }

  /**
   * An origin the backend writes into its answers for what the client knows as its own origin.
   *
   * @param scheme   {@code http} or {@code https}
   * @param host     lower case; an IPv6 address in brackets
   * @param port     explicit, or the scheme's default
   * @param basePath the backend's path under which the client's root lies: "" or {@code /app} (no trailing slash)
   */
  public record Url(String scheme, String host, int port, String basePath) {}
}
