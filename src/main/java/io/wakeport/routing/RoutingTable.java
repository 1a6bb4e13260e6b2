package io.wakeport.routing;

import io.wakeport.config.TenantConfig;
import io.wakeport.config.WakeportConfig;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which tenant a request belongs to: built once per config snapshot, then read by every event loop
 * without locks. A Host match wins over a path match; both are hash lookups, never scans.
 */
public final class RoutingTable {

  private final Map<String, TenantConfig> byHost = new HashMap<>();
  private final Map<String, TenantConfig> byPath = new HashMap<>();
  private final Map<String, Balancer> balancers = new HashMap<>();
  /** Deepest configured path token, in segments: bounds the lookups per request. */
  private final int maxPathDepth;

  public RoutingTable(WakeportConfig config) {
    int depth = 0;
    for (TenantConfig tenant : config.tenants().values()) {
      tenant.hosts().forEach(h -> byHost.put(h, tenant));
      if (tenant.instances().size() > 1) {
        balancers.put(tenant.name(), new Balancer(tenant));
      }
      for (String p : tenant.paths()) {
        byPath.put(p, tenant);
        depth = Math.max(depth, (int) p.chars().filter(c -> c == '/').count());
      }
    }
    this.maxPathDepth = depth;
  }

  /** The balancer of a tenant with several instances (null for single-instance tenants). */
  public Balancer balancer(TenantConfig tenant) {
    return balancers.get(tenant.name());
  }

  /**
   * @param host the request's host without port, or null when the request named none
   * @param path the request path without query
   * @return the tenant, or null when none matches
   */
  public TenantConfig route(String host, String path) {
    if (host != null && !byHost.isEmpty()) {
      TenantConfig tenant = byHost.get(normalizeHost(host));
      if (tenant != null) {
        return tenant;
      }
    }
    return maxPathDepth == 0 || path == null ? null : byPath(path);
  }

  /** Longest configured token that is a whole-segment prefix of {@code path}: /acme matches /acme and /acme/x. */
  private TenantConfig byPath(String path) {
    int[] ends = new int[maxPathDepth];
    int found = 0;
    int len = path.length();
    for (int i = 1; i <= len && found < maxPathDepth; i++) {
      if (i == len || path.charAt(i) == '/' || path.charAt(i) == ';') {
        ends[found++] = i;
        if (i < len && path.charAt(i) == ';') break;
      }
    }
    for (int k = found - 1; k >= 0; k--) {
      TenantConfig tenant = byPath.get(path.substring(0, ends[k]));
      if (tenant != null) {
        return tenant;
      }
    }
    return null;
  }

  private static String normalizeHost(String host) {
    String h = host;
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (int i = 0; i < h.length(); i++) {
      if (Character.isUpperCase(h.charAt(i))) {
        return h.toLowerCase(Locale.ROOT);
      }
    }
    return h;
  }
}
