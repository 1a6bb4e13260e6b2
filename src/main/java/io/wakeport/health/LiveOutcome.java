package io.wakeport.health;

/**
 * What one live request found at a remote member, as the proxy saw it (for passive checks): the
 * status it answered (504 when it kept silent for {@code response-timeout}), or an error of the
 * member's before any answer (a connection refused, a connect timed out, a connection closed), or
 * {@link #NONE}: nothing to say of the member (the client left, the request was sent again).
 *
 * @param status the answer's status, or 0 without one
 * @param error  what went wrong, or null
 */
public record LiveOutcome(int status, String error) {

  public static final LiveOutcome NONE = new LiveOutcome(0, null);

  public static LiveOutcome answered(int status) {
    return new LiveOutcome(status, null);
  }

  /** The member kept silent: as a 504 (an error under {@code 5xx: true}), yet its connection worked. */
  public static LiveOutcome silent(String why) {
    return new LiveOutcome(504, why);
  }

  /** Nothing of an answer: the member's connection failed. */
  public static LiveOutcome failed(String why) {
    return new LiveOutcome(0, why);
  }
}
