package io.wakeport.routing;

import io.wakeport.config.PathRule;
import io.wakeport.config.TenantConfig;
import io.wakeport.proxying.PathMapping;
import java.util.List;
import java.util.Map;

/**
 * One tenant's {@code rules}, resolved against a config snapshot: which tenant and which of its
 * instances serve a path, and what path they get. Built with the {@link RoutingTable}; matching
 * is a scan of a few prefixes with {@code startsWith}, allocating nothing.
 */
public final class PathRules {

  /**
   * A rule ready to dispatch by.
   *
   * @param tenant   who serves the path: the rule's tenant, or the tenant itself for a subset of its routes
   * @param balancer for a subset of the tenant's own routes, the balancer choosing among them only;
   *                 null when the rule names another tenant (served as that tenant serves its own requests)
   * @param mapping  the prefix the backend gets instead of the public one, or null for the path unchanged
   */
  public record Rule(String prefix, TenantConfig tenant, Balancer balancer, PathMapping mapping) {

    /** {@code path} starts with the prefix; one not ending in '/' only as whole segments (/api: not /apix). */
    boolean matches(String path) {
      if (!path.startsWith(prefix)) {
        return false;
      }
      int end = prefix.length();
      if (end == path.length() || prefix.charAt(end - 1) == '/') {
        return true;
      }
      char next = path.charAt(end);
      return next == '/' || next == ';';
    }
  }

  /** Longest prefix first, so the first match is the longest. */
  private final Rule[] rules;

  PathRules(TenantConfig tenant, Map<String, TenantConfig> tenants) {
    List<PathRule> configured = tenant.rules();
    rules = new Rule[configured.size()];
    for (int i = 0; i < rules.length; i++) {
      PathRule rule = configured.get(i);
      PathMapping mapping = rule.to() == null ? null : new PathMapping(rule.path(), rule.to());
      if (rule.tenant() != null) {
        rules[i] = new Rule(rule.path(), tenants.get(rule.tenant()), null, mapping);
      } else {
        long members = 0;
        for (String route : rule.routes()) {
          members |= 1L << tenant.instances().indexOf(tenant.instance(route));
        }
        rules[i] = new Rule(rule.path(), tenant, new Balancer(tenant, members), mapping);
      }
    }
  }

  /** The rule for {@code path} (the longest matching prefix), or null when none matches. */
  public Rule match(String path) {
    for (Rule rule : rules) {
      if (rule.matches(path)) {
        return rule;
      }
    }
    return null;
  }

  /**
   * Whether a backend might read {@code path} as another path than the one the rules were matched
   * on: a {@code .} or {@code ..} segment (also as {@code ..;x}, which some servers take for
   * {@code ..}), a backslash, or a percent-encoded slash, backslash or unreserved character
   * ({@code %2e}, {@code %2F}, {@code %61}), which backends decode and rules never match. A tenant
   * with rules refuses such paths, so {@code /static/../admin} cannot reach the static pool as
   * {@code /admin}, nor {@code /x/../api/} the api routes' pool as anything but what it says.
   */
  public static boolean ambiguous(String path) {
    int segment = 0;
    int dots = 0;
    boolean params = false;
    int n = path.length();
    for (int i = 0; i < n; i++) {
      char c = path.charAt(i);
      if (c == '/') {
        if (dots > 0 && dots == segment && dots <= 2) {
          return true;
        }
        segment = 0;
        dots = 0;
        params = false;
      } else if (c == '\\') {
        return true;
      } else if (c == '%' && i + 2 < n && decodesToPlain(path.charAt(i + 1), path.charAt(i + 2))) {
        return true;
      } else if (c == ';') {
        params = true;
      } else if (!params) {
        segment++;
        if (c == '.') {
          dots++;
        }
      }
    }
    return dots > 0 && dots == segment && dots <= 2;
  }

  /** {@code %hl} stands for '/', '\' or an unreserved character (RFC 3986: letters, digits, -._~). */
  private static boolean decodesToPlain(char h, char l) {
    int high = Character.digit(h, 16);
    int low = Character.digit(l, 16);
    if (high < 0 || low < 0) {
      return false;
    }
    char c = (char) (high * 16 + low);
    return c == '/' || c == '\\' || c == '-' || c == '.' || c == '_' || c == '~'
        || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
  }
}
