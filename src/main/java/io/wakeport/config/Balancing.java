package io.wakeport.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a tenant with several instances picks one: sticky sessions first (as Apache
 * mod_proxy_balancer's {@code stickysession}), then a balancing method for new sessions.
 *
 * @param cookie       session cookie whose value ends in {@code .<route>} (null: none)
 * @param param        URL query or {@code ;name=value} path parameter with the same form (null: none)
 * @param routePattern overrides the separator: group 1 of its first match in the value is the route
 * @param insertCookie wakeport sets {@code <name>=.<route>} itself, for backends that know no routes
 * @param method       how new sessions are spread
 * @param busyTarget   in-flight requests per running instance before a stopped one is started for new sessions
 * @param failover     send a session whose instance cannot start to another (false: 503, as nofailover=On)
 */
public record Balancing(
    String cookie,
    String param,
    Pattern routePattern,
    String insertCookie,
    Method method,
    int busyTarget,
    boolean failover) {

  public enum Method { REQUESTS, BUSYNESS, LATENCY }

  public static Balancing defaults() {
    return new Balancing(null, null, null, null, Method.REQUESTS, 8, true);
  }

  /** The route a session value names, or null. */
  public String routeOf(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    if (routePattern != null) {
      Matcher m = routePattern.matcher(value);
      return m.find() && m.groupCount() >= 1 ? m.group(1) : null;
    }
    int dot = value.lastIndexOf('.');
    return dot < 0 || dot == value.length() - 1 ? null : value.substring(dot + 1);
  }
}
