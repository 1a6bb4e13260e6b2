package io.wakeport.acme;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP-01 challenges in flight: token → key authorization, answered on the plain listener at
 * {@code /.well-known/acme-challenge/<token>} while the ACME server validates. Read from event
 * loops, written by the issuing worker: a concurrent map, no lock.
 */
public final class Http01Tokens {

  public static final String PATH_PREFIX = "/.well-known/acme-challenge/";

  private final Map<String, String> byToken = new ConcurrentHashMap<>();

  void put(String token, String keyAuthorization) {
    byToken.put(token, keyAuthorization);
  }

  void remove(String token) {
    byToken.remove(token);
  }

  /** The key authorization for a request path, if it is a challenge path of a token in flight. */
  public Optional<String> answer(String path) {
    if (path == null || !path.startsWith(PATH_PREFIX)) {
      return Optional.empty();
    }
    return Optional.ofNullable(byToken.get(path.substring(PATH_PREFIX.length())));
  }

  /** The key authorization for {@code token}, or null when no challenge of that token is in flight. */
  public String keyAuthorization(String token) {
    return token == null ? null : byToken.get(token);
  }

  /** How many challenges are waiting for validation now. */
  public int pending() {
    return byToken.size();
  }
}
