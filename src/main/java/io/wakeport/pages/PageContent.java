package io.wakeport.pages;

/**
 * What one of wakeport's own pages says, before it is rendered as the built-in page, the
 * operator's page or plain text. Never paths, commands or exception text: a tenant's insides stay
 * in wakeport's log.
 *
 * @param tenant            the tenant's name, or null when the request reached none
 * @param retryAfterSeconds the Retry-After it goes with, or -1 for none
 * @param waiting           how a cold start is going, for the waiting page; null on every other page
 */
public record PageContent(int status, String title, String message, String tenant, String requestId,
    int retryAfterSeconds, StartProgress waiting) {

  /**
   * A cold start seen from its waiting page.
   *
   * @param waitedMillis   since the instance began starting
   * @param expectedMillis how long its previous start took, or -1 when it has none
   * @param refreshSeconds how soon the page reloads itself
   */
  public record StartProgress(long waitedMillis, long expectedMillis, int refreshSeconds) {

    /** Percent done against the previous start (at most 95: a start can be slower this time), or -1. */
    public int percent() {
      if (expectedMillis <= 0) {
        return -1;
      }
      return (int) Math.min(95, Math.max(0, waitedMillis * 100 / expectedMillis));
    }
  }
}
