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
  /** Per-path rules of the tenants that have any, by tenant name. */
  private final Map<String, PathRules> rules = new HashMap<>();
  /** Balancers of multi-instance tenants, made on first use (tenants from templates appear at run time). */
  private final Map<String, Balancer> balancers = new java.util.concurrent.ConcurrentHashMap<>();
  private final io.wakeport.config.TemplateTenants templates;
  private final java.util.function.BiPredicate<String, String> departed;
  /** Deepest configured path token, in segments: bounds the lookups per request. */
  private final int maxPathDepth;
  /** The root's own pages, for hosts no tenant serves (a tenant's pages go with the tenant). */
  private final io.wakeport.config.PageTemplates pages;

  /** A table whose template tenants keep a book of their own (nothing runs: for tools and tests of routing alone). */
  public RoutingTable(WakeportConfig config) {
    this(config, null);
  }

  /**
   * @param derived what outlives snapshots about tenants made from templates (their ports, their
   *                admissions, who holds them): the running wakeport's, or null for a book of this table's own
   */
  public RoutingTable(WakeportConfig config, io.wakeport.config.DerivedTenants derived) {
    this(config, derived, (tenant, route) -> false);
  }

  /**
   * @param departed whether a route of a tenant was a member that left at run time (a registered
   *                 one that deregistered or went silent): a session naming it is one whose member
   *                 is down, so the tenant's {@code failover} decides, not a fresh balance
   */
  public RoutingTable(WakeportConfig config, io.wakeport.config.DerivedTenants derived,
      java.util.function.BiPredicate<String, String> departed) {
    this.departed = departed;
    int depth = 0;
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.isTemplate()) {
        continue;
      }
      tenant.hosts().forEach(h -> byHost.put(h, tenant));
      for (String p : tenant.paths()) {
        byPath.put(p, tenant);
        depth = Math.max(depth, (int) p.chars().filter(c -> c == '/').count());
      }
      if (!tenant.rules().isEmpty()) {
        rules.put(tenant.name(), new PathRules(tenant, config.tenants()));
      }
    }
    this.maxPathDepth = depth;
    this.pages = config.pages();
    // Only a config with templates pays for the ports file and the cache.
    this.templates = config.tenants().values().stream().anyMatch(TenantConfig::isTemplate)
        ? derived == null ? new io.wakeport.config.TemplateTenants(config)
            : new io.wakeport.config.TemplateTenants(config, derived)
        : null;
  }

  /** Whether {@code route} of {@code tenant} was a member that left at run time (see the constructor). */
  public boolean departed(TenantConfig tenant, String route) {
    return departed.test(tenant.name(), route);
  }

  /** The root's {@code pages:}, this snapshot's. */
  public io.wakeport.config.PageTemplates pages() {
    return pages;
  }

  /** Tenants made from host patterns, or null when the config has no template. */
  public io.wakeport.config.TemplateTenants templates() {
    return templates;
  }

  /** The balancer of a tenant with several instances (null for single-instance tenants). */
  public Balancer balancer(TenantConfig tenant) {
    if (tenant.instances().size() < 2) {
      return null;
    }
    Balancer balancer = balancers.get(tenant.name());
    if (balancer == null || !balancer.serves(tenant)) {
      balancer = balancers.compute(tenant.name(), (k, b) -> b != null && b.serves(tenant) ? b : new Balancer(tenant));
    }
    return balancer;
  }

  /** The per-path rules of a tenant whose {@code rules} are not empty (null for any other). */
  public PathRules rules(TenantConfig tenant) {
    return rules.get(tenant.name());
  }

  /** Lower case, without a trailing dot: the form hosts are mapped in. */
  public static String normalize(String host) {
    return normalizeHost(host);
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
    String token = pathToken(path);
    return token == null ? null : byPath.get(token);
  }

  /**
   * The configured path token that routes {@code path}: the longest one that is a whole-segment
   * prefix of it ({@code /acme} for {@code /acme}, {@code /acme/x} and {@code /acme;p}), or null.
   */
  public String pathToken(String path) {
    if (maxPathDepth == 0 || path == null) {
      return null;
    }
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
      String token = path.substring(0, ends[k]);
      if (byPath.containsKey(token)) {
        return token;
      }
    }
    return null;
  }

  /** Whether {@code host} alone routes to {@code tenant} (a Host match, which wins over any path). */
  public boolean routesByHost(String host, TenantConfig tenant) {
    return host != null && !byHost.isEmpty() && byHost.get(normalizeHost(host)) == tenant;
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
