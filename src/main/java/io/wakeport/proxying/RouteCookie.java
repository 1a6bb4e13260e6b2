package io.wakeport.proxying;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.List;

/**
 * The route cookie a sticky tenant inserts ({@code insert-cookie}): {@code name=.route}, so
 * {@code StickyRoutes} reads the route after the last dot; {@code Secure} only when the client
 * used TLS ({@link FrontExchange#clientUsedTls}), for a browser never sends a Secure cookie over
 * plain HTTP and the session would be lost.
 */
final class RouteCookie {

  private RouteCookie() {}

  /** Sets the client's route cookie {@code name} to {@code route}, replacing one set for an earlier attempt. */
  static void set(FrontExchange exchange, String name, String route, boolean trustForwarded) {
    MultiMap headers = exchange.request.response().headers();
    if (headers.contains(HttpHeaders.SET_COOKIE)) {
      List<String> others = headers.getAll(HttpHeaders.SET_COOKIE).stream()
          .filter(c -> !c.startsWith(name + "=")).toList();
      headers.remove(HttpHeaders.SET_COOKIE).add("set-cookie", others);
    }
    headers.add(HttpHeaders.SET_COOKIE, name + "=." + route + "; Path=/; HttpOnly; SameSite=Lax"
        + (exchange.clientUsedTls(trustForwarded) ? "; Secure" : ""));
  }
}
