package io.wakeport.tls;

/**
 * Where the plain listener sends a request once https is on: the same host and target on the https
 * port (RFC 9110 15.4.9, 308 keeps the method and body), except HTTP-01 challenges.
 */
public final class HttpsRedirect {

  private HttpsRedirect() {}

  /** Whether {@code path} (origin form) is an ACME HTTP-01 challenge, which stays on plain HTTP. */
  public static boolean isChallenge(String path) {
    return path.startsWith(HttpChallengeResponder.PREFIX) && path.length() > HttpChallengeResponder.PREFIX.length();
  }

  /** The challenge's token: the path's last segment, without a query. */
  public static String token(String path) {
    String rest = path.substring(HttpChallengeResponder.PREFIX.length());
    int query = rest.indexOf('?');
    return query < 0 ? rest : rest.substring(0, query);
  }

  /**
   * {@code https://host[:port]/target}: {@code host} as the client named it, in lower case (without
   * its port; an IPv6 literal keeps its brackets), the port left out when it is 443.
   */
  public static String location(String host, int httpsPort, String originTarget) {
    host = host.toLowerCase(java.util.Locale.ROOT);
    String authority = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    return "https://" + authority + (httpsPort == 443 ? "" : ":" + httpsPort)
        + (originTarget.startsWith("/") ? originTarget : "/");
  }
}
