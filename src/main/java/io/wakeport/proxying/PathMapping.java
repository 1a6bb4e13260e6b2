package io.wakeport.proxying;

/**
 * A public path prefix and the prefix the backend knows the same resources under: {@code /legacy}
 * → {@code ""} for a tenant whose app does not know its prefix ({@code strip-prefix}),
 * {@code /static/} → {@code /media/} for a per-path rule. Requests are mapped on their way to the
 * backend ({@link #toBackend}); URLs in answers on their way back ({@link #toPublic}), as Apache's
 * ProxyPass and ProxyPassReverse pair do.
 *
 * @param publicPrefix  the prefix the client used, starting with {@code /}
 * @param backendPrefix what replaces it: empty, or starting with {@code /}
 */
public record PathMapping(String publicPrefix, String backendPrefix) {

  public PathMapping {
    if (!publicPrefix.startsWith("/")) {
      throw new IllegalArgumentException("public prefix must start with /: " + publicPrefix);
    }
    if (!backendPrefix.isEmpty() && !backendPrefix.startsWith("/")) {
      throw new IllegalArgumentException("backend prefix must be empty or start with /: " + backendPrefix);
    }
  }

  /**
   * The origin-form target the backend gets for the client's {@code target}, which the caller has
   * matched against {@link #publicPrefix}; the query and what follows the prefix are kept.
   */
  public String toBackend(String target) {
    if (!target.startsWith(publicPrefix)) {
      return target;
    }
    String rest = target.substring(publicPrefix.length());
    String mapped = backendPrefix + rest;
    if (mapped.isEmpty() || mapped.charAt(0) != '/') {
      // "/legacy" or "/legacy?x" with the prefix stripped: the backend's root.
      mapped = "/" + mapped;
    }
    return mapped;
  }

  /**
   * The path the client knows for a backend's absolute {@code path} (a Location's or a cookie's),
   * or {@code path} itself when it lies outside {@link #backendPrefix}. With a stripped prefix, a
   * path already under the public prefix is taken as written by an app that honours
   * X-Forwarded-Prefix, and kept: {@code /legacy/login} stays, it does not become
   * {@code /legacy/legacy/login}.
   */
  public String toPublic(String path) {
    if (backendPrefix.isEmpty()) {
      if (!path.startsWith("/") || underPublicPrefix(path)) {
        return path;
      }
      // The backend's whole space lies under the public prefix: "/" is the prefix's root.
      return publicPrefix.endsWith("/") ? publicPrefix + path.substring(1) : publicPrefix + path;
    }
    if (!path.startsWith(backendPrefix)) {
      return path;
    }
    return publicPrefix + path.substring(backendPrefix.length());
  }

  /** {@code /legacy}, {@code /legacy/…}, {@code /legacy?…}, {@code /legacy;…} for the prefix {@code /legacy}. */
  private boolean underPublicPrefix(String path) {
    String prefix = publicPrefix.endsWith("/") ? publicPrefix.substring(0, publicPrefix.length() - 1) : publicPrefix;
    if (prefix.isEmpty() || !path.startsWith(prefix)) {
      return false;
    }
    return path.length() == prefix.length() || "/?#;".indexOf(path.charAt(prefix.length())) >= 0;
  }
}
