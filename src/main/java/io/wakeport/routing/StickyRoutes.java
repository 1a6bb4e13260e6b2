package io.wakeport.routing;

import io.wakeport.config.Balancing;

/**
 * Reads the route a request's session names, as mod_proxy_balancer's {@code stickysession}: first
 * from the URL (a {@code ;name=value} path parameter or a {@code name=value} query parameter),
 * then from the cookie. Pure string work on the request line and Cookie header.
 */
public final class StickyRoutes {

  private StickyRoutes() {}

  /** The route, or null when the request names none. */
  public static String read(Balancing balancing, String path, String query, String cookieHeader) {
    String value = null;
    if (balancing.param() != null) {
      value = pathParam(path, balancing.param());
      if (value == null) {
        value = queryParam(query, balancing.param());
      }
    }
    if (value == null && balancing.cookie() != null) {
      value = cookie(cookieHeader, balancing.cookie());
    }
    if (value == null && balancing.insertCookie() != null) {
      value = cookie(cookieHeader, balancing.insertCookie());
    }
    return balancing.routeOf(value);
  }

  static String pathParam(String path, String name) {
    if (path == null) {
      return null;
    }
    int at = 0;
    while ((at = path.indexOf(';', at)) >= 0) {
      at++;
      if (path.startsWith(name, at) && path.length() > at + name.length() && path.charAt(at + name.length()) == '=') {
        int start = at + name.length() + 1;
        int end = start;
        while (end < path.length() && path.charAt(end) != ';' && path.charAt(end) != '/') {
          end++;
        }
        return path.substring(start, end);
      }
    }
    return null;
  }

  static String queryParam(String query, String name) {
    if (query == null) {
      return null;
    }
    int at = 0;
    while (at < query.length()) {
      int end = query.indexOf('&', at);
      if (end < 0) {
        end = query.length();
      }
      if (query.startsWith(name, at) && at + name.length() < end && query.charAt(at + name.length()) == '=') {
        return query.substring(at + name.length() + 1, end);
      }
      at = end + 1;
    }
    return null;
  }

  static String cookie(String header, String name) {
    if (header == null) {
      return null;
    }
    int at = 0;
    while (at < header.length()) {
      while (at < header.length() && (header.charAt(at) == ' ' || header.charAt(at) == ';')) {
        at++;
      }
      int end = header.indexOf(';', at);
      if (end < 0) {
        end = header.length();
      }
      if (header.startsWith(name, at) && at + name.length() < end && header.charAt(at + name.length()) == '=') {
        String value = header.substring(at + name.length() + 1, end).trim();
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
            ? value.substring(1, value.length() - 1) : value;
      }
      at = end + 1;
    }
    return null;
  }
}
