package io.wakeport.tls;

/**
 * Answers {@code /.well-known/acme-challenge/<token>} on the plain listener, which the https
 * redirect leaves alone (RFC 8555 8.3: the HTTP-01 challenge is fetched over port 80). Consulted
 * first, on an event loop: it must not block.
 */
@FunctionalInterface
public interface HttpChallengeResponder {

  /** The path prefix of HTTP-01 challenges. */
  String PREFIX = "/.well-known/acme-challenge/";

  /** The key authorization to answer for {@code token} on {@code host}, or null for a 404. */
  String respond(String host, String token);

  /** No challenges pending: every challenge path is a 404. */
  HttpChallengeResponder NONE = (host, token) -> null;
}
