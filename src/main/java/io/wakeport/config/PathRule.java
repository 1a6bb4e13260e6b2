package io.wakeport.config;

import java.util.List;

/**
 * One of a tenant's {@code rules}: requests whose path starts with {@link #path} are served by
 * another tenant's instances ({@link #tenant}) or by some of this tenant's own ({@link #routes}),
 * as Apache's per-path ProxyPass lines split one site.
 *
 * @param path   the public prefix, starting with {@code /}; one not ending in {@code /} matches whole
 *               segments only ({@code /api} matches {@code /api}, {@code /api/x}, {@code /api;x}, never {@code /apix})
 * @param tenant the configured tenant that serves the matching requests, or null
 * @param routes this tenant's routes that serve them (balanced and stuck among themselves), or empty
 * @param to     the prefix the backend gets instead of {@link #path} ({@code /static/} → {@code /media/}), or null
 */
public record PathRule(String path, String tenant, List<String> routes, String to) {

  public PathRule {
    routes = List.copyOf(routes);
  }
}
