package io.wakeport.frontdoor;

import io.vertx.core.net.HostAndPort;

/**
 * A request target in absolute form ({@code GET http://host:port/path?q HTTP/1.1}): RFC 9112
 * 3.2.2 says its authority, not the Host header, names the site, and a backend gets it in origin
 * form.
 *
 * @param authority the target's host and port
 * @param originForm path and query, {@code /} when the URL has no path
 */
public record AbsoluteTarget(HostAndPort authority, String originForm) {

  /** Null when {@code uri} is not an absolute http(s) URL with a valid authority. */
  public static AbsoluteTarget parse(String uri) {
    int schemeEnd;
    if (uri.regionMatches(true, 0, "http://", 0, 7)) {
      schemeEnd = 7;
    } else if (uri.regionMatches(true, 0, "https://", 0, 8)) {
      schemeEnd = 8;
    } else {
      return null;
    }
    int pathStart = schemeEnd;
    while (pathStart < uri.length() && "/?#".indexOf(uri.charAt(pathStart)) < 0) {
      pathStart++;
    }
    String authority = uri.substring(schemeEnd, pathStart);
    if (authority.isEmpty() || authority.indexOf('@') >= 0) {
      return null; // userinfo has no place in a request target (RFC 9110 4.2.4)
    }
    HostAndPort parsed = HostAndPort.parseAuthority(authority, -1);
    if (parsed == null) {
      return null;
    }
    String rest = uri.substring(pathStart);
    int fragment = rest.indexOf('#');
    if (fragment >= 0) {
      rest = rest.substring(0, fragment);
    }
    if (rest.isEmpty()) {
      rest = "/";
    } else if (rest.charAt(0) == '?') {
      rest = "/" + rest;
    }
    return new AbsoluteTarget(parsed, rest);
  }
}
